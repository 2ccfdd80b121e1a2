"""The stand-ins behave like Odoo 17 and oca.recipe.odoo where the product depends on them.

End-to-end tests of builds run the sample buildout and ``bin/start_odoo`` through
Buildbot; when they fail, this module tells whether the stand-ins themselves
still honour the contract: a real offline buildout with the recipe's scripts
(``bin/test_odoo`` only with ``with_devtools = true``, and then dying as on
Python 3), its ``options.*`` -> ``etc/odoo.cfg``, Odoo's command line and exit
codes, a real PostgreSQL chosen by the environment, Odoo's log lines for
installs, passing, failing and erroring tests, the upgrade script, archive
downloads, and zc.buildout 6's path-order trap.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import shutil
import signal
import subprocess
import tarfile
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.postgres import PgServer, free_port
from tests.support.repos import GitRepo
from tests.support.standin import (
    ADDONS_DIR,
    ODOO_SOURCE,
    copy_standin_source,
    make_buildout_venv,
    odoo_source,
    run_sample_buildout,
)

pytest_plugins = ["tests.support.pg_fixtures", "tests.support.standin_fixtures"]
pytestmark = pytest.mark.integration

#: Every record's first line, as Odoo 16/17 write it (note the trailing space).
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ "
                    r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ [\w.]+: .* ?$")
OS_USER = getpass.getuser()
#: what the real test script adds to Odoo's command line (runtime/start_odoo.py)
ODOO_TEST_FLAGS = ("--test-enable", "--stop-after-init", "--log-level=test")


# --------------------------------------------------------------------------
# helpers


def _built(buildout: Path, directory: Path, source: Path, *extra: str,
           offline: bool = True) -> Path:
    run = run_sample_buildout(buildout, directory, source, extra, offline=offline)
    assert run.returncode == 0, run.stdout + run.stderr
    return directory


def _fresh_database(server: PgServer, name: str) -> str:
    """A new database owned by the OS user's role, made with the server's ``createdb``."""
    server.create_role(OS_USER)
    server.drop_database(name)
    made = subprocess.run([str(server.bin_dir / "createdb"), "-O", OS_USER, name],
                          env=server.client_env(), capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    return name


def _run(script: Path, *args: str, server: PgServer,
         **env_overrides: str) -> subprocess.CompletedProcess:
    """Run a buildout script with the capability-like environment of ``server``."""
    env = server.client_env(user=OS_USER)
    env.update(env_overrides)
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=script.parent.parent)


def _tests(start: Path, *args: str, server: PgServer, **env) -> subprocess.CompletedProcess:
    """What the product runs by default: the start script with Odoo's test flags."""
    return _run(start, *args, *ODOO_TEST_FLAGS, server=server, **env)


def _records(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.match(r"^\d{4}-\d\d-\d\d ", line)]


def _states(server: PgServer, dbname: str) -> dict[str, str]:
    """Every row of ``ir_module_module``: a module of the addons paths and its state."""
    rows = server.psql("SELECT name, state FROM ir_module_module ORDER BY name", dbname=dbname)
    return dict(line.split("|") for line in rows.splitlines())


def _installed(server: PgServer, dbname: str) -> dict[str, str]:
    """The modules Odoo installed or marked (not ``uninstalled``/``uninstallable``)."""
    return {name: state for name, state in _states(server, dbname).items()
            if state not in ("uninstalled", "uninstallable")}


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def standin_buildout(buildout_executable: Path, standin_source: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample buildout, built once for the module, offline."""
    return _built(buildout_executable, tmp_path_factory.mktemp("build"), standin_source)


@pytest.fixture
def start_odoo(standin_buildout: Path) -> Path:
    return standin_buildout / "bin" / "start_odoo"


# --------------------------------------------------------------------------
# the buildout and the recipe


def test_sample_buildout_writes_the_recipes_scripts_offline(
        standin_buildout: Path, buildout_executable: Path, standin_source: Path) -> None:
    bin_dir = standin_buildout / "bin"
    # no test_odoo: the recipe writes it only with with_devtools = true
    assert sorted(p.name for p in bin_dir.iterdir()) == [
        "gevent_odoo", "python_odoo", "start_odoo", "upgrade_odoo"]
    for script in ("start_odoo", "upgrade_odoo"):
        path = bin_dir / script
        assert path.is_file() and path.stat().st_mode & 0o111
        interpreter = Path(path.read_text().splitlines()[0].removeprefix("#!"))
        # the buildout's own Python (zc.buildout's scripts), no system one
        assert interpreter.parent == buildout_executable.parent
    start = (bin_dir / "start_odoo").read_text()
    odoo_bin = odoo_source(standin_source) / "odoo-bin"
    assert ("oca.recipe.odoo.runtime.start_odoo.main("
            f"'{odoo_bin}', '{standin_buildout / 'etc' / 'odoo.cfg'}', version=(17, 0), "
            f"gevent_script_path='{bin_dir / 'gevent_odoo'}')") in start
    assert (standin_buildout / "upgrade.py").is_file()  # written from the recipe's template
    config = (standin_buildout / "etc" / "odoo.cfg").read_text().splitlines()
    assert config[0] == "[options]"
    odoo = odoo_source(standin_source)
    assert f"addons_path = {odoo}/odoo/addons,{odoo}/addons,{ADDONS_DIR}" in config
    assert "db_name = odoo_standin" in config and "db_port = False" in config
    assert "admin_passwd = " in config and "http_port = 8069" in config  # Odoo's defaults


def test_options_from_the_command_line_reach_the_odoo_config(
        buildout_executable: Path, standin_source: Path, tmp_path: Path) -> None:
    """The product's ``<part>:options.*=`` assignments, written as oca.recipe.odoo does."""
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       "odoo:options.db_name=odoo_buildbot-x-pg18", "odoo:options.db_port=5433",
                       "odoo:options.db_host=/var/run/pg", "odoo:options.db_user=False",
                       "odoo:options.workers=0", "odoo:clean=true", "odoo:vcs-clear-locks=true",
                       "odoo:vcs-clear-retry=true", "odoo:vcs-revert=on-merge")
    config = (directory / "etc" / "odoo.cfg").read_text().splitlines()
    for line in ("db_name = odoo_buildbot-x-pg18", "db_port = 5433",
                 "db_host = /var/run/pg", "db_user = False", "workers = 0"):
        assert line in config


