"""Faults with real processes: a worker killed, PostgreSQL stopped, the master restarted.

One master, one worker ``w1`` and a PostgreSQL cluster of this module's own
(:func:`standin_site`, a private :class:`PgServer` since one test stops it).
The moment to inflict a fault is never guessed with a sleep: the test
master.cfg registers a test-only post-buildout subfactory, ``hold``, whose
step makes a named pipe ``<gates>/<builder>-<build number>`` and waits for
a writer on it -- optionally from ``psql``, connected to the testing
database as Odoo's test run is.  The test waits (REST API, then the pipe,
then pg_stat_activity) until the build is held there, does the harm, and
releases the step by writing to the pipe.

* A worker killed with SIGKILL in the middle of a build: Buildbot's
  ``Build.lostRemote`` ends the build with RETRY (the running step too, as
  its remote command fails with ConnectionLost) and no further step runs,
  clean-ups included; ``Builder.buildFinished`` unclaims the request instead
  of completing it, and it is built again when the worker is back.  The
  commands of the lost build live on (buildbot-worker runs each in its own
  process group): here a ``psql`` still connected to the testing database.
  The next build must still succeed, and leave no testing database and no
  port claim behind.
* PostgreSQL stopped during a build: the build fails at the step that
  needed it, with PostgreSQL's message; the clean-ups run and only warn; the
  next build, once the server is back, succeeds.
* The master restarted while requests wait for the only worker: Buildbot
  keeps them in its database, and every one is built after the restart.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, RETRY, SUCCESS, WARNINGS

from tests.support.buildbot_processes import (
    BUILD_TIMEOUT,
    CONNECT_TIMEOUT,
    MasterApi,
    ProcessError,
    Site,
    WorkerProcess,
    standin_site,
    wait_for,
)
from tests.support.postgres import PgInstall, PgServer, free_port, newest_install

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

#: the worker-side program of the ``hold`` step: make the pipe, then wait on it
#: (or let psql, connected first, read its commands from it)
HOLD_PROGRAM = r"""
import os, sys
gate, command = sys.argv[1], sys.argv[2:]
os.mkfifo(gate)
if command:
    os.execvp(command[0], [*command, "-f", gate])
with open(gate) as stream:
    print(stream.read())
"""

#: after the test master's header
MASTER_CFG = '''\
from buildbot.plugins import steps, util

from buildbot_odoo import BuildoutsConfigurator

HOLD_PROGRAM = {program!r}
GATES = {gates!r}


def hold(configurator, options, buildout_path, environ):
    """TEST ONLY: wait on a named pipe; with hold.connect = true, in psql on the testing db."""
    gate = util.Interpolate(GATES + "/%(prop:buildername)s-%(prop:buildnumber)s")
    command = ["python3", "-c", HOLD_PROGRAM, gate]
    if options.subfactory("hold").get("connect") == "true":
        command += ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                    util.Property("testing_db")]
    return [steps.ShellCommand(name="hold", command=command, env=environ,
                               haltOnFailure=True)]


hold.options = ("connect",)

conf = BuildoutsConfigurator(basedir)
conf.post_buildout_steps["hold"] = hold
conf.populate(c)
'''

MANIFEST_CFG = """\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok

[lost-worker]
odoo.use-port = true
odoo.http-port-min = {port_min}
odoo.http-port-max = {port_max}
post-buildout-steps = hold install-modules-test
hold.connect = true

[pg-down]
post-buildout-steps = hold install-modules-test

