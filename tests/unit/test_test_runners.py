"""``pytest`` and ``functional``: their commands, and the server script run for real."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from buildbot.steps.shell import ShellCommand

from buildbot_odoo.capability.definitions import builtin_capabilities, validate_definitions
from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.steps.capability import CapabilityEnvironment
from buildbot_odoo.master.steps.junit import JUnitStep
from buildbot_odoo.master.steps.odoo_tests import OdooTestStep
from buildbot_odoo.master.subfactories.functional import functional, stop_server_cleanup
from buildbot_odoo.master.subfactories.pytest_tests import pytest_subfactory
from tests.support.postgres import free_port

from .subfactory_support import BUILDDIR, DB, ENV, by_name, configurator, render, run_script
from .test_retrieval import options_for

CONFIG = f"{BUILDDIR}/build/etc/odoo.cfg"
#: the stand-in Odoo's odoo-bin: run with a Python, it imports the odoo package beside it
ODOO_BIN = Path(__file__).resolve().parents[1] / "fixtures" / "odoo17" / "odoo-bin"


def made(subfactory, raw: dict[str, str], environ=None, **fields) -> dict:
    options = options_for(raw=raw, start_command="bin/start_odoo", **fields)
    return by_name(subfactory(configurator(), options, "odoo.cfg",
                              ENV if environ is None else environ))


# --- pytest


def test_pytest_defaults():
    steps = made(pytest_subfactory, {})
    assert list(steps) == ["remove-old-pytest-report", "pytest"]
    assert steps["remove-old-pytest-report"].command == ["rm", "-f", "pytest-junit.xml"]
    step = steps["pytest"]
    assert isinstance(step, JUnitStep) and step.no_tests_rc == (5,)
    assert render(step.command) == ["bin/pytest", "--junitxml=pytest-junit.xml"]
    assert render(step.logfiles) == {
        "junit.xml": {"filename": "pytest-junit.xml", "follow": False}}
    assert render(step.env) == {**ENV, "ODOO_RC": CONFIG, "OPENERP_SERVER": CONFIG}


def test_pytest_options():
    step = made(pytest_subfactory, {
        "pytest.executable": "bin/py.test", "pytest.arguments": "-x -k 'not slow' addons/sale_x",
        "pytest.odoo-plugin": "true", "pytest.timeout": "5400"}, buildout_part="odoo17")["pytest"]
    assert render(step.command) == [
        "bin/py.test", "--junitxml=pytest-junit.xml", f"--odoo-database={DB}",
        f"--odoo-config={BUILDDIR}/build/etc/odoo17.cfg", "-x", "-k", "not slow",
        "addons/sale_x"]
    assert step.timeout == 5400


def test_pytest_keeps_the_capability_environment():
    definitions = validate_definitions(builtin_capabilities())
    environ = CapabilityEnvironment([definitions["postgresql"]])
    step = made(pytest_subfactory, {}, environ=environ)["pytest"]
    rendered = render(step.env, cap_postgresql_port="5433")
    assert rendered["PGPORT"] == "5433" and rendered["ODOO_RC"] == CONFIG


@pytest.mark.parametrize(("raw", "message"), [
    ({"pytest.arguments": "'unclosed"}, "pytest.arguments: cannot split arguments"),
    ({"pytest.odoo-plugin": "maybe"}, "pytest.odoo-plugin: 'maybe' is not a boolean"),
    ({"pytest.executable": "bin/pytest -x"}, "pytest.executable: 'bin/pytest -x' must be one "
                                             "executable"),
    ({"pytest.executable": "-x"}, "pytest.executable: '-x': an executable cannot start with "
                                  "'-'"),
])
def test_pytest_bad_options(raw, message):
    with pytest.raises(ConfigError) as caught:
        made(pytest_subfactory, raw)
    assert f"buildouts/MANIFEST.cfg:7: sale: {message}" in str(caught.value)


# --- functional

FUNCTIONAL = {"functional.command": "bin/robot --variable URL:{url} --variable DB:{db} tests"}


def test_functional_steps_start_test_and_stop_the_server():
    steps = made(functional, FUNCTIONAL)
    assert list(steps) == ["download-odoo-server", "start-odoo-server", "functional-tests",
                           "stop-odoo-server"]
    assert steps["download-odoo-server"].workerdest == "worker-scripts/odoo_server.py"
    props = {"odoo_http_port": 9010}
    assert render(steps["start-odoo-server"].command, **props) == [
        "python3", f"{BUILDDIR}/worker-scripts/odoo_server.py", "start",
        "--pidfile", f"{BUILDDIR}/odoo-server.pid", "--output", f"{BUILDDIR}/build/odoo-server.log",
        "--url", "http://127.0.0.1:9010/web/login", "--wait", "60", "--",
        "bin/start_odoo", "-d", DB, "--http-port=9010", "--http-interface=127.0.0.1"]
    tests = steps["functional-tests"]
    assert isinstance(tests, ShellCommand)
    assert render(tests.command, **props) == [
        "bin/robot", "--variable", "URL:http://127.0.0.1:9010", "--variable", f"DB:{DB}", "tests"]
    assert render(tests.env, **props) == {**ENV, "ODOO_URL": "http://127.0.0.1:9010",
                                          "ODOO_HTTP_PORT": "9010", "ODOO_DB": DB}
    stop = steps["stop-odoo-server"]
    assert isinstance(stop, OdooTestStep) and not stop.fail_on_log_errors
    assert render(stop.command) == ["python3", f"{BUILDDIR}/worker-scripts/odoo_server.py",
                                    "stop", "--pidfile", f"{BUILDDIR}/odoo-server.pid"]


def test_functional_always_has_a_port_and_a_cleanup():
    assert functional.needs_http_port is True
    assert functional.final_cleanup_steps is stop_server_cleanup
    [cleanup] = stop_server_cleanup(None, options_for(), ENV)
    assert cleanup.alwaysRun and cleanup.workdir == "." and not cleanup.flunkOnFailure


def test_functional_options():
    steps = made(functional, {
        **FUNCTIONAL, "functional.wait": "120", "functional.path": "/web/health",
        "functional.junit-xml": "out/robot.xml", "functional.server-arguments": "--workers=0",
        "functional.fail-on-server-errors": "true", "functional.timeout": "600"},
        not_used=frozenset({"postgresql"}))
    start = render(steps["start-odoo-server"].command, odoo_http_port=9010)
    assert start[start.index("--url"):] == [
        "--url", "http://127.0.0.1:9010/web/health", "--wait", "120", "--", "bin/start_odoo",
        "--http-port=9010", "--http-interface=127.0.0.1", "--workers=0"]
    assert steps["remove-old-functional-report"].command == ["rm", "-f", "out/robot.xml"]
    tests = steps["functional-tests"]
    assert isinstance(tests, JUnitStep) and tests.timeout == 600
    assert steps["stop-odoo-server"].fail_on_log_errors


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "functional.command: the functional subfactory needs the command running the tests"),
    ({**FUNCTIONAL, "functional.wait": "0"},
     "functional.wait: '0' is out of range: from 1 to 86400"),
    ({**FUNCTIONAL, "functional.path": "web"}, "functional.path: 'web' is not a URL path"),
    ({**FUNCTIONAL, "functional.junit-xml": "/tmp/x.xml"},
     "functional.junit-xml: '/tmp/x.xml': a path must be relative"),
])
def test_functional_bad_options(raw, message):
    with pytest.raises(ConfigError) as caught:
        made(functional, raw)
    assert f"sale: {message}" in str(caught.value)


# --- the server script, with the Odoo stand-in as the server


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def test_server_script_starts_waits_and_stops_a_server(tmp_path):
    port = free_port()
    pidfile, output = tmp_path / "server.pid", tmp_path / "server.log"
    started = run_script(
        "odoo_server.py", "start", "--pidfile", str(pidfile), "--output", str(output),
        "--url", f"http://127.0.0.1:{port}/web/login", "--wait", "30", "--",
        sys.executable, str(ODOO_BIN), "--http-port", str(port),
        "--http-interface", "127.0.0.1")
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"the server answers at http://127.0.0.1:{port}/web/login" in started.stdout
    pid = int(pidfile.read_text())
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert b'"standin": true' in answer.read()
    finally:
        stopped = run_script("odoo_server.py", "stop", "--pidfile", str(pidfile))
    assert stopped.returncode == 0 and f"server pid {pid} stopped" in stopped.stdout
    assert wait_gone(pid) and not pidfile.exists()
    assert "HTTP service (werkzeug) running on 127.0.0.1" in output.read_text()
    again = run_script("odoo_server.py", "stop", "--pidfile", str(pidfile))
    assert again.returncode == 0 and "no server to stop" in again.stdout


def test_server_script_reports_a_server_that_dies(tmp_path):
    done = run_script(
        "odoo_server.py", "start", "--pidfile", str(tmp_path / "p"), "--output",
        str(tmp_path / "out"), "--url", f"http://127.0.0.1:{free_port()}/", "--wait", "30", "--",
        sys.executable, "-c", "import sys; print('cannot load registry'); sys.exit(3)")
    assert done.returncode == 1
    assert "the server exited with status 3 before answering" in done.stderr
    assert "cannot load registry" in done.stderr
    assert not (tmp_path / "p").exists()


def test_server_script_stops_a_server_that_never_answers(tmp_path):
    pidfile = tmp_path / "p"
    done = run_script(
        "odoo_server.py", "start", "--pidfile", str(pidfile), "--output", str(tmp_path / "out"),
        "--url", f"http://127.0.0.1:{free_port()}/", "--wait", "1", "--",
        sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); time.sleep(120)")
    assert done.returncode == 1 and "did not answer" in done.stderr
    pid = int((tmp_path / "out").read_text().split()[0])
    assert wait_gone(pid), "the silent server was left running"
    assert not pidfile.exists()