def test_setting_the_addons_path_directly_is_refused_like_the_recipe(
        buildout_executable: Path, standin_source: Path, tmp_path: Path) -> None:
    run = run_sample_buildout(buildout_executable, tmp_path / "b", standin_source,
                              ["odoo:options.addons_path=/somewhere"])
    assert run.returncode != 0
    assert "direct use of options.addons_path is prohibited" in run.stdout + run.stderr


def test_upgrade_script_can_be_turned_off(buildout_executable: Path, standin_source: Path,
                                          tmp_path: Path) -> None:
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       "odoo:upgrade_script=")
    assert not (directory / "bin" / "upgrade_odoo").exists()
    assert (directory / "bin" / "start_odoo").is_file()


def test_with_devtools_makes_a_test_script_that_dies_on_python_3(
        buildout_executable: Path, standin_source: Path, tmp_path: Path,
        pg_server: PgServer) -> None:
    """The real anybox.testing.datetime 0.5 from the index: Python 2 code."""
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       "odoo:with_devtools=true", offline=False)
    test_script = directory / "bin" / "test_odoo"
    assert "devtools.load(for_tests=True)" in test_script.read_text()
    assert "just_test=True" in test_script.read_text()
    run = _run(test_script, "-d", _fresh_database(pg_server, "devtools"), server=pg_server)
    assert run.returncode == 1
    assert run.stderr.rstrip().splitlines()[-1] == "ModuleNotFoundError: No module named 'mock_dt'"


# --------------------------------------------------------------------------
# running tests against real servers


def test_passing_addon_against_every_server(pg_servers: dict[int, PgServer], start_odoo: Path,
                                            tmp_path: Path) -> None:
    for major, server in pg_servers.items():
        db = _fresh_database(server, "somedb")
        logfile = tmp_path / f"pg{major}" / "test.log"
        run = _tests(start_odoo, "-d", db, "-i", "standin_ok", f"--logfile={logfile}",
                     server=server)
        assert run.returncode == 0, run.stderr
        log = logfile.read_text()
        records = _records(log)
        assert records and all(RECORD.match(r) for r in records), log
        assert all(r.endswith(" ") for r in records)  # Odoo's empty perf_info
        text = "\n".join(records)
        assert f" INFO somedb odoo.sql_db: PostgreSQL server version: {server.version}" in text
        assert " INFO somedb odoo.modules.loading: loading 1 modules..." in text
        assert (" INFO somedb odoo.addons.standin_ok.tests.test_basic: "
                "Starting TestBasic.test_addition ...") in text
        assert "skipped TestBasic.test_skipped : shows how a skip is logged" in text
        # Odoo's statistics count each class's setUpClass and tearDownClass too (3 + 2)
        assert re.search(r" INFO somedb odoo\.tests\.stats: standin_ok: 5 tests "
                         r"\d+\.\d\ds \d+ queries ", text)
        # base's own test runs too: a new database installs base with the tests enabled
        assert (" INFO somedb odoo.tests.result: 0 failed, 0 error(s) of 4 tests "
                "when loading database 'somedb' ") in text
        assert " ERROR " not in text and "FAIL:" not in text
        assert _installed(server, db) == {"base": "installed", "standin_ok": "installed"}


