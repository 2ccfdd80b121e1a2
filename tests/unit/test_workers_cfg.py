"""workers.cfg parsing (SPEC 2)."""

from __future__ import annotations

import pytest

from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.capability.versions import Version
from buildbot_odoo.config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from buildbot_odoo.config.workers import load_workers, parse_capability_line
from buildbot_odoo.errors import Problems
from buildbot_odoo.planning import make_plan


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


@pytest.mark.parametrize("breaker", ["# PostgreSQL clusters", "", "    # indented comment"])
def test_blank_and_comment_lines_inside_a_multi_line_value_are_part_of_it(write, breaker):
    # as in configparser's default and Python 2's ConfigParser (anybox.buildbot.odoo's
    # files): a blank or comment line between two capability lines does not end the value
    workers, problems = load(write, f"[w]\npassword = x\ncapability = python 3.11\n"
                                    f"{breaker}\n    postgresql 15 port=5433\n\n"
                                    "    postgresql 16\nmax_builds = 2\n")
    assert not problems.errors, [str(p) for p in problems]
    (worker,) = workers
    assert worker.capability_property() == {
        "python": {"3.11": {}}, "postgresql": {"15": {"port": "5433"}, "16": {}}}
    assert worker.max_builds == 2


@pytest.mark.parametrize("breaker", ["# PostgreSQL clusters", ""])
def test_errors_after_blank_and_comment_lines_of_a_value_name_their_own_line(write, breaker):
    _, problems = load(write, f"[w]\npassword = x\ncapability =\n    python 3.11\n"
                              f"{breaker}\n    postgresql 15 port:5433\n\n"
                              "    postgresql fifteen\n")
    assert sorted((e.line, e.option) for e in problems.errors) == [
        (6, "capability"), (8, "capability")], [str(p) for p in problems]


def test_an_indented_line_with_no_option_above_is_explained(write):
    _, problems = load(write, "[w]\n    postgresql 15\npassword = x\n")
    (error,) = problems.errors
    assert error.line == 2
    assert "'postgresql 15'" in error.message
    assert "no option above" in error.message or "there is none" in error.message, error.message


def test_every_line_of_a_run_of_orphaned_lines_gets_the_explanation(write):
    # indented lines with no option above them in their section (blank and comment
    # lines inside a value do not end it: only a header leaves lines orphaned)
    _, problems = load(write, "[w]\n# pg\n" + "    postgresql 15\n" * 3 + "garbage\n"
                              "password = x\n")
    assert [(e.line, "there is none in this section" in e.message)
            for e in problems.errors] == [(3, True), (4, True), (5, True), (6, False)]


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


# --- secrets by other spellings (issue 9.5)


@pytest.mark.parametrize("key", ["password", "PASSWORD", "Password", "passwd", "pgpassword",
                                 "PGPASSWORD", "pass", "pwd", "db_password", "Pass-Word"])
def test_password_like_capability_options_are_refused_whatever_the_spelling(write, key):
    workers, problems = load(write, f"[w]\npassword = x\ncapability = postgresql 15 port=5433 "
                                    f"{key}=hunter2\n")
    assert workers == []
    (error,) = problems.errors
    assert error.option == "capability" and error.line == 3
    assert (f"'{key}=' would put a secret in the build properties (readable in the web UI "
            "and the REST API); name a Buildbot secret with 'password-secret=' instead"
            ) in error.message
    assert "hunter2" not in str(error)


def test_other_secret_spellings_name_their_own_secret_option(write):
    _, problems = load(write, "[w]\npassword = x\ncapability = vault api_token=abc\n")
    assert "name a Buildbot secret with 'api-token-secret=' instead" in problems.errors[0].message


@pytest.mark.parametrize("key", ["Password", "PGPASSWORD", "db_password", "pwd", "api_token"])
def test_password_like_worker_properties_are_refused(write, key):
    # ('passwd' is anybox.buildbot.odoo's name of 'password': read as it, see test_legacy)
    workers, problems = load(write, f"[w]\npassword = x\n{key} = hunter2\n")
    assert workers == []
    (error,) = problems.errors
    assert (error.line, error.option) == (3, key)
    assert "would become a worker property, readable in the web UI and the REST API" in \
        error.message
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(("line", "unknown", "hint"), [
    ("postgresql 15 password_secret=pg15", "password_secret", "password-secret"),
    ("postgresql 15 prot=5433", "prot", "port"),
    ("postgresql 15 hots=db", "hots", "host"),
    ("python 3.11 bin_dir=/opt/py", "bin_dir", "bin"),
    ("wkhtmltopdf 0.12 dispaly=:1", "dispaly", "display"),
    ("postgresql 15 cluster=main", "cluster", None),
])
def test_unknown_options_of_builtin_capabilities_are_warned_about(tmp_path, line, unknown,
                                                                  hint):
    plan = plan_with_workers(tmp_path, f"[w]\npassword = x\ncapability = postgresql 16\n"
                                       f"  {line}\n")
    assert not plan.problems.errors
    (warning,) = plan.problems.warnings
    assert (warning.file, warning.line, warning.section, warning.option) == (
        "workers.cfg", 4, "w", "capability")
    name = line.split()[0]
    expected = f"unknown option {unknown!r} of the {name} capability"
    assert warning.message.startswith(expected)
    if hint:
        assert warning.message.endswith(f"(did you mean {hint!r}?)")


