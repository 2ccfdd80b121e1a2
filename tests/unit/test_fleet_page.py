"""The Fleet page: its model and HTML from a plan and a live state (no reactor), and its setup."""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser

import pytest
from buildbot.process.results import Results

from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.errors import ConfigError
from buildbot_odoo.fleetpage.model import (
    HIDDEN_VALUE,
    RESULT_NAMES,
    LastBuild,
    LiveState,
    WorkerState,
    _shown_options,
    build_page,
)
from buildbot_odoo.fleetpage.render import render_denied, render_page
from buildbot_odoo.master.configurator import BuildoutsConfigurator
from buildbot_odoo.master.fleet_page import PLUGIN, FleetPageApp
from buildbot_odoo.planning import make_plan

WORKERS = """
    [old]
    password = old-password
    capability = postgresql 12 port=5432
                 postgresql 14 port=5433 password-secret=pg14-ci
                 python 3.10
                 python 3.12
    [new]
    password = new-password
    capability = postgresql 16 host=/run/pg16
                 python 3.12
                 rabbitmq 3.12 base_uri=amqp://ci:s3cr3t@mq.example.com:5672/
    max_builds = 2
    worker_priority = 5
    [ui]
    password = ui-password
    capability = postgresql 14
                 selenium-server 4
    build-only-if-requires = selenium-server
    [gpu]
    password = gpu-password
    capability = cuda 12
    build-only-if-requires = cuda
    """
MANIFEST = """
    [sale]
    buildout = standalone b.cfg
    build-for = postgresql >= 14

    [queue]
    buildout = standalone b.cfg
    build-for = postgresql
    build-requires = rabbitmq

    [matrix]
    buildout = standalone b.cfg
    build-for = postgresql >= 12
                python
    build-exclude = postgresql == 12 AND python >= 3.12

    [legacy]
    buildout = standalone b.cfg
    build-for = postgresql < 12

    [ui]
    buildout = standalone b.cfg
    build-for = postgresql not-used
    build-requires = selenium-server

    [pdf]
    buildout = standalone b.cfg
    build-requires = wkhtmltopdf

    [watch-only]
    watch = git https://example.com/r.git main
    """


@pytest.fixture
def plan(tmp_path):
    (tmp_path / "workers.cfg").write_text(textwrap.dedent(WORKERS))
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(MANIFEST).lstrip())
    made = make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), [])
    assert not made.problems.errors, [str(p) for p in made.problems]
    return made


def live_state(plan, **last: LastBuild) -> LiveState:
    ids = {b.name: n for n, b in enumerate(plan.dispatch.builders, start=1)}
    return LiveState(
        workers={"old": WorkerState(True), "new": WorkerState(True, paused=True),
                 "ui": WorkerState(False)},
        builder_ids=ids,
        last_builds={name.replace("_", "-"): build for name, build in last.items()})


def cells(page) -> dict[tuple[str, str], object]:
    return {(row.build, column.label): cell for group in page.groups
            for row in group.rows for column, cell in zip(group.columns, row.cells, strict=True)}


def test_result_names_are_buildbots():
    assert list(RESULT_NAMES) == [name.upper() for name in Results]


def test_one_row_per_build_grouped_by_what_they_are_split_by(plan):
    page = build_page(plan, live_state(plan))
    shape = [(g.axes, [c.label for c in g.columns], [r.build for r in g.rows])
             for g in page.groups]
    assert shape == [
        (("postgresql",), ["postgresql 12", "postgresql 14", "postgresql 16"],
         ["sale", "queue", "legacy"]),
        (("postgresql", "python"),
         ["postgresql 12 · python 3.10", "postgresql 12 · python 3.12",
          "postgresql 14 · python 3.10", "postgresql 14 · python 3.12",
          "postgresql 16 · python 3.12"],
         ["matrix"]),
        ((), ["not split"], ["ui", "pdf"]),
    ]