def test_failing_addon_logs_fail_lines_and_exits_1(pg_server: PgServer, start_odoo: Path,
                                                   tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "failing")
    logfile = tmp_path / "failing.log"
    run = _tests(start_odoo, "-d", db, "-i", "standin_failing", f"--logfile={logfile}",
                 server=pg_server)
    assert run.returncode == 1, run.stderr  # Odoo 16/17: preload_registries' rc += 1
    lines = logfile.read_text().splitlines()
    logger = "odoo.addons.standin_failing.tests.test_mixed"
    fail = next(i for i, line in enumerate(lines)
                if line.endswith(f" ERROR failing {logger}: FAIL: TestMixed.test_fails"))
    assert lines[fail - 1].endswith(f" INFO failing {logger}: {'=' * 70} ")
    assert lines[fail + 1] == "Traceback (most recent call last):"
    assert "AssertionError: 1 != 2 : deliberate failure" in "\n".join(lines[fail:fail + 6])
    text = "\n".join(lines)
    assert "Starting TestMixed.test_passes ..." in text
    assert "ERROR failing odoo.modules.loading: Module standin_failing: 1 failures, " \
           "0 errors of 2 tests " in text
    # 3 tests: standin_failing's two and base's one (a new database installs base too)
    assert "ERROR failing odoo.tests.result: 1 failed, 0 error(s) of 3 tests when loading " \
           "database 'failing' " in text


def test_erroring_test_logs_error_lines(pg_server: PgServer, start_odoo: Path,
                                        tmp_path: Path) -> None:
    """Also: a database name like the product's (``<prefix>-<builder>``, with dashes)."""
    db = _fresh_database(pg_server, "odoo_buildbot-erroring-pg18")
    logfile = tmp_path / "erroring.log"
    run = _tests(start_odoo, "-d", db, "-i", "standin_ok,standin_erroring",
                 f"--logfile={logfile}", server=pg_server)
    assert run.returncode == 1, run.stderr
    text = logfile.read_text()
    assert (f"ERROR {db} odoo.addons.standin_erroring.tests.test_boom: "
            "ERROR: TestBoom.test_boom\nTraceback (most recent call last):") in text
    assert "ZeroDivisionError: deliberate error" in text
    assert f"odoo.tests.result: 0 failed, 1 error(s) of 5 tests when loading database '{db}'" \
        in text
    assert _installed(pg_server, db) == {"base": "installed", "standin_erroring": "installed",
                                         "standin_ok": "installed"}


def test_install_failure_is_an_error_and_exits_255(pg_server: PgServer, start_odoo: Path,
                                                   tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "broken")
    logfile = tmp_path / "broken.log"
    run = _tests(start_odoo, "-d", db, "-i", "standin_ok,standin_broken",
                 f"--logfile={logfile}", server=pg_server)
    assert run.returncode == 255
    text = logfile.read_text()
    assert "ERROR broken odoo.modules.registry: Failed to load registry " in text
    assert ("CRITICAL broken odoo.service.server: Failed to initialize database `broken`. \n"
            "Traceback (most recent call last):") in text
    assert "InstallError: while installing module 'standin_broken'" in text
    assert "odoo.tests.result" not in text  # no registry, no test report, as in Odoo
    assert "standin_broken" not in _installed(pg_server, db)


def test_missing_database_is_reported(pg_server: PgServer, start_odoo: Path) -> None:
    pg_server.drop_database("never_created")
    run = _tests(start_odoo, "-d", "never_created", "-i", "standin_ok", server=pg_server)
    assert run.returncode == 255
    assert 'database "never_created" does not exist' in run.stderr
    assert not pg_server.database_exists("never_created")


def test_relative_logfile_is_refused(pg_server: PgServer, start_odoo: Path) -> None:
    run = _run(start_odoo, "-d", "whatever", "--logfile=var/log/odoo.log", server=pg_server)
    assert run.returncode == 2
    assert "odoo-bin: error: option --logfile: the log file must be an absolute path" \
        in run.stderr


def test_database_user_postgres_is_refused_like_odoo(pg_server: PgServer,
                                                     start_odoo: Path) -> None:
    run = _run(start_odoo, "-d", "whatever", "--db_user=postgres", server=pg_server)
    assert run.returncode == 1
    assert "Using the database user 'postgres' is a security risk, aborting." in run.stderr


def test_config_values_apply_and_the_command_line_overrides_them(
        pg_server: PgServer, buildout_executable: Path, standin_source: Path,
        tmp_path: Path) -> None:
    """db_name/db_host/db_port from etc/odoo.cfg, without any PG* variable to help."""
    db = _fresh_database(pg_server, "from_config")
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       f"odoo:options.db_name={db}", f"odoo:options.db_host={pg_server.socket_dir}",
                       "odoo:options.db_port=1", f"odoo:options.db_user={OS_USER}")
    script = directory / "bin" / "start_odoo"
    wrong_port = _tests(script, "-i", "standin_ok", server=pg_server, PGHOST="", PGPORT="")
    assert wrong_port.returncode == 255
    assert ".s.PGSQL.1" in wrong_port.stderr  # the configured port was used
    right = _tests(script, "-i", "standin_ok", f"--db_port={pg_server.port}", server=pg_server,
                   PGHOST="", PGPORT="")
    assert right.returncode == 0, right.stderr
    assert f"odoo: database: {OS_USER}@{pg_server.socket_dir}:{pg_server.port} " in right.stderr
    assert f"INFO {db} odoo.tests.result: 0 failed, 0 error(s) of 4 tests" in right.stderr
    assert _installed(pg_server, db) == {"base": "installed", "standin_ok": "installed"}


