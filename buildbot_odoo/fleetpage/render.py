"""The Fleet page's HTML: a fragment the web UI places inside its own page.

``buildbot-wsgi-dashboards`` fetches the fragment and inserts it in the UI's
React application, which brings Bootstrap and Buildbot's own CSS: cells use the
UI's ``results_*`` classes, so colours match the builders and builds pages.
The few rules of our own are scoped under ``.bbo-fleet`` (the dashboard's CSS
is shared with the whole application once loaded), and repeat the result
colours so the fragment reads alone too.  Links are the UI's own routes
(``#/builders/ID/builds/N``).  Every text is escaped: names, options and
reasons come from configuration files.

``data-*`` attributes name what each element shows (``data-build``,
``data-combo``, ``data-result``, ``data-worker``, ``data-state``), for tests
and for users' own scripts.
"""

from __future__ import annotations

from html import escape

from .model import Cell, Column, FleetPage, MatrixGroup, Row, WorkerRow

__all__ = ["render_denied", "render_page"]

_STYLE = """\
<style>
.bbo-fleet table { border-collapse: collapse; margin-bottom: 1em; }
.bbo-fleet th, .bbo-fleet td { border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; }
.bbo-fleet thead th { background: #f3f3f3; white-space: nowrap; }
.bbo-fleet .bbo-where, .bbo-fleet .bbo-why { color: #555; font-size: 80%; display: block; }
.bbo-fleet td.bbo-cell { min-width: 7em; }
.bbo-fleet td.bbo-cell a { color: inherit; font-weight: bold; }
.bbo-fleet td.bbo-excluded { background: repeating-linear-gradient(45deg, #f4f4f4, #f4f4f4 4px,
  #e6e6e6 4px, #e6e6e6 8px); color: #666; }
.bbo-fleet td.bbo-not-targeted { color: #999; }
.bbo-fleet td.bbo-no-worker { background: #fff3cd; }
.bbo-fleet .results_SUCCESS { background-color: #8d4; }
.bbo-fleet .results_WARNINGS { background-color: #fa3; }
.bbo-fleet .results_FAILURE { background-color: #e88; }
.bbo-fleet .results_SKIPPED { background-color: #ade; }
.bbo-fleet .results_EXCEPTION { background-color: #c6c; }
.bbo-fleet .results_RETRY, .bbo-fleet .results_CANCELLED { background-color: #ecc; }
.bbo-fleet .results_PENDING { background-color: #e7d100; }
.bbo-fleet .results_UNKNOWN { background-color: #eee; }
.bbo-fleet .bbo-state-connected { background-color: #8d4; }
.bbo-fleet .bbo-state-paused { background-color: #fa3; }
.bbo-fleet .bbo-state-disconnected { background-color: #e88; }
.bbo-fleet .bbo-state-unknown { background-color: #eee; }
.bbo-fleet ul.bbo-caps { margin: 0; padding-left: 1.2em; }
</style>
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def render_page(page: FleetPage, title: str = "Fleet") -> str:
    """The whole fragment for ``page``."""
    out: list[str] = [f'<div class="bbo-fleet container-fluid">\n{_STYLE}<h2>{_e(title)}</h2>\n']
    out.append(_summary(page))
    out.append('<section id="bbo-matrix"><h3>Build matrix</h3>\n')
    if not page.groups:
        out.append("<p>No build in the manifests.</p>\n")
    for group in page.groups:
        _group(out, group)
    out.append("</section>\n")
    _unassigned(out, page)
    _workers(out, page.workers)
    _idle(out, page.idle_workers)
    out.append("</div>\n")
    return "".join(out)


def render_denied(missing: list[tuple[str, str]], title: str = "Fleet") -> str:
    """What a user who may not read what the page shows gets: which reads were refused."""
    items = "".join(f"<li><code>{_e(path)}</code>: {_e(why)}</li>" for path, why in missing)
    return (f'<div class="bbo-fleet container-fluid"><h2>{_e(title)}</h2>\n'
            "<p>The Fleet page shows workers, builders and builds; the master's authorization "
            f"rules do not let you read:</p><ul>{items}</ul>\n"
            "<p>Log in with an account that may.</p></div>\n")


def _summary(page: FleetPage) -> str:
    connected = sum(w.state in ("connected", "paused") for w in page.workers)
    builders = sum(c.kind == "builder" for g in page.groups for r in g.rows for c in r.cells)
    builds = sum(len(g.rows) for g in page.groups)
    counts = (_count(len(page.workers), "worker"), f" ({connected} connected), ",
              _count(builds, "build"), ", ", _count(builders, "builder"), "; ",
              _count(len(page.unassigned), "build"), " without a builder, ",
              _count(len(page.idle_workers), "idle worker"), ".")
    return f'<p class="bbo-summary">{"".join(counts)}</p>\n'


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _group(out: list[str], group: MatrixGroup) -> None:
    split = (" &times; ".join(_e(a) for a in group.axes) if group.axes
             else "nothing (one builder per build)")
    out.append(f'<h4>Split by {split}</h4>\n<table class="table table-sm bbo-matrix" '
               f'data-axes="{_e(" ".join(group.axes))}"><thead><tr><th>Build</th>')
    for column in group.columns:
        out.append(f"<th>{_e(column.label)}</th>")
    out.append("</tr></thead>\n<tbody>\n")
    for row in group.rows:
        _row(out, row, group.columns)
    out.append("</tbody></table>\n")


def _row(out: list[str], row: Row, columns: list[Column]) -> None:
    build = _e(row.build)
    out.append(f'<tr data-build="{build}"><th scope="row">{build}'
               f'<span class="bbo-where">{_e(row.file)}:{row.line}</span>')
    if row.note:
        out.append(f'<span class="bbo-why">no builder: {_e(row.note)}</span>')
    trigger = "forced only" if row.trigger == "-" else f"by {row.trigger}"
    out.append(f'<span class="bbo-where bbo-trigger" data-trigger="{_e(row.trigger)}">'
               f'{_e(trigger)}</span>')
    out.append("</th>")
    for column, cell in zip(columns, row.cells, strict=True):
        out.append(_cell(cell, build, _e(column.label)))
    out.append("</tr>\n")


def _cell(cell: Cell, build: str, combo: str) -> str:
    attrs = f'data-build="{build}" data-combo="{combo}" data-kind="{cell.kind}"'
    if cell.kind == "builder":
        return _builder_cell(cell, attrs)
    reason = _e(cell.reason)
    if cell.kind == "excluded":
        return f'<td class="bbo-cell bbo-excluded" {attrs} title="{reason}">excluded</td>'
    if cell.kind == "no-worker":
        return (f'<td class="bbo-cell bbo-no-worker" {attrs} title="{reason}">no worker'
                f'<span class="bbo-why">{reason}</span></td>')
    return f'<td class="bbo-cell bbo-not-targeted" {attrs} title="{reason}">&ndash;</td>'


def _builder_cell(cell: Cell, attrs: str) -> str:
    name = _e(cell.builder)
    title = f"{name} on {_e(_names(cell.workers))}"
    if cell.builderid is None:
        return (f'<td class="bbo-cell results_UNKNOWN" {attrs} data-result="UNKNOWN" '
                f'title="{title}">{name}<span class="bbo-why">not on the master yet</span></td>')
    last = cell.last
    if last is None:
        return (f'<td class="bbo-cell results_UNKNOWN" {attrs} data-result="NONE" '
                f'data-builder="{name}" title="{title}"><a href="#/builders/{cell.builderid}">'
                f'no build yet</a><span class="bbo-why">{name}</span></td>')
    result = last.result_name
    if last.state_string:
        title += f": {_e(last.state_string)}"
    return (f'<td class="bbo-cell results_{result}" {attrs} data-result="{result}" '
            f'data-builder="{name}" title="{title}">'
            f'<a href="#/builders/{cell.builderid}/builds/{last.number}">{result.lower()} '
            f'#{last.number}</a><span class="bbo-why">{name}</span></td>')


def _names(workers: tuple[str, ...], shown: int = 5) -> str:
    """A few worker names: a builder of a big fleet may run on hundreds."""
    text = ", ".join(workers[:shown])
    return text + (f" and {len(workers) - shown} more" if len(workers) > shown else "")


def _unassigned(out: list[str], page: FleetPage) -> None:
    out.append('<section id="bbo-unassigned"><h3>Builds without a builder</h3>\n')
    if not page.unassigned:
        out.append("<p>Every build has at least one builder.</p>\n")
    else:
        out.append("<ul>\n")
        for item in page.unassigned:
            out.append(f'<li data-build="{_e(item.build)}"><strong>{_e(item.build)}</strong> '
                       f"({_e(item.file)}:{item.line}): {_e(item.reason)}</li>\n")
        out.append("</ul>\n")
    out.append("</section>\n")


def _workers(out: list[str], workers: list[WorkerRow]) -> None:
    out.append('<section id="bbo-workers"><h3>Workers</h3>\n<table class="table table-sm '
               'bbo-workers"><thead><tr><th>Worker</th><th>State</th><th>Capabilities</th>'
               "<th>Reserved for</th><th>max_builds</th><th>Priority</th><th>Builders</th>"
               "</tr></thead>\n<tbody>\n")
    for worker in workers:
        name = _e(worker.name)
        out.append(f'<tr data-worker="{name}"><th scope="row">{name}<span class="bbo-where">'
                   f"{_e(worker.file)}:{worker.line}</span></th>"
                   f'<td class="bbo-state-{worker.state}" data-state="{worker.state}">'
                   f"{worker.state}</td><td><ul class=\"bbo-caps\">")
        for cap in worker.capabilities:
            text = cap.name if cap.version is None else f"{cap.name} {cap.version}"
            options = ", ".join(f"{k}={v}" for k, v in cap.options)
            out.append(f"<li>{_e(text)}" + (f" <small>({_e(options)})</small>" if options else "")
                       + "</li>")
        reserved = _e(" ".join(worker.reserved_for)) or "&ndash;"
        max_builds = "&ndash;" if worker.max_builds is None else worker.max_builds
        builders = f"{len(worker.builders)}" if worker.builders else "none"
        out.append(f"</ul></td><td>{reserved}</td><td>{max_builds}</td>"
                   f"<td>{_e(f'{worker.priority:g}')}</td><td>{builders}</td></tr>\n")
    out.append("</tbody></table></section>\n")


def _idle(out: list[str], idle: list[WorkerRow]) -> None:
    out.append('<section id="bbo-idle"><h3>Idle workers</h3>\n')
    if not idle:
        out.append("<p>Every worker has at least one builder.</p>\n")
    else:
        out.append("<ul>\n")
        for worker in idle:
            out.append(f'<li data-worker="{_e(worker.name)}"><strong>{_e(worker.name)}</strong> '
                       f"({_e(worker.file)}:{worker.line}): {_e(worker.idle_reason)}</li>\n")
        out.append("</ul>\n")
    out.append("</section>\n")