def test_cells_show_last_results_with_links(plan):
    page = build_page(plan, live_state(plan, sale_pg14=LastBuild(7, 0, True, "build successful"),
                                       sale_pg16=LastBuild(3, 2, True, "failed odoo-tests"),
                                       ui=LastBuild(1, None, False, "building")))
    found = cells(page)
    green, red = found["sale", "postgresql 14"], found["sale", "postgresql 16"]
    assert (green.kind, green.builder, green.last.result_name, green.last.number) == (
        "builder", "sale-pg14", "SUCCESS", 7)
    assert (red.builder, red.last.result_name, red.workers) == ("sale-pg16", "FAILURE", ("new",))
    assert found["ui", "not split"].last.result_name == "PENDING"
    html = render_page(page)
    assert (f'<a href="#/builders/{green.builderid}/builds/7">success #7</a>') in html
    assert (f'<a href="#/builders/{red.builderid}/builds/3">failure #3</a>') in html
    assert 'class="bbo-cell results_FAILURE"' in html
    never = found["matrix", "postgresql 14 · python 3.12"]
    assert never.last is None
    assert f'<a href="#/builders/{never.builderid}">no build yet</a>' in html


def test_cells_without_builder_say_why(plan):
    found = cells(build_page(plan, live_state(plan)))
    assert found["sale", "postgresql 12"].kind == "not-targeted"
    assert found["sale", "postgresql 12"].reason == (
        "not built: postgresql 12 does not match build-for 'postgresql >= 14'")
    # the excluded combination, with the line that excluded it
    excluded = found["matrix", "postgresql 12 · python 3.12"]
    assert (excluded.kind, excluded.reason) == (
        "excluded", "excluded by build-exclude: postgresql == 12 AND python >= 3.12")
    # workers have PostgreSQL 14 but none may take the queue build: each says why
    no_worker = found["queue", "postgresql 14"]
    assert (no_worker.kind, no_worker.reason) == (
        "no-worker", "no eligible worker: old has no rabbitmq; ui takes only builds requiring "
                     "selenium-server")
    assert found["queue", "postgresql 16"].kind == "builder"
    # builds no worker takes at all: their row says what the plan says
    pdf = found["pdf", "not split"]
    assert (pdf.kind, pdf.reason) == ("no-worker", "no worker has wkhtmltopdf")


def test_builds_without_builder_and_idle_workers(plan):
    page = build_page(plan, live_state(plan))
    assert [(u.build, u.reason) for u in page.unassigned] == [
        ("legacy", "no worker has postgresql < 12"), ("pdf", "no worker has wkhtmltopdf")]
    rows = {r.build: r for g in page.groups for r in g.rows}
    assert rows["legacy"].note == "no worker has postgresql < 12"
    assert rows["sale"].note is None
    assert [(w.name, w.idle_reason) for w in page.idle_workers] == [
        ("gpu", "reserved (build-only-if-requires cuda) and no build requires it")]


def test_workers_with_state_capabilities_and_settings(plan):
    page = build_page(plan, live_state(plan))
    workers = {w.name: w for w in page.workers}
    assert {n: w.state for n, w in workers.items()} == {
        "old": "connected", "new": "paused", "ui": "disconnected", "gpu": "unknown"}
    new = workers["new"]
    assert (new.max_builds, new.priority, new.reserved_for) == (2, 5.0, [])
    assert workers["ui"].reserved_for == ["selenium-server"]
    assert new.builders == ["sale-pg16", "queue-pg16", "matrix-pg16-py3.12"]
    caps = {(c.name, c.version): dict(c.options) for c in workers["old"].capabilities}
    assert caps[("postgresql", "14")] == {"port": "5433", "password-secret": HIDDEN_VALUE}
    caps = {(c.name, c.version): dict(c.options) for c in new.capabilities}
    assert caps[("postgresql", "16")] == {"host": "/run/pg16"}
    assert caps[("rabbitmq", "3.12")] == {
        "base_uri": f"amqp://ci:{HIDDEN_VALUE}@mq.example.com:5672/"}


def test_options_holding_a_secret_are_masked_should_one_get_through():
    # workers.cfg refuses them (tests/unit/test_workers_cfg.py): the page masks them anyway
    shown = _shown_options("x", {"api-token": "abc123", "PGPASSWORD": "p", "port": "1"}, {})
    assert shown == [("api-token", HIDDEN_VALUE), ("PGPASSWORD", HIDDEN_VALUE), ("port", "1")]


