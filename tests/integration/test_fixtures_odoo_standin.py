"""The odoo-standin fixture behaves like Odoo where the product depends on it.

End-to-end tests of builds will run the sample buildout and ``bin/test_odoo``
through Buildbot; when they fail, this module tells whether the stand-in itself
still honours the contract: a real offline buildout, anybox-style ``options.*``,
Odoo's command line, a real PostgreSQL chosen by the environment, and Odoo's
log lines for installs, passing, failing and erroring tests.
"""

from __future__ import annotations

import getpass
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.postgres import PgServer, free_port
from tests.support.standin import ADDONS_DIR, run_sample_buildout

pytest_plugins = ["tests.support.pg_fixtures", "tests.support.standin_fixtures"]
pytestmark = pytest.mark.integration

#: Every record's first line, as Odoo 16/17 write it (note the trailing space).
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ "
                    r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ [\w.]+: .* ?$")
OS_USER = getpass.getuser()


# --------------------------------------------------------------------------
# helpers


def _built(buildout: Path, directory: Path, source: Path, *extra: str) -> Path:
    run = run_sample_buildout(buildout, directory, source, extra)
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
                          timeout=120)


def _records(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.match(r"^\d{4}-\d\d-\d\d ", line)]


def _installed(server: PgServer, dbname: str) -> dict[str, str]:
    rows = server.psql("SELECT name, state FROM ir_module_module ORDER BY name", dbname=dbname)
    return dict(line.split("|") for line in rows.splitlines())


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def standin_buildout(buildout_executable: Path, standin_source: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample buildout, built once for the module, offline."""
    return _built(buildout_executable, tmp_path_factory.mktemp("build"), standin_source)


@pytest.fixture
def test_odoo(standin_buildout: Path) -> Path:
    return standin_buildout / "bin" / "test_odoo"


# --------------------------------------------------------------------------
# the buildout and the recipe


def test_sample_buildout_builds_offline(standin_buildout: Path,
                                        buildout_executable: Path) -> None:
    for script in ("start_odoo", "test_odoo"):
        path = standin_buildout / "bin" / script
        assert path.is_file() and path.stat().st_mode & 0o111
        interpreter = Path(path.read_text().splitlines()[0].removeprefix("#!"))
        # the buildout's own Python (sys.executable when the recipe ran), no system one
        assert interpreter.parent == buildout_executable.parent
        assert interpreter.name.startswith("python")
    config = (standin_buildout / "etc" / "odoo.cfg").read_text().splitlines()
    assert config[0] == "[options]"
    assert f"addons_path = {ADDONS_DIR}" in config
    assert "db_name = odoo_standin" in config
    assert "db_port = False" in config


def test_options_from_the_command_line_reach_the_odoo_config(
        buildout_executable: Path, standin_source: Path, tmp_path: Path) -> None:
    """The product's ``<part>:options.*=`` assignments, anybox.recipe.odoo style."""
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       "odoo:options.db_name=odoo_buildbot-x-pg18", "odoo:options.db_port=5433",
                       "odoo:options.db_host=/var/run/pg", "odoo:options.db_user=False",
                       "odoo:options.workers=0")
    config = (directory / "etc" / "odoo.cfg").read_text().splitlines()
    for line in ("db_name = odoo_buildbot-x-pg18", "db_port = 5433",
                 "db_host = /var/run/pg", "db_user = False", "workers = 0"):
        assert line in config


# --------------------------------------------------------------------------
# running tests against real servers


