"""``buildbot-odoo migrate``: a master directory written for anybox.buildbot.odoo, in
today's spellings.

The files are edited line by line, never re-serialised: comments, blank lines,
option order and indentation stay as the user wrote them; an old option line is
renamed in place, rewritten, or removed, and an option that must be added is
inserted at the end of its section.  What each old spelling becomes comes from
:mod:`buildbot_odoo.config.legacy`, the table the loaders read old files with,
so ``migrate`` writes what ``check`` already understood.

Three passes over the manifests:

1. *local*: each old option line is rewritten where it is written (in
   ``[DEFAULT]``, in a parent section or in a build);
2. *semantic*: the builds are loaded from the old text (through the table)
   and from the new one; any option whose value differs -- conversions that
   depend on other options (``doc.upload-root``, archive builds reading
   ``packaging.root-dir``) -- is written in the build's own section;
3. *precedence*: where ``[DEFAULT]`` wins over an inherited value (and the
   other order would not), the value is written in the section itself, so the
   file means the same whichever order a reader expects.

Plus ``slaves.cfg`` renamed ``workers.cfg``, the ``python`` capability options
that named an interpreter (``bin=python2.6``, ``venv=DIR``: today ``bin`` is a
directory put first on ``PATH`` and the interpreter is the manifest's
``bootstrap-python``, written in the builds using the capability), the
auto-watch files of the old list format converted, and the imports of
``master.cfg``.  Plain Python: no Buildbot import.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .capability.options import legacy_python_option
from .capability.versions import VersionFilter
from .config import legacy, values
from .config.ini import DEFAULT, IniDocument, IniSection, parse_ini
from .config.manifest import (
    BUILTIN_POST_BUILDOUT_STEPS,
    BuildSpec,
    ManifestLoader,
    canonical_option,
)
from .errors import Problems
from .watching.files import FORMAT, WATCH_DIR, legacy_watch_sources

DEFAULT_MANIFEST = "buildouts/MANIFEST.cfg"
DEFAULT_WORKERS = "workers.cfg"
OLD_WORKERS = "slaves.cfg"
MASTER_CFG = "master.cfg"
MAX_PASSES = 5
#: old import -> today's, in master.cfg
IMPORTS = (
    (re.compile(r"^(\s*)from\s+anybox\.buildbot\.(?:odoo|openerp)(?:\.configurator)?\s+import\s+"),
     r"\1from buildbot_odoo import "),
)
#: master.cfg keyword arguments of the original's API, and today's
KEYWORDS = (("slaves_path=", "workers_path="),)
#: Buildbot 0.8/0.9's port setting (the original's sample master.cfg), and Buildbot 4's
PORTNUM = (re.compile(r"""^(\s*)(\w+)\[(['"])(?:worker|slave)Portnum\3\]\s*=\s*(\S+?)\s*$"""),
           r"\1\2['protocols'] = {'pb': {'port': \4}}")
#: what Buildbot 4 no longer has, in master.cfg lines of the original's era, and what to do
GONE_IN_BUILDBOT_4 = (
    (re.compile(r"\bbuildbot\.status\b|\bWebStatus\(|\[['\"]status['\"]\]"),
     "Buildbot 4 has no status targets (buildbot.status, WebStatus, c['status']): the web UI "
     "is c['www'] and notifications are c['services'] reporters; take them from the "
     "master.cfg of 'buildbot-odoo init' and remove this line"),
    (re.compile(r"\bbuildbot\.buildslave\b|\bBuildSlave\("),
     "Buildbot 4 has no buildslave: buildbot-odoo makes the workers from workers.cfg; remove "
     "this line"),
    (re.compile(r"^\s*(?:revision|repository|project|branch)\s*=\s*\w*Parameter\("),
     "Buildbot 4's ForceScheduler takes revision, repository, project and branch inside "
     "'codebases=[util.CodebaseParameter(\"\", revision=..., repository=..., project=..., "
     "branch=...)]', not as its own keywords"),
)


@dataclass
class Rewrite:
    """One file: its text before and after, and where the new text goes."""

    path: Path
    shown: str
    old: str
    new: str
    target: Path | None = None  # another name (slaves.cfg -> workers.cfg)

    @property
    def changed(self) -> bool:
        return self.old != self.new or (self.target is not None and self.target != self.path)

    @property
    def target_shown(self) -> str:
        """The name the file has after the rewrite, as messages show it."""
        if self.target is None or self.target == self.path:
            return self.shown
        return str(Path(self.shown).with_name(self.target.name))

    def diff(self) -> str:
        target = self.target_shown
        text = "".join(difflib.unified_diff(
            self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
            fromfile=f"a/{self.shown}", tofile=f"b/{target}"))
        if not text and target != self.shown:  # renamed, unchanged
            text = f"--- a/{self.shown}\n+++ b/{target}\n"
        return text

    def write(self) -> None:
        destination = self.target or self.path
        destination.write_text(self.new, encoding="utf-8")
        if destination != self.path:
            self.path.unlink()


@dataclass
class Migration:
    """What ``migrate`` would change, and what it could not (``problems``)."""

    directory: Path
    rewrites: list[Rewrite] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)

    @property
    def changes(self) -> list[Rewrite]:
        return [r for r in self.rewrites if r.changed]

    def diff(self) -> str:
        return "".join(r.diff() for r in self.changes)

    def write(self) -> None:
        for rewrite in self.changes:
            rewrite.write()


# --------------------------------------------------------------------------
# editing an INI file's lines


class IniText:
    """An INI file's lines, edited in place.

    Edits are planned on one parse and applied from the bottom of the file up
    (:meth:`apply`): an edit never moves the lines of one above it, so one
    parse serves a whole pass, whatever the size of the file.
    """

    def __init__(self, text: str, shown: str):
        self.lines = text.splitlines(keepends=True)
        self.shown = shown
        self.newline = "\r\n" if "\r\n" in text else "\n"
        if self.lines and not self.lines[-1].endswith(("\n", "\r")):
            self.lines[-1] += self.newline

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def document(self) -> IniDocument:
        return parse_ini(self.text, self.shown, Problems())

    def sections(self) -> list[IniSection]:
        doc = self.document()
        return ([doc.defaults] if doc.defaults is not None else []) + list(doc.sections.values())

    def section(self, name: str) -> IniSection | None:
        doc = self.document()
        return doc.defaults if name == DEFAULT else doc.sections.get(name)

    @staticmethod
    def extent(section: IniSection, option: str) -> tuple[int, int]:
        """0-based ``[start, end)`` of the option line and its value's lines."""
        start = section.line_of(option) - 1
        last = max([start + 1, *section.value_lines.get(option, [])])
        return start, last

    @staticmethod
    def end_of(section: IniSection) -> int:
        """Where a new option of ``section`` goes: after its last option's lines."""
        ends = [IniText.extent(section, option)[1] for option in section.options]
        return max(ends) if ends else section.line

    def render(self, key: str, value: str) -> list[str]:
        first, *rest = value.split("\n") if value else [""]
        indent = " " * (len(key) + 3)
        return ([f"{key} = {first}".rstrip() + self.newline]
                + [f"{indent}{line}{self.newline}" if line.strip() else self.newline
                   for line in rest])

    def renamed(self, section: IniSection, old: str, new: str) -> list[str]:
        """The option's lines with its name changed, its value's lines as written."""
        start, end = self.extent(section, old)
        first = re.sub(rf"^{re.escape(old)}(?=\s*[=:])", new, self.lines[start], count=1)
        return [first, *self.lines[start + 1:end]]

    def apply(self, edits: Iterable[tuple[int, int, list[str]]]) -> None:
        """Replace each ``[start, end)`` by its lines; edits must not overlap.

        Applied from the bottom up; insertions at one place (``start == end``)
        end up in the order given.
        """
        ordered = sorted(enumerate(edits), key=lambda item: (item[1][0], item[0]), reverse=True)
        for _, (start, end, lines) in ordered:
            self.lines[start:end] = lines

    def set_options(self, writes: Iterable[tuple[str, str, str]]) -> None:
        """``(section, key, value)``: each key's lines replaced, or added at its section's end."""
        doc = self.document()
        edits = []
        for name, key, value in writes:
            section = doc.defaults if name == DEFAULT else doc.sections[name]
            if key in section.options:
                edits.append((*self.extent(section, key), self.render(key, value)))
            else:
                at = self.end_of(section)
                edits.append((at, at, self.render(key, value)))
        self.apply(edits)


# --------------------------------------------------------------------------
# pass 1: each old option where it is written


def _views(doc: IniDocument) -> list[tuple[IniSection, dict[str, str]]]:
    """Each section with the options it is read with in its file: [DEFAULT]'s, its own."""
    defaults = doc.defaults.options if doc.defaults is not None else {}
    found = [(doc.defaults, dict(defaults))] if doc.defaults is not None else []
    return found + [(s, {**defaults, **s.options}) for s in doc.sections.values()]


def migrate_locally(text: IniText, kind: str, problems: Problems,
                    refused: Iterable[legacy.Finding] = ()) -> None:
    """Rewrite every old option line that depends on its own section only.

    The lines of other old options are removed (pass 2 writes their effect
    where it applies), except ``refused`` ones: the user decides.
    """
    keep = {(f.where.file, f.where.section, f.option) for f in refused}
    _move_inline_comments(text)
    _replace_references(text)
    edits: list[tuple[int, int, list[str]]] = []
    for section, view in _views(text.document()):
        edits += _section_edits(text, section, view, kind, problems, keep)
    text.apply(edits)


def _section_edits(text: IniText, section: IniSection, view: dict[str, str], kind: str,
                   problems: Problems, keep: set) -> list[tuple[int, int, list[str]]]:
    """The edits of one section's old options; what old defaults did is added after the
    line that brings it, where no line of the section sets it once migrated."""
    planned: list[tuple[str, dict[str, str], dict[str, str]]] = []
    final = set(section.options)
    edits = []
    for key, value in section.options.items():
        rule = legacy.old_option(kind, key)
        change = rule.convert(value, view) if rule else None
        if change is None:
            continue
        where = {"file": text.shown, "line": section.line_of(key), "section": section.name,
                 "option": key}
        if change.refused:
            problems.error(change.message, **where)
            continue
        if not rule.local:
            if key not in change.options and (text.shown, section.name, key) not in keep:
                edits.append((*text.extent(section, key), []))  # pass 2 writes its effect
                final.discard(key)
            continue
        clash = [k for k, v in change.options.items()
                 if k != key and k in section.options and section.options[k] != v]
        if clash:
            problems.error(f"{key!r} and {clash[0]!r} are both given, with different values: "
                           f"keep only {clash[0]!r}", **where)
            continue
        new = {k: v for k, v in change.options.items() if k == key or k not in section.options}
        final.discard(key)
        final.update(new)
        planned.append((key, new, change.defaults))
    for key, new, defaults in planned:
        lines: list[str] = []
        for index, (new_key, new_value) in enumerate(new.items()):
            if index == 0 and new_key != key and new_value == section.options[key]:
                lines += text.renamed(section, key, new_key)
            else:
                lines += text.render(new_key, new_value)
        for default_key, default_value in defaults.items():
            if default_key not in final:
                final.add(default_key)
                lines += text.render(default_key, default_value)
        edits.append((*text.extent(section, key), lines))
    return edits


def _move_inline_comments(text: IniText) -> None:
    """``key = value ; comment`` becomes ``; comment`` above ``key = value`` (what Python
    2's ConfigParser read; :data:`legacy.INLINE_COMMENT_MESSAGE`)."""
    edits = []
    for section in text.sections():
        for key in section.options:
            index = section.line_of(key) - 1
            match = _OPTION_LINE.match(text.lines[index])
            start = legacy.inline_comment_start(match["value"]) if match else None
            if match is None or start is None:
                continue
            comment = match["value"][start:].strip()
            value = match["value"][:start].rstrip()
            edits.append((index, index + 1, [comment + text.newline,
                                             (match["head"] + value).rstrip() + text.newline]))
    text.apply(edits)


_OPTION_LINE = re.compile(r"^(?P<head>[^=:]*[=:])(?P<value>.*?)(?P<end>\r?\n?)$")


def _replace_references(text: IniText) -> None:
    """``%(name)s`` references, which the original's ConfigParser replaced, replaced."""
    edits = []
    for section, view in _views(text.document()):
        for key, value in section.options.items():
            new = legacy.interpolate(value, view)
            if new is not None:
                edits.append((*text.extent(section, key), text.render(key, new)))
    text.apply(edits)


# --------------------------------------------------------------------------
# passes 2 and 3: what each build resolves to


def _normalised(value: str) -> str:
    return "\n".join(line.strip() for line in value.splitlines() if line.strip())


def _load(texts: dict[Path, IniText], steps: list[str], read_legacy: bool = True
          ) -> tuple[ManifestLoader, dict[str, BuildSpec]]:
    loader = ManifestLoader(Problems(), steps, read_legacy=read_legacy)
    builds = loader.load_documents([(path, text.document()) for path, text in texts.items()])
    return loader, {b.name: b for b in builds}


def _step_names(texts: Iterable[IniText]) -> list[str]:
    """Every step name the manifests use, so that custom subfactories load too."""
    names = list(BUILTIN_POST_BUILDOUT_STEPS)
    rule = legacy.old_option(legacy.MANIFEST, "post-buildout-steps")
    assert rule is not None
    for text in texts:
        for section in text.sections():
            value = section.options.get("post-buildout-steps", "")
            converted = rule.convert(value, {})
            names += (converted.options["post-buildout-steps"] if converted else value).split()
    return list(dict.fromkeys(names))


def migrate_manifests(texts: dict[Path, IniText], problems: Problems) -> dict[str, BuildSpec]:
    """Rewrite the manifests' texts; the builds as the old text meant them."""
    steps = _step_names(texts.values())
    referenced = _referenced(texts.values())
    wanted_loader, wanted = _load({p: IniText(t.text, t.shown) for p, t in texts.items()},
                                  steps)
    for problem in wanted_loader.problems.errors:
        problems.add(problem)
    for text in texts.values():
        migrate_locally(text, legacy.MANIFEST, problems, wanted_loader.refused)
    for _ in range(MAX_PASSES):
        loader, builds = _load(texts, steps, read_legacy=False)
        changed = _write_differences(texts, wanted, builds, loader)
        changed = _write_precedence(texts, builds, loader) or changed
        if not changed:
            _remove_variables(texts.values(), referenced, loader)
            return wanted
    problems.error("the manifests did not settle after several passes; please report it",
                   file=next(iter(texts.values())).shown if texts else None)
    return wanted


def _referenced(texts: Iterable[IniText]) -> set[str]:
    """The names ``%(name)s`` references point to, in any of the manifests."""
    return legacy.referenced_names(value for text in texts for section in text.sections()
                                   for value in section.options.values())


def _remove_variables(texts: Iterable[IniText], referenced: set[str],
                      loader: ManifestLoader) -> None:
    """Options of one's own that only ``%(name)s`` references read, removed once the
    references are replaced: ``check`` would call them unknown options.

    Only their lines go (a comment above stays: it may be about more than that line);
    an option buildbot-odoo reads stays, and so does a variable still referenced (a
    reference ``migrate`` could not replace).
    """
    texts = list(texts)
    gone = referenced - _referenced(texts)
    for text in texts:
        text.apply([(*text.extent(section, key), []) for section in text.sections()
                    for key in section.options
                    if key.lower() in gone and not loader.reads(key)])


def note_watch_differences(builds: Iterable[BuildSpec], problems: Problems) -> None:
    """A ``watch`` line on the buildout's own repository, another branch: anybox.buildbot.odoo
    kept one branch per repository (the buildout's), buildbot-odoo watches both."""
    for build in builds:
        own = build.buildout.watch() if build.buildout else None
        if own is None or not build.watch:
            continue
        for spec in build.watch:
            if (spec.vcs, spec.url) == (own.vcs, own.url) and spec.branch != own.branch:
                problems.warning(
                    f"'{spec}' and the buildout's own branch {own.branch!r} are both watched; "
                    f"{legacy.ORIGINAL} watched only the buildout's branch of a repository "
                    "it builds from: remove this line to keep that", **build.location("watch"))


def _write_differences(texts, wanted: dict[str, BuildSpec], builds: dict[str, BuildSpec],
                       loader: ManifestLoader) -> bool:
    writes: dict[str, list[tuple[str, str, str]]] = {}
    for name, target in wanted.items():
        build = builds.get(name)
        if build is None:
            continue
        have = {canonical_option(k): (k, v) for k, v in build.options.items()}
        own = {k for k, where in build.where.items() if where[2] == name}
        for key, value in target.options.items():
            current = have.get(canonical_option(key))
            if current is not None and _normalised(current[1]) == _normalised(value):
                continue
            if loader.unused_because(build, key):
                continue
            written = current[0] if current and current[0] in own else key
            writes.setdefault(build.file, []).append((name, written, value))
    for file, items in writes.items():
        next(t for t in texts.values() if t.shown == file).set_options(items)
    return bool(writes)


def _write_precedence(texts, builds: dict[str, BuildSpec], loader: ManifestLoader) -> bool:
    """The value in use written in the section itself, where the two orders differ."""
    writes: dict[str, list[tuple[str, str, str]]] = {}
    for name, key, value in loader.precedence:
        writes.setdefault(builds[name].file, []).append((name, key, value))
    for file, items in writes.items():
        next(t for t in texts.values() if t.shown == file).set_options(items)
    return bool(writes)


# --------------------------------------------------------------------------
# the other files


def migrate_workers(directory: Path, workers: str | None,
                    migration: Migration) -> list[Interpreter]:
    """workers.cfg (or slaves.cfg) rewritten; the interpreters its python lines named."""
    path = directory / (workers or DEFAULT_WORKERS)
    target = None
    if workers is None and not path.exists() and (directory / OLD_WORKERS).is_file():
        path, target = directory / OLD_WORKERS, directory / DEFAULT_WORKERS
    if not path.is_file():
        migration.problems.error("no such file", file=str(path.relative_to(directory)))
        return []
    shown = str(path.relative_to(directory))
    old = path.read_text(encoding="utf-8")
    text = IniText(old, shown)
    migrate_locally(text, legacy.WORKERS, migration.problems)
    interpreters = migrate_python_capability(text, migration.problems)
    migration.rewrites.append(Rewrite(path, shown, old, text.text, target))
    return interpreters


@dataclass(frozen=True)
class Interpreter:
    """A ``python`` capability line that named the interpreter anybox.buildbot.odoo ran the
    bootstrap with, on one worker."""

    worker: str
    version: str | None
    program: str
    file: str
    line: int


_CAPABILITY_OPTION = re.compile(r"(?P<space>[ \t]+)(?P<key>bin|venv)=(?P<value>\S+)")


def migrate_python_capability(text: IniText, problems: Problems) -> list[Interpreter]:
    """``python 2.6 bin=python2.6`` becomes ``python 2.6`` (``bin=/usr/bin/python2.7``:
    ``bin=/usr/bin``; ``venv=DIR``: removed), as ``check`` asks; the interpreters are
    returned, for the manifests' ``bootstrap-python``.  One that is no program name nor
    absolute path (``venv=~/odoo-env``) is left, with an error at its line."""
    found: list[Interpreter] = []
    edits = []
    for section in text.sections():
        if "capability" not in section.options:
            continue
        start, end = text.extent(section, "capability")
        for index in range(start, end):
            line = text.lines[index]
            head = _OPTION_LINE.match(line)["head"] if index == start else ""
            entry = line[len(head):]
            words = entry.split()
            if not words or words[0] != "python":
                continue
            version = words[1] if len(words) > 1 and "=" not in words[1] else None
            new = entry
            for match in reversed(list(_CAPABILITY_OPTION.finditer(entry))):
                converted = legacy_python_option(match["key"], match["value"])
                if converted is None:
                    continue
                kept, program = converted
                try:
                    values.command(program, what="interpreter")
                except values.InvalidValue as exc:
                    problems.error(
                        f"'{match['key']}={match['value']}' of {legacy.ORIGINAL}'s python "
                        f"capability cannot be rewritten: {exc}; remove it and name the "
                        "interpreter in the manifest with 'bootstrap-python = ...' (an "
                        "absolute path or a program on PATH)", file=text.shown, line=index + 1,
                        section=section.name, option="capability")
                    continue
                shown = "" if kept is None else f"{match['space']}{match['key']}={kept}"
                new = new[:match.start()] + shown + new[match.end():]
                found.append(Interpreter(section.name, version, program, text.shown, index + 1))
            if new != entry:
                edits.append((index, index + 1, [head + new]))
    text.apply(edits)
    return found


def name_interpreters(texts: dict[Path, IniText], builds: Iterable[BuildSpec],
                      interpreters: list[Interpreter], problems: Problems) -> None:
    """``bootstrap-python`` in each build using the ``python`` capability, naming the
    interpreter its workers' python lines named; several different ones: an error at the
    build's line, to choose by hand."""
    if not interpreters:
        return
    writes: dict[str, list[tuple[str, str, str]]] = {}
    for build in builds:
        uses = [f for f in (*build.build_for, *build.build_requires) if f.name == "python"]
        if not uses or build.buildout is None or build.bootstrap.get("python"):
            continue
        programs = sorted({i.program for i in interpreters
                           if all(_matches(f, i.version) for f in uses)})
        if len(programs) == 1:
            writes.setdefault(build.file, []).append((build.name, "bootstrap-python",
                                                      programs[0]))
        elif programs:
            named = ", ".join(f"{i.program} on {i.worker}" for i in interpreters
                              if i.program in programs)
            problems.error(
                f"the workers' python capability named several interpreters ({named}), which "
                f"{legacy.ORIGINAL} ran the bootstrap with; buildbot-odoo names one per build: "
                "write 'bootstrap-python = ...' in this build", file=build.file,
                line=build.line, section=build.name)
    for file, items in writes.items():
        next(t for t in texts.values() if t.shown == file).set_options(items)


def _matches(requirement: VersionFilter, version: str | None) -> bool:
    try:
        return requirement.match(version)
    except ValueError:
        return False


def migrate_watch_files(directory: Path, builds: Iterable[BuildSpec],
                        migration: Migration) -> None:
    """Auto-watch files of the original's list format, as today's format 1."""
    for build in builds:
        path = directory / WATCH_DIR / build.name
        if not (build.auto_watch and build.buildout and path.is_file()):
            continue
        old = path.read_text(encoding="utf-8")
        try:
            data = json.loads(old)
            sources = legacy_watch_sources(data) if isinstance(data, list) else None
        except ValueError as exc:
            migration.problems.warning(f"not converted: {exc}", file=f"{WATCH_DIR}/{build.name}")
            continue
        if sources is None:
            continue
        new = json.dumps({"format": FORMAT, "build": build.name,
                          "buildout": build.options.get("buildout", ""),
                          "part": build.buildout_part,
                          "sources": [{"vcs": s.vcs, "url": s.url, "branch": s.branch}
                                      for s in sources],
                          "fixed": []}, indent=2) + "\n"
        migration.rewrites.append(Rewrite(path, f"{WATCH_DIR}/{build.name}", old, new))


def migrate_master_cfg(directory: Path, migration: Migration) -> None:
    """The imports of the original's package, its keyword names and its configurator
    form; what cannot be rewritten safely is noted with its line."""
    path = directory / MASTER_CFG
    if not path.is_file():
        return
    old = path.read_text(encoding="utf-8")
    lines = old.splitlines(keepends=True)
    configurators: set[str] = set()
    for index, line in enumerate(lines):
        for pattern, replacement in IMPORTS:
            line = pattern.sub(replacement, line)
        for before, after in KEYWORDS:
            line = line.replace(before, after)
        line = PORTNUM[0].sub(PORTNUM[1], line.rstrip("\n")) + line[len(line.rstrip("\n")):]
        made = _OLD_CONSTRUCTOR.search(line)
        if made:
            configurators.add(made["var"])
            line = line[:made.start("config")] + line[made.end("config"):]
        called = _POPULATE.search(line)
        if called and called["var"] in configurators:
            line = line[:called.end("open")] + "BuildmasterConfig" + line[called.end("open"):]
        lines[index] = line
        _note_master_cfg_line(line, index + 1, migration.problems)
    migration.rewrites.append(Rewrite(path, MASTER_CFG, old, "".join(lines)))


#: ``conf = BuildoutsConfigurator(basedir, BuildmasterConfig, ...)``: the config goes
_OLD_CONSTRUCTOR = re.compile(r"(?P<var>\w+)\s*=\s*BuildoutsConfigurator\(\s*\w+"
                              r"(?P<config>\s*,\s*(?:BuildmasterConfig|c)\b)(?=\s*[,)])")
#: ``conf.populate()``: ... and comes back here
_POPULATE = re.compile(r"(?P<var>\w+)\.populate(?P<open>\()\s*\)")


def _note_master_cfg_line(line: str, number: int, problems: Problems) -> None:
    if re.search(r"ForceScheduler\(", line):
        problems.warning(
            "your own force scheduler: buildbot-odoo adds 'buildbot-odoo-force' for every "
            "builder it makes (with the properties hgtag, gittag and archive builds need); "
            "remove yours unless you want two force buttons", file=MASTER_CFG, line=number)
    code = line.split("#", 1)[0]
    for pattern, message in GONE_IN_BUILDBOT_4:
        if pattern.search(code):
            problems.error(message, file=MASTER_CFG, line=number)
    if "anybox.buildbot" in code:
        problems.error(
            f"{legacy.ORIGINAL}'s package is not there any more and this line has no "
            "rewrite: see docs/migrating.md for what replaces it", file=MASTER_CFG, line=number)


def migrate_directory(directory: str | Path, manifests: Iterable[str] | None = None,
                      workers: str | None = None) -> Migration:
    """Everything ``migrate`` would rewrite in a master directory, not written yet."""
    base = Path(directory).resolve()
    migration = Migration(base)
    if not base.is_dir():
        migration.problems.error("no such directory", file=str(directory))
        return migration
    migrate_master_cfg(base, migration)
    interpreters = migrate_workers(base, workers, migration)
    texts: dict[Path, IniText] = {}
    for relative in list(manifests or [DEFAULT_MANIFEST]):
        path = base / relative
        if not path.is_file():
            migration.problems.error("no such file", file=relative)
            continue
        texts[path] = IniText(path.read_text(encoding="utf-8"), relative)
    originals = {path: text.text for path, text in texts.items()}
    wanted = migrate_manifests(texts, migration.problems)
    name_interpreters(texts, wanted.values(), interpreters, migration.problems)
    note_watch_differences(wanted.values(), migration.problems)
    for path, text in texts.items():
        migration.rewrites.append(Rewrite(path, text.shown, originals[path], text.text))
    _, builds = _load(texts, _step_names(texts.values()))
    migrate_watch_files(base, builds.values(), migration)
    _check_result(migration, texts.values())
    return migration


def _check_result(migration: Migration, texts: Iterable[IniText]) -> None:
    """The old spellings left in the new text (refused ones), as errors to fix by hand."""
    for text in texts:
        kind = legacy.WORKERS if text.shown.endswith((DEFAULT_WORKERS, OLD_WORKERS)) \
            else legacy.MANIFEST
        for section, view in _views(text.document()):
            for key, value in section.options.items():
                rule = legacy.old_option(kind, key)
                change = rule.convert(value, view) if rule else None
                if change is not None and change.refused:
                    migration.problems.error(change.message, file=text.shown,
                                             line=section.line_of(key), section=section.name,
                                             option=key)
