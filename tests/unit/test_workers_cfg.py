"""workers.cfg parsing (SPEC 2)."""

from __future__ import annotations

import pytest

from buildbot_odoo.capability.versions import Version
from buildbot_odoo.config.workers import load_workers, parse_capability_line
from buildbot_odoo.errors import Problems


def load(write, text):
    problems = Problems()
    workers = load_workers(write("workers.cfg", text), problems, "workers.cfg")
    return workers, problems


def test_full_worker(write):
    workers, problems = load(write, """
        [w1]
        password = s3cret
        capability = postgresql 8.4
                     postgresql 9.1 port=5433
        \tprivate-bzr+ssh-access
        \tselenium-server 2.3
        build-only-if-requires = selenium-server
        max_builds = 3
        notify_on_missing = a@example.com, b@example.com c@example.com
        worker_priority = 2.5
        db_prefix = ci
        arch = amd64
        """)
    assert not list(problems)
    (w,) = workers
    assert w.name == "w1" and w.password == "s3cret"
    assert w.capability_property() == {
        "postgresql": {"8.4": {}, "9.1": {"port": "5433"}},
        "private-bzr+ssh-access": {None: {}},
        "selenium-server": {"2.3": {}},
    }
    assert w.build_only_if_requires == {"selenium-server"}
    assert w.max_builds == 3
    assert w.notify_on_missing == ["a@example.com", "b@example.com", "c@example.com"]
    assert w.worker_priority == 2.5
    assert w.db_prefix == "ci"
    assert w.properties == {"arch": "amd64"}
    assert "s3cret" not in repr(w)


def test_defaults(write):
    (w,), problems = load(write, "[w]\npassword = x\n")
    assert w.db_prefix == "odoo_buildbot" and w.worker_priority == 0.0
    assert w.max_builds is None and w.capabilities == [] and not list(problems)


def test_seed_devel_version_and_options():
    decl = parse_capability_line(
        "postgresql 9.2devel bin=/opt/postgresql/bin lib=/opt/postgresql/lib port=5434")
    assert decl.version == Version("9.2-devel")
    assert decl.options == {"bin": "/opt/postgresql/bin", "lib": "/opt/postgresql/lib",
                            "port": "5434"}


def test_options_without_version():
    decl = parse_capability_line("wkhtmltopdf display=:1")
    assert decl.version is None and decl.options == {"display": ":1"}


@pytest.mark.parametrize(("text", "needle"), [
    ("capability = postgresql 9.1\n  postgresql 9.1 port=5433", "declared twice"),
    ("capability = postgresql 9.2devel\n  postgresql 9.2-devel", "declared twice"),
    ("capability = postgresql 9..1", "'9..1'"),
    ("capability = postgresql 9.1 port", "'port' is not KEY=VALUE"),
    ("capability = postgresql 9.1 port=1 port=2", "'port' given twice"),
    ("capability = postgresql 15 password=hunter2", "password-secret"),
    ("capability = -bad 1", "'-bad' is not a capability name"),
    ("max_builds = many", "'many' is not a whole number"),
    ("max_builds = 0", "is out of range: from 1 to 1000"),
    ("worker_priority = high", "'high' is not a decimal number"),
    ("notify_on_missing = not-an-address", "'not-an-address' is not an e-mail address"),
    ("db_prefix = bad prefix", "'bad prefix'"),
    ("password = secret:", "names no secret"),
    ("password = secret:my pw", "names no secret"),
])
def test_bad_values_are_located(write, text, needle):
    head = "" if text.startswith("password") else "password = x\n"
    _, problems = load(write, f"[w]\n{head}{text}\n")
    (error,) = problems.errors
    assert needle in error.message
    assert error.file == "workers.cfg" and error.section == "w"
    assert error.option and error.line and error.line >= 2
    assert str(error).startswith(f"workers.cfg:{error.line}: w: {error.option}: ")


def test_error_line_points_at_continuation_line(write):
    _, problems = load(write, "[w]\npassword = x\ncapability = postgresql 15\n"
                              "    postgresql 16\n    postgresql 1.x.2\n")
    (error,) = problems.errors
    assert error.line == 5


def test_every_bad_capability_line_is_reported(write):
    workers, problems = load(write, "[w]\npassword = x\ncapability = postgresql 15\n"
                                    "    postgresql 15 port=5433\n    postgresql 9..2\n"
                                    "    postgresql 16\n    bad=name\n")
    assert workers == []
    assert [(p.line, p.option) for p in problems.errors] == [
        (4, "capability"), (5, "capability"), (7, "capability")]
    assert "declared twice" in problems.errors[0].message
    assert "'9..2'" in problems.errors[1].message


def test_missing_password(write):
    workers, problems = load(write, "[w]\ncapability = postgresql 15\n")
    assert workers == []
    (error,) = problems.errors
    assert "missing required option 'password'" in str(error)


def test_password_never_in_message(write):
    _, problems = load(write, "[w]\npassword =\n")
    (error,) = problems.errors
    assert error.option == "password" and "empty" in error.message


def test_parse_error_reports_line(write):
    _, problems = load(write, "[w]\npassword = x\n[w]\npassword = y\n")
    (error,) = problems.errors
    assert "appears twice" in error.message and error.line == 3