def test_update_reruns_tests_of_installed_addons(pg_server: PgServer, start_odoo: Path) -> None:
    db = _fresh_database(pg_server, "update")
    assert _tests(start_odoo, "-d", db, "-i", "standin_ok", server=pg_server).returncode == 0
    # -i of an installed addon initialises it again, at_install tests included (as Odoo 17)
    again = _tests(start_odoo, "-d", db, "-i", "standin_ok", server=pg_server)
    assert "INFO update odoo.tests.result: 0 failed, 0 error(s) of 3 tests" in again.stderr
    update = _tests(start_odoo, "-d", db, "-u", "all", "--without-demo=all", server=pg_server)
    assert "odoo.tests.result: 0 failed, 0 error(s) of 4 tests" in update.stderr  # base's too
    assert pg_server.psql("SELECT demo FROM ir_module_module WHERE name = 'standin_ok'",
                          dbname=db) == "f"


def test_install_all_installs_none_of_the_addons(pg_server: PgServer, start_odoo: Path) -> None:
    """``-i all`` is no list of every module (odoo/modules/graph.py, ``add_modules``): on a new
    database base and what installs itself with it; on an existing one, the installed
    modules initialised again.  Seen on a real Odoo 17 (tests/fixtures/README.md)."""
    db = _fresh_database(pg_server, "install-all")
    assert _tests(start_odoo, "-d", db, "-i", "all", server=pg_server).returncode == 0
    assert _installed(pg_server, db) == {"base": "installed"}
    again = _tests(start_odoo, "-d", db, "-i", "all", server=pg_server)
    assert again.returncode == 0 and _installed(pg_server, db) == {"base": "installed"}
    assert "of 1 tests" in again.stderr  # base's own test, base initialised again


# --------------------------------------------------------------------------
# module states, dependencies, test selection and the filestore, as Odoo 17
# (each checked side by side with a real Odoo 17: tests/fixtures/README.md)


def _lines(log: str) -> list[str]:
    """The records without time and pid: ``LEVEL db logger: message`` (trailing space kept)."""
    return [re.sub(r"^\S+ \S+ \d+ ", "", line) for line in _records(log)]


def _log_of(tmp_path: Path, name: str) -> tuple[Path, str]:
    logfile = tmp_path / f"{name}.log"
    return logfile, f"--logfile={logfile}"


def test_module_states_at_install_to_install_post_install_installed(
        pg_server: PgServer, start_odoo: Path, tmp_path: Path) -> None:
    """``-i X``: X and its dependencies ``to install``; at_install tests run before
    ``installed`` is written, post_install ones after every module is loaded; a row
    for every module of the addons paths; a dependency's own failing test counts."""
    db = _fresh_database(pg_server, "states")
    logfile, log_option = _log_of(tmp_path, "states")
    run = _tests(start_odoo, "-d", db, "-i", "standin_with_dep", log_option, server=pg_server)
    assert run.returncode == 1, run.stderr  # standin_dep_failing's own test fails
    lines = _lines(logfile.read_text())
    loading = [line for line in lines if "odoo.modules.loading: Loading module" in line]
    assert loading == [f"INFO {db} odoo.modules.loading: Loading module base (1/1) ",
                       f"INFO {db} odoo.modules.loading: Loading module standin_dep_failing "
                       "(2/3) ",
                       f"INFO {db} odoo.modules.loading: Loading module standin_with_dep (3/3) "]
    logger = f"INFO {db} odoo.addons.standin_with_dep.tests.test_with_dep: "
    for test in ("TestAtInstall.test_attachments_have_their_files",
                 "TestAtInstall.test_state_is_to_install",
                 "TestPostInstall.test_state_is_installed"):
        assert f"{logger}Starting {test} ... " in lines
    text = logfile.read_text()
    assert "FAIL: TestAtInstall" not in text and "FAIL: TestPostInstall" not in text
    post = lines.index(f"INFO {db} odoo.service.server: Starting post tests ")
    assert lines.index(f"{logger}Starting TestPostInstall.test_state_is_installed ... ") > post
    assert (f"ERROR {db} odoo.modules.loading: Module standin_dep_failing: 1 failures, 0 errors "
            "of 1 tests ") in lines
    assert f"ERROR {db} odoo.modules.loading: At least one test failed when loading the " \
           "modules. " in lines
    assert f"INFO {db} odoo.modules.loading: Modules loaded. " not in lines
    assert (f"ERROR {db} odoo.tests.result: 1 failed, 0 error(s) of 5 tests when loading "
            f"database '{db}' ") in lines
    states = _states(pg_server, db)
    assert states["base"] == states["standin_dep_failing"] == states["standin_with_dep"] \
        == "installed"
    assert states["standin_not_installable"] == "uninstallable"
    assert states["standin_ok"] == states["standin_no_tests"] == "uninstalled"