def test_options_of_builtin_capabilities_follow_the_active_definition(tmp_path):
    capabilities = builtin_capabilities()
    capabilities["postgresql"]["environ"]["PGDATABASE"] = "%(cap(db):-)s"
    plan = plan_with_workers(tmp_path, "[w]\npassword = x\ncapability = postgresql 16 db=x "
                                       "port=1 host=h user=u bin=/b lib=/l "
                                       "password-secret=s\n  custom-thing 1 anything=1\n",
                             capabilities)
    assert not list(plan.problems)


def plan_with_workers(tmp_path, workers: str, capabilities=None):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text("")
    (tmp_path / "workers.cfg").write_text(workers)
    return make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     capabilities or builtin_capabilities(), BUILTIN_POST_BUILDOUT_STEPS)


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


@pytest.mark.parametrize("value", ["bin", ".", "./bin", "/opt/pg/bin:relative", "~/bin"])
def test_path_like_capability_options_hold_absolute_directories_only(tmp_path, value):
    # a relative PATH entry is looked up from each command's directory, as an empty one:
    # a checkout could put its own 'psql' or 'python' there.  The built-in capabilities'
    # own option checks say it first (capability/options.py); this rule covers every
    # capability whose environment puts an option on a search path, custom ones included.
    capabilities = {**builtin_capabilities(), "rabbitmq": {
        "version_prop": "rmq_version", "environ": {"PATH": "%(cap(sbin):-)s"}}}
    plan = plan_with_workers(tmp_path, f"[w]\npassword = x\ncapability = rabbitmq 3.12\n"
                                       f"  rabbitmq 3.13 sbin={value}\n", capabilities)
    (error,) = plan.problems.errors
    assert (error.line, error.option) == (4, "capability")
    assert error.message.startswith(f"option 'sbin' of the rabbitmq capability ({value!r}) "
                                    "goes into a search path (PATH, LD_LIBRARY_PATH): only "
                                    "absolute directories")


def test_absolute_path_like_options_are_fine(tmp_path):
    plan = plan_with_workers(tmp_path, "[w]\npassword = x\ncapability = postgresql 16 "
                                       "bin=/opt/pg/bin:/usr/lib/pg/bin lib=/opt/pg/lib\n"
                                       "  python 3.12 bin=/opt/py/bin\n")
    assert not list(plan.problems)


@pytest.mark.parametrize(("line", "message"), [
    ("postgresql 15 port=1e5", "option port: '1e5' is not a whole number"),
    ("postgresql 15 port=70000", "option port: '70000' is out of range for a TCP port"),
    ("postgresql 15 port=5432,x", "option port: 'x' is not a whole number"),
    ("postgresql 15 host=db..example.com", "option host: 'db..example.com' is not a host "
                                           "name nor an IP address, nor a socket directory"),
    ("postgresql 15 host=-oProxyCommand", "option host: '-oProxyCommand' is not a host"),
    ("postgresql 15 bin=usr/lib/postgresql/15/bin", "option bin: 'usr/lib/postgresql/15/bin':"
                                                    " a directory must be absolute"),
    ("postgresql 15 lib=/opt/pg/lib::/x", "option lib: '/opt/pg/lib::/x': an empty entry "
                                          "would be the current directory"),
    ("postgresql 15 user=-U", "option user: '-U' is not a PostgreSQL role name"),
    ("postgresql 15 password-secret=-x", "option password-secret: '-x' is not a secret name"),
    ("python 3.12 bin=../bin", "option bin: '../bin': a directory must be absolute"),
    ("wkhtmltopdf display=zero", "option display: 'zero' is not an X display (:0, "
                                 "host:0.0)"),
])
def test_builtin_capability_option_values_are_checked(write, line, message):
    _, problems = load(write, f"[w]\npassword = x\ncapability = python 3.11\n  {line}\n")
    (error,) = problems.errors
    assert (error.line, error.option) == (4, "capability")
    assert error.message == f"{line!r}: {message}" or error.message.startswith(
        f"{line!r}: {message}"), error.message