[queued]
"""


@pytest.fixture(scope="module")
def pg(pg_installations: list[PgInstall], tmp_path_factory) -> Iterator[PgServer]:
    """A cluster of this module only: one of its tests stops it."""
    with PgServer(newest_install(pg_installations),
                  tmp_path_factory.mktemp("faults-pg")) as server:
        yield server


@pytest.fixture(scope="module")
def gates(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gates")


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg: PgServer, gates: Path) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("faults")
    port_min = free_port()
    config = MASTER_CFG.format(program=HOLD_PROGRAM, gates=str(gates))
    manifest = MANIFEST_CFG.format(port_min=port_min, port_max=port_min + 500)
    made = standin_site(root, pg, config, manifest)
    try:
        with made:
            yield made
    finally:
        release_every_gate(gates)


# -- helpers


def builder(api: MasterApi, build: str) -> str:
    """The builder of ``build`` (the one PostgreSQL version of the site)."""
    return next(name for name in api.names("builders") if name.startswith(build + "-pg"))


def builds_of(api: MasterApi, brid: int) -> list[dict]:
    """Every build of request ``brid``, first first."""
    return api.get(f"/builds?buildrequestid={brid}&order=buildid")["builds"]


def step_started(api: MasterApi, build: dict, name: str) -> dict | None:
    return next((s for s in api.steps(build["buildid"])
                 if s["name"] == name and s["started_at"] is not None), None)


def gate_of(gates: Path, build: dict, api: MasterApi) -> Path:
    name = next(b["name"] for b in api.builders() if b["builderid"] == build["builderid"])
    return gates / f"{name}-{build['number']}"


def is_pipe(path: Path) -> bool:
    return path.exists() and stat.S_ISFIFO(path.stat().st_mode)


def held_build(api: MasterApi, brid: int, gates: Path, attempt: int = 1) -> tuple[dict, Path]:
    """Wait for build number ``attempt`` of request ``brid`` to be held by its ``hold`` step."""
    build = wait_for(lambda: builds_of(api, brid)[attempt - 1], f"build {attempt} of {brid}",
                     BUILD_TIMEOUT)

    def holding() -> dict | None:
        step = step_started(api, build, "hold")
        if step is None and api.one("builds", f"/builds/{build['buildid']}")["complete"]:
            raise ProcessError(f"build {build['buildid']} ended before its hold step:\n"
                               + "\n".join(f"{s['name']}: {s['results']} {s['state_string']}"
                                            for s in api.steps(build["buildid"])))
        return step

    wait_for(holding, "the hold step", BUILD_TIMEOUT)
    gate = gate_of(gates, build, api)
    wait_for(lambda: is_pipe(gate), f"the pipe {gate}", 60)
    return build, gate


def release(gate: Path, sql: str = "SELECT 1;\n") -> None:
    """Open the pipe for writing (its reader waits for that), write, close."""
    with open(gate, "w") as stream:
        stream.write(sql)


def release_every_gate(gates: Path) -> None:
    """A reader still waiting (a lost build's) gets end-of-file and ends: nothing left running."""
    for gate in gates.iterdir():
        with contextlib.suppress(OSError):  # ENXIO: nobody reads that one any more
            os.close(os.open(gate, os.O_WRONLY | os.O_NONBLOCK))


def finished(api: MasterApi, build: dict) -> dict:
    return wait_for(lambda: (b := api.one("builds", f"/builds/{build['buildid']}"))["complete"]
                    and b, f"the end of build {build['buildid']}", BUILD_TIMEOUT)


def claims(worker: WorkerProcess) -> list[str]:
    return sorted(p.name for p in (worker.directory / "port-claims").glob("*.claim"))


def kill(worker: WorkerProcess) -> None:
    """SIGKILL the worker process, as the OOM killer would; nothing of it runs afterwards."""
    pid = int((worker.directory / "twistd.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), f"worker process {pid} to end", 60)


def running(site: Site) -> None:
    """The worker and the cluster are up (a failed test before must not fail the next)."""
    for worker in site.workers:
        if not worker.connected(site.api):
            worker.start()
    site.wait_connected()


# -- 17: the worker killed in the middle of a build


def test_worker_killed_mid_build_the_build_is_retried_and_nothing_is_left(site, pg, gates):
    api, worker = site.api, site.workers[0]
    brid = api.force(builder(api, "lost-worker"))
    lost, _ = held_build(api, brid, gates)
    props = api.properties(lost["buildid"])
    db = props["testing_db"]
    # the build holds what a test run holds: its database, a session on it, its port
    wait_for(lambda: pg.sessions(db) == 1, f"psql's session on {db}", 60)
    assert claims(worker) == [f"{props['odoo_http_port']}.claim"]

    kill(worker)
    lost = finished(api, lost)
    assert lost["results"] == RETRY, lost
    assert step_started(api, lost, "hold")["results"] == RETRY
    assert "drop-testing-database" not in {s["name"] for s in api.steps(lost["buildid"])}
    request = api.one("buildrequests", f"/buildrequests/{brid}")
    assert (request["claimed"], request["complete"]) == (False, False), request
    assert pg.sessions(db) == 1, "the lost build's psql lives on, connected"

    worker.start()
    site.wait_connected(CONNECT_TIMEOUT)
    retried, gate2 = held_build(api, brid, gates, attempt=2)
    release(gate2)
    retried = finished(api, retried)
    steps = {s["name"]: s for s in api.steps(retried["buildid"])}
    explain = "\n".join(f"{n}: {s['results']} {s['state_string']}" for n, s in steps.items())
    assert retried["results"] == SUCCESS, explain
    request = api.one("buildrequests", f"/buildrequests/{brid}")
    assert (request["complete"], request["results"]) == (True, SUCCESS)
    assert [b["results"] for b in builds_of(api, brid)] == [RETRY, SUCCESS]
    # nothing of either build is left: database, sessions, port claims
    assert not pg.database_exists(db)
    assert claims(worker) == []
    assert pg.sessions(db) == 0


# -- 18: PostgreSQL stopped during a build


def test_postgresql_stopped_mid_build_fails_a_named_step_and_the_next_build_passes(
        site, pg, gates):
    running(site)
    api = site.api
    name = builder(api, "pg-down")
    brid = api.force(name)
    build, gate = held_build(api, brid, gates)
    db = api.properties(build["buildid"])["testing_db"]
    pg.halt()
    try:
        release(gate)
        build = finished(api, build)
    finally:
        pg.resume()
    steps = {s["name"]: s for s in api.steps(build["buildid"])}
    explain = "\n".join(f"{n}: {s['results']} {s['state_string']}" for n, s in steps.items())
    assert build["results"] == FAILURE, explain
    failed = [n for n, s in steps.items() if s["results"] == FAILURE]
    assert failed == ["odoo-tests"], explain
    # PostgreSQL's own words, as libpq gives them, where the user looks
    tests_text = (api.step_log(steps["odoo-tests"]["stepid"], "stdio")
                  + api.step_log(steps["odoo-tests"]["stepid"], "odoo.log"))
    assert PG_UNREACHABLE.search(tests_text), tests_text[-3000:]
    # the summary of the step that met it names the server (here its socket directory, as
    # the worker's capability line gives it) and libpq's reason
    unreachable = f"could not connect to PostgreSQL at {pg.socket_dir} (port {pg.port}): "
    assert steps["odoo-tests"]["state_string"].startswith(unreachable), explain
    # the first failure is the build's summary; the clean-up ran, and only warns
    assert "odoo-tests" in build["state_string"] or steps["odoo-tests"]["state_string"] in \
        build["state_string"], build["state_string"]
    drop = steps["drop-testing-database"]
    assert drop["results"] == WARNINGS, explain
    assert drop["state_string"].startswith(f"could not drop {db}: {unreachable}"), explain
    assert PG_UNREACHABLE.search(api.step_log(drop["stepid"], "stdio"))

    again, gate = held_build(api, api.force(name), gates)
    release(gate)
    again = finished(api, again)
    assert again["results"] == SUCCESS, api.steps(again["buildid"])
    assert not pg.database_exists(db)


#: libpq's message when nothing listens (PostgreSQL >= 14, then older ones)
PG_UNREACHABLE = re.compile(r"connection to server .* failed|could not connect to server")


# -- 19: the master restarted while requests are queued


def test_requests_queued_across_a_master_restart_are_all_built(site):
    running(site)
    api, worker = site.api, site.workers[0]
    worker.stop()
    wait_for(lambda: not worker.connected(api), "the worker to disconnect", CONNECT_TIMEOUT)
    name = builder(api, "queued")
    queued = [api.force(name, reason=f"queued {n}") for n in range(3)]
    for brid in queued:
        request = api.one("buildrequests", f"/buildrequests/{brid}")
        assert (request["claimed"], request["complete"]) == (False, False)

    site.master.stop()
    site.master.start()
    # the requests outlived the master: Buildbot keeps them in its database
    for brid in queued:
        request = api.one("buildrequests", f"/buildrequests/{brid}")
        assert (request["claimed"], request["complete"]) == (False, False), request
    worker.start()
    site.wait_connected()
    for brid in queued:
        api.wait_complete(brid, f"queued request {brid}")
        request = api.one("buildrequests", f"/buildrequests/{brid}")
        assert (request["claimed"], request["results"]) == (True, SUCCESS), request
        assert [b["results"] for b in builds_of(api, brid)] == [SUCCESS]