def test_base_is_a_module_of_its_own_loaded_first(pg_server: PgServer, start_odoo: Path,
                                                  tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "base_first")
    logfile, log_option = _log_of(tmp_path, "base")
    assert _tests(start_odoo, "-d", db, "-i", "standin_no_tests", log_option,
                  server=pg_server).returncode == 0
    lines = _lines(logfile.read_text())
    assert lines.index(f"INFO {db} odoo.modules.loading: init db ") \
        < lines.index(f"INFO {db} odoo.modules.loading: Loading module base (1/1) ") \
        < lines.index(f"INFO {db} odoo.modules.loading: updating modules list ") \
        < lines.index(f"INFO {db} odoo.modules.loading: Loading module standin_no_tests (2/2) ")
    assert (f"INFO {db} odoo.addons.base.tests.test_base: Starting TestBase.test_base_row ... "
            in lines)
    assert (f"INFO {db} odoo.tests.result: 0 failed, 0 error(s) of 1 tests when loading "
            f"database '{db}' ") in lines
    assert _installed(pg_server, db) == {"base": "installed", "standin_no_tests": "installed"}


def test_test_tags_select_the_tests(pg_server: PgServer, start_odoo: Path,
                                    tmp_path: Path) -> None:
    """``--test-tags`` (no ``--test-enable`` needed): ``/module``, ``:Class``, excludes;
    dependencies installed in the same run run none of their tests unless selected."""
    cases = {
        "/standin_with_dep": (0, ["TestAtInstall.test_attachments_have_their_files",
                                  "TestAtInstall.test_state_is_to_install",
                                  "TestPostInstall.test_state_is_installed"]),
        ":TestPostInstall": (0, ["TestPostInstall.test_state_is_installed"]),
        "-/standin_dep_failing,-/base": (0, ["TestAtInstall.test_attachments_have_their_files",
                                             "TestAtInstall.test_state_is_to_install",
                                             "TestPostInstall.test_state_is_installed"]),
        "/standin_dep_failing": (1, ["TestDepFailing.test_fails"]),
        "nightly": (0, []),
    }
    for index, (tags, (status, started)) in enumerate(cases.items()):
        db = _fresh_database(pg_server, f"tags{index}")
        logfile, log_option = _log_of(tmp_path, f"tags{index}")
        run = _run(start_odoo, "-d", db, "-i", "standin_with_dep", "--stop-after-init",
                   "--log-level=test", log_option, f"--test-tags={tags}", server=pg_server)
        assert run.returncode == status, (tags, run.stderr)
        text = logfile.read_text()
        assert re.findall(r": Starting (\S+) \.\.\. ", text) == started, tags
        assert f"of {len(started)} tests when loading database '{db}'" in text, tags
        assert _installed(pg_server, db)["standin_with_dep"] == "installed"
    db = _fresh_database(pg_server, "bad_tag")
    logfile, log_option = _log_of(tmp_path, "bad_tag")
    _run(start_odoo, "-d", db, "-i", "standin_no_tests", "--stop-after-init", log_option,
         "-t", "/not-a-module", server=pg_server)
    assert f"ERROR {db} odoo.tests.tag_selector: Invalid tag /not-a-module " \
        in _lines(logfile.read_text())


def test_a_dependency_in_no_addons_path_fails_the_registry(pg_server: PgServer,
                                                           start_odoo: Path,
                                                           tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "needs_missing")
    logfile, log_option = _log_of(tmp_path, "needs_missing")
    run = _tests(start_odoo, "-d", db, "-i", "standin_needs_missing", log_option,
                 server=pg_server)
    assert run.returncode == 255
    text = logfile.read_text()
    error = ("odoo.exceptions.UserError: You try to install module 'standin_needs_missing' "
             "that depends on module 'standin_nowhere'.\nBut the latter module is not "
             "available in your system.\n")
    assert text.count(error) == 2  # both tracebacks end with it
    assert f"WARNING {db} odoo.modules.loading: Transient module states were reset \n" in text
    assert (f"ERROR {db} odoo.modules.registry: Failed to load registry \n"
            "Traceback (most recent call last):") in text
    assert (f"CRITICAL {db} odoo.service.server: Failed to initialize database `{db}`. \n"
            "Traceback (most recent call last):") in text
    assert "odoo.tests.result" not in text
    assert _states(pg_server, db)["standin_needs_missing"] == "uninstalled"