def test_missing_file(tmp_path):
    problems = Problems()
    assert load_workers(tmp_path / "nope.cfg", problems) == []
    assert "cannot read file" in problems.errors[0].message


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf"])
def test_worker_priority_must_be_finite(write, text):
    # nan compares false with everything: the highest-priority choice would be arbitrary
    workers, problems = load(write, f"[w]\npassword = x\nworker_priority = {text}\n")
    assert workers == []
    (error,) = problems.errors
    assert error.option == "worker_priority" and repr(text) in error.message


def _buildbot_accepts_worker_name(name: str) -> bool:
    """Buildbot's own verdict on a worker name, from its configuration loader."""
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import MasterConfig
    from buildbot.worker import Worker

    try:
        return MasterConfig._check_workers([Worker(name, "pw")], "c['workers']")
    except ConfigErrors:
        return False


@pytest.mark.parametrize(("name", "accepted"), [
    ("w1", True), ("pg-both", True), ("_w", True), ("wörker", True), ("w" * 50, True),
    ("w.1", False), ("9w", False), ("my+worker", False), ("w" * 51, False),
    ("debug", False), ("change", False), ("status", False),
])
def test_worker_names_buildbot_refuses_are_located_errors(write, name, accepted):
    assert _buildbot_accepts_worker_name(name) is accepted  # the rule is Buildbot's
    workers, problems = load(write, f"# fleet\n[{name}]\npassword = x\n")
    if accepted:
        assert [w.name for w in workers] == [name] and not problems.errors
        return
    assert workers == []
    (error,) = problems.errors
    assert (error.file, error.line, error.section, error.option) == ("workers.cfg", 2, name, None)
    assert repr(name) in error.message


@pytest.mark.parametrize("breaker", ["# PostgreSQL clusters", ""])
def test_an_indented_line_after_a_comment_or_blank_line_is_explained(write, breaker):
    # INI ends a multi-line value at a comment or blank line at the start of a line:
    # the indented line after it is not a continuation, and must not be called one
    _, problems = load(write, f"[w]\npassword = x\ncapability = python 3.11\n"
                              f"{breaker}\n    postgresql 15\n")
    (error,) = problems.errors
    assert error.line == 5
    assert "'postgresql 15'" in error.message
    assert "line 4 ends the value of 'capability'" in error.message, error.message


def test_every_line_of_a_run_of_orphaned_lines_gets_the_explanation(write):
    # the explanation of one is reused for the next (a long run stays linear)
    _, problems = load(write, "[w]\npassword = x\ncapability = python 3.11\n# pg\n"
                              + "    postgresql 15\n" * 3 + "garbage\n")
    assert [(e.line, "line 4 ends the value of 'capability'" in e.message)
            for e in problems.errors] == [(5, True), (6, True), (7, True), (8, False)]


def test_text_after_a_section_header_is_an_error_not_ignored(write):
    workers, problems = load(write, "[w1] postgresql 15\npassword = x\n"
                                    "[w2]  ; a comment is fine\npassword = y\n")
    (error,) = problems.errors
    assert (error.line, error.section) == (1, "w1")
    assert "'postgresql 15'" in error.message
    assert [w.name for w in workers] == ["w1", "w2"]


@pytest.mark.parametrize("line", ["password hunter2", "password hunter2 = x"])
def test_a_mistyped_password_line_is_reported_without_the_password(write, line):
    # the messages go to the terminal and to twistd.log: never the password
    _, problems = load(write, f"[w]\ncapability = python 3.11\n{line}\n")
    assert problems.errors
    for problem in problems:
        assert "hunter2" not in str(problem), str(problem)
    assert any(p.line == 3 for p in problems.errors)


@pytest.mark.parametrize(("line", "meant"), [
    ("build_only_if_requires = selenium", "build-only-if-requires"),
    ("max-builds = 2", "max_builds"),
    ("db-prefix = ci", "db_prefix"),
    ("worker-priority = 3", "worker_priority"),
    ("Capability = postgresql 15", "capability"),
    ("max_bulids = 2", "max_builds"),
    ("notify_on_mising = a@example.com", "notify_on_missing"),
])
def test_a_misspelled_option_is_warned_about_with_the_closest_name(write, line, meant):
    workers, problems = load(write, f"[w]\npassword = x\n{line}\n")
    key, _, value = (part.strip() for part in line.partition("="))
    assert [str(p) for p in problems] == [
        f"workers.cfg:3: w: {key}: warning: not a workers.cfg option, so it becomes the "
        f"worker property {key!r}: did you mean {meant!r}?"]
    assert workers[0].properties == {key: value}  # SPEC 2: still a property


def test_spelling_doctests():
    import doctest

    from buildbot_odoo.config import spelling
    assert doctest.testmod(spelling).failed == 0


def test_properties_unlike_any_option_are_not_warned_about(write):
    workers, problems = load(write, "[w]\npassword = x\narch = amd64\nos = debian\n"
                                    "max_build_time = 3600\ndb_host_alias = x\n")
    assert list(problems) == []
    assert workers[0].properties == {"arch": "amd64", "os": "debian",
                                     "max_build_time": "3600", "db_host_alias": "x"}