def test_passing_addon_against_every_server(pg_servers: dict[int, PgServer], test_odoo: Path,
                                            tmp_path: Path) -> None:
    for major, server in pg_servers.items():
        db = _fresh_database(server, "somedb")
        logfile = tmp_path / f"pg{major}" / "test.log"
        run = _run(test_odoo, "-d", db, "-i", "standin_ok", f"--logfile={logfile}",
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
        assert re.search(r" INFO somedb odoo\.tests\.stats: standin_ok: 3 tests "
                         r"\d+\.\d\ds \d+ queries ", text)
        assert (" INFO somedb odoo.tests.result: 0 failed, 0 error(s) of 3 tests "
                "when loading database 'somedb' ") in text
        assert " ERROR " not in text and "FAIL:" not in text
        assert _installed(server, db) == {"standin_ok": "installed"}


def test_failing_addon_logs_fail_lines(pg_server: PgServer, test_odoo: Path,
                                       tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "failing")
    logfile = tmp_path / "failing.log"
    run = _run(test_odoo, "-d", db, "-i", "standin_failing", f"--logfile={logfile}",
               server=pg_server)
    assert run.returncode == 0, run.stderr  # like Odoo <= 15: failures only in the log
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
    assert "ERROR failing odoo.tests.result: 1 failed, 0 error(s) of 2 tests when loading " \
           "database 'failing' " in text


def test_erroring_test_logs_error_lines(pg_server: PgServer, test_odoo: Path,
                                        tmp_path: Path) -> None:
    """Also: a database name like the product's (``<prefix>-<builder>``, with dashes)."""
    db = _fresh_database(pg_server, "odoo_buildbot-erroring-pg18")
    logfile = tmp_path / "erroring.log"
    run = _run(test_odoo, "-d", db, "-i", "standin_ok,standin_erroring",
               f"--logfile={logfile}", server=pg_server)
    assert run.returncode == 0, run.stderr
    text = logfile.read_text()
    assert (f"ERROR {db} odoo.addons.standin_erroring.tests.test_boom: "
            "ERROR: TestBoom.test_boom\nTraceback (most recent call last):") in text
    assert "ZeroDivisionError: deliberate error" in text
    assert f"odoo.tests.result: 0 failed, 1 error(s) of 4 tests when loading database '{db}'" \
        in text
    assert _installed(pg_server, db) == {"standin_erroring": "installed",
                                         "standin_ok": "installed"}


def test_nonzero_exit_on_test_failure_when_configured(
        pg_server: PgServer, buildout_executable: Path, standin_source: Path,
        tmp_path: Path) -> None:
    """Odoo 16/17 really exit 1 on failed tests; a config option makes the stand-in do so."""
    directory = _built(buildout_executable, tmp_path / "b", standin_source,
                       "odoo:options.standin_exit_nonzero_on_test_failure=True")
    db = _fresh_database(pg_server, "strict")
    failing = _run(directory / "bin" / "test_odoo", "-d", db, "-i", "standin_failing",
                   server=pg_server)
    assert failing.returncode == 1
    assert "FAIL: TestMixed.test_fails" in failing.stderr
    passing = _run(directory / "bin" / "test_odoo", "-d", _fresh_database(pg_server, "strict"),
                   "-i", "standin_ok", server=pg_server)
    assert passing.returncode == 0, passing.stderr


def test_install_failure_is_an_error_and_exits_nonzero(pg_server: PgServer, test_odoo: Path,
                                                       tmp_path: Path) -> None:
    db = _fresh_database(pg_server, "broken")
    logfile = tmp_path / "broken.log"
    run = _run(test_odoo, "-d", db, "-i", "standin_ok,standin_broken", f"--logfile={logfile}",
               server=pg_server)
    assert run.returncode == 255
    text = logfile.read_text()
    assert "ERROR broken odoo.modules.registry: Failed to load registry " in text
    assert ("CRITICAL broken odoo.service.server: Failed to initialize database `broken`. \n"
            "Traceback (most recent call last):") in text
    assert "InstallError: while installing module 'standin_broken'" in text
    assert "odoo.tests.result" not in text  # no registry, no test report, as in Odoo
    assert "standin_broken" not in _installed(pg_server, db)


def test_missing_database_is_reported(pg_server: PgServer, test_odoo: Path) -> None:
    pg_server.drop_database("never_created")
    run = _run(test_odoo, "-d", "never_created", "-i", "standin_ok", server=pg_server)
    assert run.returncode == 255
    assert 'database "never_created" does not exist' in run.stderr
    assert not pg_server.database_exists("never_created")


def test_relative_logfile_is_refused(pg_server: PgServer, test_odoo: Path) -> None:
    run = _run(test_odoo, "-d", "whatever", "--logfile=var/log/odoo.log", server=pg_server)
    assert run.returncode == 2
    assert "odoo-bin: error: option --logfile: the log file must be an absolute path" \
        in run.stderr


def test_database_user_postgres_is_refused_like_odoo(pg_server: PgServer,
                                                     test_odoo: Path) -> None:
    run = _run(test_odoo, "-d", "whatever", "--db_user=postgres", server=pg_server)
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
    script = directory / "bin" / "test_odoo"
    wrong_port = _run(script, "-i", "standin_ok", server=pg_server, PGHOST="", PGPORT="")
    assert wrong_port.returncode == 255
    assert ".s.PGSQL.1" in wrong_port.stderr  # the configured port was used
    right = _run(script, "-i", "standin_ok", f"--db_port={pg_server.port}", server=pg_server,
                 PGHOST="", PGPORT="")
    assert right.returncode == 0, right.stderr
    assert f"odoo: database: {OS_USER}@{pg_server.socket_dir}:{pg_server.port} " in right.stderr
    assert f"INFO {db} odoo.tests.result: 0 failed, 0 error(s) of 3 tests" in right.stderr
    assert _installed(pg_server, db) == {"standin_ok": "installed"}


def test_update_reruns_tests_of_installed_addons(pg_server: PgServer, test_odoo: Path) -> None:
    db = _fresh_database(pg_server, "update")
    assert _run(test_odoo, "-d", db, "-i", "standin_ok", server=pg_server).returncode == 0
    again = _run(test_odoo, "-d", db, "-i", "standin_ok", server=pg_server)
    assert "WARNING update odoo.tests.result: 0 failed, 0 error(s) of 0 tests" in again.stderr
    update = _run(test_odoo, "-d", db, "-u", "all", "--without-demo=all", server=pg_server)
    assert "odoo.tests.result: 0 failed, 0 error(s) of 3 tests" in update.stderr
    assert pg_server.psql("SELECT demo FROM ir_module_module", dbname=db) == "f"


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
    assert _installed(pg_server, db) == {"standin_ok": "installed"}


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