def test_an_uninstallable_dependency_leaves_the_module_to_install(
        pg_server: PgServer, start_odoo: Path, tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "needs_uninstallable")
    logfile, log_option = _log_of(tmp_path, "needs_uninstallable")
    run = _tests(start_odoo, "-d", db, "-i", "standin_needs_uninstallable", log_option,
                 server=pg_server)
    assert run.returncode == 0
    lines = _lines(logfile.read_text())
    assert (f"INFO {db} odoo.modules.graph: module standin_needs_uninstallable: Unmet "
            "dependencies: standin_not_installable ") in lines
    assert (f"ERROR {db} odoo.modules.loading: Some modules have inconsistent states, some "
            "dependencies may be missing: ['standin_needs_uninstallable'] ") in lines
    assert f"WARNING {db} odoo.tests.result: 0 failed, 0 error(s) of 1 tests when loading " \
           f"database '{db}' " not in lines  # base's test ran: 1 test
    assert _installed(pg_server, db) == {"base": "installed",
                                         "standin_needs_uninstallable": "to install"}


def test_addons_odoo_does_not_install_and_says_nothing_or_warns(
        pg_server: PgServer, start_odoo: Path, tmp_path: Path) -> None:
    """``installable: False``: not a word; an unknown name: one WARNING.  Exit 0."""
    db = _fresh_database(pg_server, "ignored")
    assert _run(start_odoo, "-d", db, "-i", "base", "--stop-after-init",
                server=pg_server).returncode == 0
    expected = {"standin_not_installable": [],
                "rr_okk": [f"WARNING {db} odoo.modules.loading: invalid module names, "
                           "ignored: rr_okk "]}
    for name, warnings in expected.items():
        logfile, log_option = _log_of(tmp_path, name)
        run = _tests(start_odoo, "-d", db, "-i", name, log_option, server=pg_server)
        assert run.returncode == 0
        lines = _lines(logfile.read_text())
        loud = [line for line in lines if line.startswith(("WARNING", "ERROR", "CRITICAL"))]
        assert loud == [*warnings, f"WARNING {db} odoo.tests.result: 0 failed, 0 error(s) of 0 "
                                   f"tests when loading database '{db}' "], name
        assert not any(name in line for line in lines if "Loading module" in line)
    assert _installed(pg_server, db) == {"base": "installed"}
    assert "rr_okk" not in _states(pg_server, db)


def test_auto_install_modules_follow_their_dependencies(pg_server: PgServer, start_odoo: Path,
                                                        tmp_path: Path) -> None:
    extra = tmp_path / "extra-addons"
    for name, manifest in {
            "auto_on_no_tests": {"depends": ["standin_no_tests"], "auto_install": True},
            "auto_on_two": {"depends": ["standin_no_tests", "standin_ok"],
                            "auto_install": ["standin_no_tests"]},
            "auto_waiting": {"depends": ["standin_no_tests", "standin_ok"],
                             "auto_install": True}}.items():
        (extra / name).mkdir(parents=True)
        (extra / name / "__init__.py").write_text("")
        (extra / name / "__manifest__.py").write_text(repr({"name": name, **manifest}))
    db = _fresh_database(pg_server, "auto_install")
    run = _run(start_odoo, "-d", db, "-i", "standin_no_tests", "--stop-after-init",
               f"--addons-path={ADDONS_DIR},{extra}", server=pg_server)
    assert run.returncode == 0, run.stderr
    # auto_on_two triggers on standin_no_tests only, and brings its other dependency along,
    # which then triggers auto_waiting (Odoo's button_install loops until none is left)
    assert _installed(pg_server, db) == {
        "auto_on_no_tests": "installed", "auto_on_two": "installed", "auto_waiting": "installed",
        "base": "installed", "standin_no_tests": "installed", "standin_ok": "installed"}


def test_plain_unittest_classes_keep_the_stand_ins_conventions(pg_server: PgServer,
                                                               start_odoo: Path,
                                                               tmp_path: Path) -> None:
    """A plain ``unittest.TestCase`` runs at_install; its own ``test_tags`` with
    ``post_install`` makes it post-install (real Odoo 17 runs neither: README)."""
    addon = tmp_path / "extra-addons" / "plain_tests"
    (addon / "tests").mkdir(parents=True)
    (addon / "__init__.py").write_text("")
    (addon / "__manifest__.py").write_text(repr({"name": "plain", "depends": ["base"]}))
    (addon / "tests" / "test_plain.py").write_text(
        "import unittest\n\n\n"
        "class TestAt(unittest.TestCase):\n"
        "    def test_at(self):\n        pass\n\n\n"
        "class TestPost(unittest.TestCase):\n"
        "    test_tags = ('post_install',)\n\n"
        "    def test_post(self):\n        pass\n")
    db = _fresh_database(pg_server, "plain_tests")
    logfile, log_option = _log_of(tmp_path, "plain")
    run = _run(start_odoo, "-d", db, "-i", "plain_tests", "--stop-after-init", log_option,
               f"--addons-path={addon.parent}", "--test-tags=/plain_tests", server=pg_server)
    assert run.returncode == 0, run.stderr
    lines = _lines(logfile.read_text())
    post = lines.index(f"INFO {db} odoo.service.server: Starting post tests ")
    logger = f"INFO {db} odoo.addons.plain_tests.tests.test_plain: "
    assert lines.index(f"{logger}Starting TestAt.test_at ... ") < post
    assert lines.index(f"{logger}Starting TestPost.test_post ... ") > post