def test_an_option_given_by_a_secret_shows_neither_name_nor_value():
    """``base_uri-secret=rmq-uri`` on any capability: the page masks the secret's name as it
    does ``password-secret``'s (docs/fleet-page.md), and the value never reaches the page
    (the model reads workers.cfg, where only the name is)."""
    shown = _shown_options("rabbitmq", {"base_uri-secret": "rmq-uri", "binary": "rabbitmqctl",
                                        "admin_uri": "http://ops:pw@mq:15672/"}, {})
    assert shown == [("base_uri-secret", HIDDEN_VALUE), ("binary", "rabbitmqctl"),
                     ("admin_uri", f"http://ops:{HIDDEN_VALUE}@mq:15672/")]


def test_html_has_no_secret_and_everything_escaped(plan, tmp_path):
    page = build_page(plan, live_state(plan))
    page.unassigned[0].reason = "<script>alert(1)</script>"
    html = render_page(page)
    for secret in ("old-password", "new-password", "pg14-ci", "s3cr3t",
                   "<script>"):
        assert secret not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    checker = _Balanced()
    checker.feed(html)
    assert checker.stack == [], checker.stack


def test_html_names_what_each_element_shows(plan):
    html = render_page(build_page(plan, live_state(
        plan, sale_pg14=LastBuild(7, 0, True, ""))))
    assert ('data-build="sale" data-combo="postgresql 14" data-kind="builder" '
            'data-result="SUCCESS" data-builder="sale-pg14"') in html
    assert '<tr data-worker="ui">' in html and 'data-state="disconnected"' in html


def test_denied_page_says_which_reads_were_refused():
    html = render_denied([("workers", "you need to have role 'admins'")])
    assert "<code>workers</code>: you need to have role &#x27;admins&#x27;" in html