def test_good_builtin_capability_option_values(write):
    workers, problems = load(write, """
        [w]
        password = x
        capability = postgresql 15 port=5433 host=/var/run/postgresql lib=/opt/pg/lib
                     postgresql 14 bin=/opt/pg/bin user=odoo password-secret=pg-odoo
                     postgresql 16 host=db1.example.com,db2.example.com port=5432,5433
                     postgresql 17 host=10.0.0.5 port= user=ci_user
                     python 3.12 bin=/opt/py/bin:/opt/py/sbin
                     wkhtmltopdf 0.12 display=localhost:10.0
                     rabbitmq 3.12 port=anything host=-is-not-ours
        """)
    assert not list(problems)
    assert len(workers[0].capabilities) == 7


def test_capability_options_doctests():
    import doctest

    from buildbot_odoo.capability import options
    assert doctest.testmod(options).failed == 0


# --------------------------------------------------------------------------
# options given by a Buildbot secret's name (OPTION-secret=NAME)


def test_a_url_password_in_a_capability_option_is_warned_about_hidden(write):
    """The seed's own RabbitMQ example: accepted (a warning), located, the password hidden."""
    (worker,), problems = load(write, """
        [rabbit]
        password = x
        capability = postgresql 15
                     rabbitmq 2.8.4 base_uri=amqp://guest:hunter2@localhost:5672/ binary=rabbitmqctl
        """)
    assert worker.capability_property()["rabbitmq"]["2.8.4"]["binary"] == "rabbitmqctl"
    (warning,) = problems
    assert (warning.severity, warning.file, warning.line, warning.section, warning.option) == (
        "warning", "workers.cfg", 4, "rabbit", "capability")
    assert warning.message == (
        "rabbitmq option base_uri=amqp://guest:<hidden>@localhost:5672/: the URL holds a "
        "password, and capability options become build properties, readable by anyone through "
        "the web UI and the REST API: put the URL in a Buildbot secret and write "
        "'base_uri-secret=NAME' instead")
    assert "hunter2" not in str(warning)


def test_urls_without_password_and_secret_names_are_not_warned_about(write):
    (worker,), problems = load(write, """
        [rabbit]
        password = x
        capability = rabbitmq 3.12 base_uri-secret=rmq-uri admin=http://ops@mq:15672/
        """)
    assert list(problems) == []
    assert worker.capability_property() == {
        "rabbitmq": {"3.12": {"base_uri-secret": "rmq-uri", "admin": "http://ops@mq:15672/"}}}


@pytest.mark.parametrize(("line", "message"), [
    ("rabbitmq 3.12 base_uri-secret=-rmq", "option base_uri-secret: '-rmq' is not a secret "
     "name (one word, not starting with '-')"),
    ("rabbitmq 3.12 base_uri=amqp://localhost/ base_uri-secret=rmq",
     "give 'base_uri' either as base_uri= or by a secret's name as base_uri-secret=, not both"),
    ("rabbitmq 3.12 base-uri=a base_uri=b",
     "options 'base-uri' and 'base_uri' would be the same build property: give one of them"),
])
def test_secret_name_options_are_checked(line, message):
    with pytest.raises(ValueError) as raised:
        parse_capability_line(line)
    assert str(raised.value).endswith(message)


def test_an_error_quoting_a_capability_line_hides_a_url_password():
    with pytest.raises(ValueError) as raised:
        parse_capability_line("rabbitmq 3.12 base_uri=amqp://ci:hunter2@mq/ =oops")
    assert "hunter2" not in str(raised.value)
    assert "amqp://ci:<hidden>@mq/" in str(raised.value)


def test_a_secret_option_no_template_reads_is_warned_about(tmp_path):
    """A defined capability: ``uri-secret`` where the templates read cap(base_uri), and
    ``sbin-secret`` for a search path, would leave the build without the value."""
    capabilities = {**builtin_capabilities(), "rabbitmq": {"environ": {
        "RMQ_BASE_URI": "%(cap(base_uri):-)s", "PATH": "%(cap(sbin):-)s"}}}
    plan = plan_with_workers(tmp_path, "[w]\npassword = x\ncapability = rabbitmq 3.12 "
                                       "base_uri-secret=rmq\n  rabbitmq 3.13 uri-secret=rmq "
                                       "sbin-secret=s\n  queue 1 anything-secret=x\n",
                             capabilities)
    assert not plan.problems.errors
    assert [(w.line, w.message) for w in plan.problems.warnings] == [
        (4, f"option {option!r} of the rabbitmq capability names a secret nothing reads: no "
            f"environ template of its definition reads cap({plain}) (options it takes by a "
            "secret's name: base_uri-secret)")
        for option, plain in (("uri-secret", "uri"), ("sbin-secret", "sbin"))]


def test_builtin_capabilities_take_their_template_options_by_secret(tmp_path):
    plan = plan_with_workers(tmp_path, "[w]\npassword = x\ncapability = postgresql 16 "
                                       "host-secret=pg-host user-secret=pg-user\n")
    assert list(plan.problems) == []