def test_each_install_stores_an_attachment_in_the_filestore(
        pg_server: PgServer, start_odoo: Path, standin_buildout: Path, odoo_data_home: Path,
        tmp_path: Path) -> None:
    """``<data_dir>/filestore/<db>/<xx>/<sha1>``; ``createdb -T`` copies rows, not files."""
    config = (standin_buildout / "etc" / "odoo.cfg").read_text().splitlines()
    data_dir = odoo_data_home / "Odoo"  # $XDG_DATA_HOME/Odoo, saved by configmanager.save()
    assert f"data_dir = {data_dir}" in config
    template = _fresh_database(pg_server, "fs_template")
    assert _run(start_odoo, "-d", template, "-i", "standin_dep_failing", "--stop-after-init",
                server=pg_server).returncode == 0
    rows = pg_server.psql("SELECT name, store_fname, checksum FROM ir_attachment ORDER BY name",
                          dbname=template).splitlines()
    assert [row.split("|")[0] for row in rows] == ["base.txt", "standin_dep_failing.txt"]
    for row in rows:
        name, fname, checksum = row.split("|")
        assert fname == f"{checksum[:2]}/{checksum}"
        path = data_dir / "filestore" / template / fname
        assert path.read_bytes() == f"Stand-in attachment of module {name[:-4]}\n".encode()
        assert hashlib.sha1(path.read_bytes()).hexdigest() == checksum
    for copy_files, status in ((False, 1), (True, 0)):
        db = f"fs_copy_{copy_files}".lower()
        pg_server.drop_database(db)
        made = subprocess.run([str(pg_server.bin_dir / "createdb"), "-O", OS_USER, "-T",
                               template, db], env=pg_server.client_env(), capture_output=True,
                              text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        shutil.rmtree(data_dir / "filestore" / db, ignore_errors=True)
        if copy_files:
            shutil.copytree(data_dir / "filestore" / template, data_dir / "filestore" / db)
        logfile, log_option = _log_of(tmp_path, db)
        run = _run(start_odoo, "-d", db, "-i", "standin_with_dep", "--stop-after-init",
                   "--test-tags=/standin_with_dep", log_option, server=pg_server)
        assert run.returncode == status, logfile.read_text()
        failed = "FAIL: TestAtInstall.test_attachments_have_their_files" in logfile.read_text()
        assert failed == (not copy_files)
    other = tmp_path / "other-data-dir"
    db = _fresh_database(pg_server, "fs_elsewhere")
    assert _run(start_odoo, "-d", db, "-i", "standin_no_tests", "--stop-after-init",
                "-D", str(other), server=pg_server).returncode == 0
    assert len(list((other / "filestore" / db).glob("*/*"))) == 2  # base's and the addon's
    assert not (data_dir / "filestore" / db).exists()


def test_start_script_serves_http_until_sigterm(pg_server: PgServer,
                                                standin_buildout: Path) -> None:
    """``bin/start_odoo`` loads the database, then serves until a signal, like Odoo."""
    db = _fresh_database(pg_server, "started")
    port = free_port()
    proc = subprocess.Popen([str(standin_buildout / "bin" / "start_odoo"), "-d", db,
                             "-i", "standin_ok", "--http-port", str(port)],
                            env=pg_server.client_env(user=OS_USER), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/web/webclient/version_info")
        assert '"standin": true' in body
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"odoo.service.server: HTTP service (werkzeug) running on 0.0.0.0:{port}" in stderr
    assert "odoo.service.server: Initiating shutdown" in stderr
    assert "Starting TestBasic" not in stderr  # no --test-enable for the start script
    assert _installed(pg_server, db) == {"base": "installed", "standin_ok": "installed"}


def _get_when_up(url: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --------------------------------------------------------------------------
# the upgrade script


def test_upgrade_script_on_an_installed_database(pg_server: PgServer, start_odoo: Path,
                                                 standin_buildout: Path, tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "upgraded")
    assert _run(start_odoo, "-d", db, "-i", "standin_ok", "--stop-after-init",
                server=pg_server).returncode == 0
    logfile = tmp_path / "upgrade.log"
    run = _run(standin_buildout / "bin" / "upgrade_odoo", "-d", db, f"--log-file={logfile}",
               server=pg_server)
    assert run.returncode == 0, run.stderr
    assert f"Starting upgrade, logging details to {logfile} at level INFO" in run.stdout
    log = logfile.read_text()
    assert f"INFO {db} odoo.modules.registry: Registry loaded in " in log
    # the upgrade's own records, in Odoo's format and in the script's (two spaces)
    assert f"INFO {db} odoo.upgrade: Default upgrade procedure : updating all modules. " in log
    assert re.search(r"^\S+ \S+ INFO  Upgrade successful\. Total time: \d+ seconds\.$", log,
                     re.MULTILINE)
    assert "WARNING  No version currently set in database" in log


def test_upgrade_script_on_an_empty_database_fails(pg_server: PgServer, standin_buildout: Path,
                                                   tmp_path: Path) -> None:
    """Registry(db) does not initialise a database: Odoo says so, the script then dies."""
    db = _fresh_database(pg_server, "empty_upgrade")
    logfile = tmp_path / "upgrade.log"
    run = _run(standin_buildout / "bin" / "upgrade_odoo", "-d", db, f"--log-file={logfile}",
               server=pg_server)
    assert run.returncode == 1
    assert (f"ERROR {db} odoo.modules.loading: Database {db} not initialized, you can force "
            "it with `-i base` ") in logfile.read_text()
    assert 'relation "ir_config_parameter" does not exist' in run.stderr


# --------------------------------------------------------------------------
# where Odoo comes from


class _CountingHandler(SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def archive_server(tmp_path: Path):
    """An HTTP server offering the stand-in Odoo as ``odoo_17.0.latest.tar.gz``; its requests."""
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "odoo_17.0.latest.tar.gz", "w:gz") as tar:
        tar.add(ODOO_SOURCE, arcname="odoo-17.0",
                filter=lambda info: None if "__pycache__" in info.name else info)
    handler = type("Handler", (_CountingHandler,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/odoo_17.0.latest.tar.gz", \
            handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_archive_is_downloaded_once_per_downloads_directory(
        buildout_executable: Path, standin_source: Path, tmp_path: Path,
        archive_server) -> None:
    url, requests = archive_server
    downloads = tmp_path / "shared-downloads"
    downloads.mkdir()
    logs = []
    for name in ("first", "second"):
        run = run_sample_buildout(buildout_executable, tmp_path / name, standin_source,
                                  [f"odoo:version=url {url}",
                                   f"buildout:odoo-downloads-directory={downloads}"])
        assert run.returncode == 0, run.stdout + run.stderr
        logs.append(run.stdout + run.stderr)
        extracted = tmp_path / name / "parts" / "odoo-17.0"
        assert (extracted / "odoo-bin").is_file()
        assert f"'{extracted}/odoo-bin'" in (tmp_path / name / "bin" / "start_odoo").read_text()
    assert f"Downloading {url} ..." in logs[0]
    assert "Downloading" not in logs[1]
    assert requests == ["/odoo_17.0.latest.tar.gz"]
    assert [p.name for p in downloads.iterdir()] == ["odoo_17.0.latest.tar.gz"]


def test_a_git_odoo_is_cloned_into_the_parts_directory_with_git_depth(
        buildout_executable: Path, standin_source: Path, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "odoo-repo", branch="17.0")
    for path in sorted(ODOO_SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            repo_path = path.relative_to(ODOO_SOURCE)
            (repo.path / repo_path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, repo.path / repo_path)
    subprocess.run(["git", "-C", repo.path, "add", "-A"], check=True)
    repo.commit("CHANGES", "the tree\n")
    repo.commit("CHANGES", "one more\n")
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       f"odoo:version=git {repo.url} odoo 17.0", "odoo:git-depth=1")
    clone = directory / "parts" / "odoo"
    assert (clone / "odoo-bin").is_file()
    count = subprocess.run(["git", "-C", clone, "rev-list", "--count", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert count == "1"  # git-depth=1: one commit, not the whole history
    branch = subprocess.run(["git", "-C", clone, "rev-parse", "--abbrev-ref", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert branch == "17.0"


# --------------------------------------------------------------------------
# zc.buildout 6's develop and the order of paths


def test_zc_buildout_6_loses_odoo_when_its_path_sorts_before_develop_eggs(
        tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> None:
    """What users of zc.buildout 6 get; 5.2.0 (the other venv of this module) works."""
    root = tmp_path_factory.mktemp("order")
    buildout6 = make_buildout_venv(root / "venv6", requirements=("zc.buildout>=6",))
    sources = copy_standin_source(root / "a-sources")  # sorts before root/build/develop-eggs
    run = run_sample_buildout(buildout6, root / "build", sources, offline=False)
    assert run.returncode == 0, run.stdout + run.stderr
    develop_eggs = root / "build" / "develop-eggs"
    assert (develop_eggs / "odoo.egg-link").is_file()
    assert list(develop_eggs.glob("odoo-17.0*.dist-info"))
    started = _run(root / "build" / "bin" / "start_odoo", "--stop-after-init", server=pg_server)
    assert started.returncode == 1
    assert "ModuleNotFoundError: No module named 'odoo'" in started.stderr
    assert started.stderr.rstrip().endswith("ModuleNotFoundError: No module named 'openerp'")