class _Balanced(HTMLParser):
    """Every element closed, in order: the UI inserts the fragment in its own page."""

    VOID = {"br", "img", "meta", "link", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


# --------------------------------------------------------------------------
# populate() and c['www']


@pytest.fixture
def master_dir(tmp_path):
    (tmp_path / "workers.cfg").write_text("[w]\npassword = x\ncapability = postgresql 15\n")
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(
        "[b]\nbuildout = standalone b.cfg\nbuild-for = postgresql\n")
    return tmp_path


def test_populate_appends_the_page_to_the_users_www(master_dir):
    mine = {"name": "mine", "caption": "Mine", "app": object()}
    config = {"www": {"port": 8010, "plugins": {"console_view": {}, PLUGIN: [mine]}}}
    conf = BuildoutsConfigurator(master_dir)
    conf.populate(config)
    www = config["www"]
    assert www["port"] == 8010 and www["plugins"]["console_view"] == {}
    first, page = www["plugins"][PLUGIN]
    assert first is mine
    assert (page["name"], page["caption"], page["icon"]) == ("fleet", "Fleet", "FaServer")
    app = page["app"]
    assert isinstance(app, FleetPageApp) and app.configurator is conf
    # what the web UI's /config sends to the browser: the name, not the plan
    assert app.getConfigDict() == {"name": "fleet"}


def test_populate_makes_the_plugin_entries_it_needs(master_dir):
    config = {"www": {"port": 8010}}
    BuildoutsConfigurator(master_dir).populate(config)
    assert [d["name"] for d in config["www"]["plugins"][PLUGIN]] == ["fleet"]


def test_the_page_can_be_turned_off_or_renamed(master_dir):
    config = {"www": {"port": 8010, "plugins": {}}}
    conf = BuildoutsConfigurator(master_dir)
    conf.fleet_page = False
    conf.populate(config)
    assert config["www"] == {"port": 8010, "plugins": {}}
    config = {"www": {"port": 8010}}
    conf = BuildoutsConfigurator(master_dir)
    conf.fleet_page_name = "fleet-eu"
    conf.populate(config)
    (page,) = config["www"]["plugins"][PLUGIN]
    assert (page["name"], page["caption"]) == ("fleet-eu", "Fleet (fleet-eu)")


def test_no_www_no_page(master_dir):
    config: dict = {}
    BuildoutsConfigurator(master_dir).populate(config)
    assert "www" not in config and config["builders"]


@pytest.mark.parametrize(("www", "message"), [
    ({"plugins": {PLUGIN: [{"name": "fleet"}]}}, "already has a dashboard named 'fleet'"),
    ({"plugins": {PLUGIN: {"name": "fleet"}}}, "is a dict, not a list of dashboards"),
    ({"plugins": []}, "c['www']['plugins'] is a list, not a dict"),
])
def test_a_www_it_cannot_add_to_is_an_error_before_anything_is_added(master_dir, www,
                                                                      message):
    config = {"www": www, "builders": []}
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        BuildoutsConfigurator(master_dir).populate(config)
    assert config["builders"] == [] and "workers" not in config


# --------------------------------------------------------------------------
# the request's user, as Buildbot's session cookie says


class _Site:
    session_secret = "s" * 32


class _Www:
    site = _Site()


class _Master:
    www = _Www()


def session_cookie(user_info: dict, expires_in: int = 3600, secret: str = _Site.session_secret,
                   name: str = "TWISTED_SESSION") -> str:
    import calendar
    import datetime

    import jwt
    from buildbot.www.auth import SESSION_SECRET_ALGORITHM

    exp = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expires_in)
    token = jwt.encode({"user_info": user_info, "exp": calendar.timegm(exp.timetuple())},
                       secret, algorithm=SESSION_SECRET_ALGORITHM)
    return f"other=1; {name}={token}"


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, {"anonymous": True}),
    ({"HTTP_COOKIE": session_cookie({"username": "alice"})}, {"username": "alice"}),
    # over HTTPS Twisted names the cookie differently: the plain one is not read
    ({"HTTP_COOKIE": session_cookie({"username": "alice"}), "wsgi.url_scheme": "https"},
     {"anonymous": True}),
    ({"HTTP_COOKIE": session_cookie({"username": "alice"}, name="TWISTED_SECURE_SESSION"),
      "wsgi.url_scheme": "https"}, {"username": "alice"}),
    ({"HTTP_COOKIE": session_cookie({"username": "alice"}, expires_in=-60)},
     {"anonymous": True}),
    ({"HTTP_COOKIE": session_cookie({"username": "mallory"}, secret="x" * 32)},
     {"anonymous": True}),
    ({"HTTP_COOKIE": 'TWISTED_SESSION="unterminated'}, {"anonymous": True}),
])
def test_the_user_comes_from_buildbots_session_cookie(environ, expected):
    from buildbot_odoo.master.fleet_page import user_info

    assert user_info(_Master(), environ) == expected


def test_the_summary_counts_in_words(plan):
    html = render_page(build_page(plan, live_state(plan)))
    summary = html.split('<p class="bbo-summary">', 1)[1].split("</p>", 1)[0]
    assert summary.startswith("4 workers (2 connected), ")
    assert summary.endswith("; 2 builds without a builder, 1 idle worker.")


def test_each_row_says_whether_push_or_poll_triggers_the_build(tmp_path):
    (tmp_path / "workers.cfg").write_text("[w]\npassword = p\ncapability = postgresql 16\n")
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent("""
        [DEFAULT]
        buildout = standalone b.cfg
        build-for = postgresql
        [pushed]
        watch = git git@github.com:acme/web.git 17.0
        [both]
        watch = git https://github.com/acme/web 17.0
                git https://git.example.com/other.git main
        [polled]
        watch = git https://git.example.com/other.git main
        [forced]
        """))
    plan = make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), [], change_hooks={"github": {
                         "secret": "gh", "repositories": ["https://github.com/acme"]}})
    assert not plan.problems.errors, [str(p) for p in plan.problems]
    page = build_page(plan, LiveState())
    assert {r.build: r.trigger for g in page.groups for r in g.rows} == {
        "pushed": "push (github)", "both": "push (github) + poll", "polled": "poll",
        "forced": "-"}
    html = render_page(page)
    assert ('<span class="bbo-where bbo-trigger" data-trigger="push (github)">'
            'by push (github)</span>') in html
    assert 'data-trigger="-">forced only</span>' in html
