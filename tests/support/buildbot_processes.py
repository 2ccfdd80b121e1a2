"""TEST SUPPORT, not product code: real Buildbot masters and workers, and the master's REST API.

The end-to-end tests and the demo (``demo/fleet.py``) run Buildbot the way a
user does, with its own command lines over loopback: ``buildbot create-master``,
``start``, ``reconfig``, ``stop``; ``buildbot-worker create-worker``, ``start``,
``stop``.  They force builds and read them back through the master's REST API
(``/api/v2``), as a user's tools would.  This module is the one place that
knows how, so that every test starts its processes and reads its builds alike:

* :func:`run`, :func:`wait_for`: a command run to its end, a condition polled;
* :func:`worker_environ`: the environment a worker must run in (worker-setup.rst);
* :func:`master_cfg_header`: what every test master.cfg starts with;
* :class:`MasterProcess`, :class:`WorkerProcess`, :class:`Site`: the
  directories and their commands, a master with its workers
  (:class:`StartStop`: a ``with`` block over start and stop);
* :class:`MasterApi`, :class:`FinishedBuild`: the REST API, and a finished
  build as it tells it;
* :func:`standin_site`: the end-to-end tests' site, one worker building the
  stand-in Odoo with the stand-in oca.recipe.odoo against one PostgreSQL server.

Failures raise :class:`ProcessError`, whose message shows the command's output
(and the end of its log), so a test failure or the demo's error says why.
"""

from __future__ import annotations

import abc
import contextlib
import getpass
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.postgres import PgServer, free_port
from tests.support.standin import build_buildout, copy_standin_source

__all__ = [
    "BIN",
    "BUILD_TIMEOUT",
    "CONNECT_TIMEOUT",
    "FORCE_SCHEDULER",
    "STANDIN_SOURCES_DIR",
    "FinishedBuild",
    "MasterApi",
    "MasterProcess",
    "ProcessError",
    "Site",
    "StartStop",
    "WorkerProcess",
    "master_cfg_header",
    "run",
    "standin_site",
    "wait_for",
    "worker_environ",
]

#: the project's virtualenv: buildbot, buildbot-worker, buildbot-odoo (the master side)
BIN = Path(sys.executable).parent
#: the force scheduler every buildbot-odoo master has
FORCE_SCHEDULER = "buildbot-odoo-force"
CONNECT_TIMEOUT = 90
BUILD_TIMEOUT = 600
#: how long a master or worker may take to end after SIGTERM before it is killed
STOP_TIMEOUT = 120

_MASTER_CFG_HEADER = '''\
# -*- python -*-
# A master of the tests (tests/support/buildbot_processes.py): loopback only, on
# free ports, SQLite, no usage report, every build request built on its own.
c = BuildmasterConfig = {{}}
c["protocols"] = {{"pb": {{"port": "tcp:{pb}:interface=127.0.0.1"}}}}
c["www"] = {{"port": "tcp:{www}:interface=127.0.0.1", "plugins": {{}}}}
c["buildbotURL"] = "http://127.0.0.1:{www}/"
c["db"] = {{"db_url": "sqlite:///state.sqlite"}}
c["buildbotNetUsageData"] = None
c["collapseRequests"] = False
'''


class ProcessError(RuntimeError):
    """A command, a wait or a REST call failed; the message says what and shows the output."""


# --------------------------------------------------------------------------
# commands


def run(command: Sequence, env: dict | None = None, cwd: Path | None = None,
        what: str = "", timeout: float = 300, log: Path | None = None) -> str:
    """Run an argument list; its output, or ProcessError with the output (and a log tail)."""
    args = [str(c) for c in command]
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProcessError(f"{what or args[0]}: {exc}") from None
    if done.returncode != 0:
        tail = ""
        if log is not None and log.exists():
            tail = "\n--- " + str(log) + " (end) ---\n" + log.read_text(errors="replace")[-3000:]
        raise ProcessError(f"{what or ' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout}{done.stderr}{tail}")
    return done.stdout


def wait_for(condition: Callable[[], object], what: str, timeout: float) -> object:
    """Poll ``condition`` until it is true; its value, or ProcessError after ``timeout`` s.

    A condition that cannot be evaluated yet (the REST API not up, the item
    not there) counts as false.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (OSError, IndexError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise ProcessError(f"timed out after {timeout:.0f}s waiting for {what}")


def worker_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A worker's environment: no virtualenv's bin on PATH, no libpq variable.

    worker-setup.rst: do not start the worker from an activated virtualenv nor
    with a virtualenv's ``bin`` on PATH; the build steps (buildout first) would
    use its Python.  libpq variables are dropped so that only capability
    options choose the cluster a build uses.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith("PG") and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    kept = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not _is_virtualenv_bin(Path(p))]
    env["PATH"] = os.pathsep.join(kept or ["/usr/bin", "/bin"])
    return env


def _is_virtualenv_bin(directory: Path) -> bool:
    return (directory.parent / "pyvenv.cfg").is_file() or directory.resolve() == BIN.resolve()


# --------------------------------------------------------------------------
# processes


def master_cfg_header(pb_port: int, www_port: int) -> str:
    """The first lines of a test master.cfg; it goes on with its own (``c`` is the config).

    PB and the web server listen on 127.0.0.1 only; ``collapseRequests`` is
    off so that every forced or scheduled request is one build a test can count.
    """
    return _MASTER_CFG_HEADER.format(pb=pb_port, www=www_port)


def stop_twistd(program: Path, directory: Path, what: str,
                env: dict[str, str] | None = None, timeout: float = STOP_TIMEOUT) -> None:
    """``PROGRAM stop DIRECTORY``, then SIGKILL if the process outlives ``timeout`` s.

    ``buildbot stop`` and ``buildbot-worker stop`` send SIGTERM and give up
    after a fixed 10 seconds ("never saw process go away"); a loaded machine
    may well need longer to shut a master down cleanly, so the process is
    given ``timeout`` seconds in all before it is killed.  A master whose
    shutdown hangs would outlive the test run, holding its ports: no test may
    leave a process behind.  The kill is written to the process's own log,
    where a test that fails later can show it.
    """
    pidfile = directory / "twistd.pid"
    if not pidfile.exists():
        return
    with contextlib.suppress(ValueError, OSError):
        pid = int(pidfile.read_text().strip())
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ProcessError):
            run([program, "stop", directory], env=env, what=f"stopping {what}", timeout=timeout)
        with contextlib.suppress(ProcessError):
            wait_for(lambda: not _alive(pid), f"{what} to end",
                     max(deadline - time.monotonic(), 0))
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            with open(directory / "twistd.log", "a") as log:
                log.write(f"\n[test harness] {what} did not stop on SIGTERM: killed\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class MasterProcess:
    """A master directory driven with the ``buildbot`` command, on two free ports."""

    def __init__(self, directory: Path, program: Path = BIN / "buildbot"):
        self.directory = Path(directory)
        self.program = program
        self.pb_port = free_port()
        self.www_port = free_port()
        self.api = MasterApi(self.url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.www_port}/"

    @property
    def log(self) -> Path:
        return self.directory / "twistd.log"

    def create(self, config: str | None = None, files: Mapping[str, str] | None = None) -> None:
        """``buildbot create-master``; then master.cfg (the header and ``config``) and ``files``.

        ``files`` maps paths relative to the master directory to their text.
        """
        run([self.program, "create-master", "-r", self.directory],
            what="buildbot create-master")
        if config is not None:
            self.write("master.cfg", master_cfg_header(self.pb_port, self.www_port) + config)
        for name, text in (files or {}).items():
            self.write(name, text)

    def write(self, name: str, text: str) -> Path:
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def start(self, timeout: float = 180) -> None:
        """``buildbot start``, which follows the log until the master runs.

        It gives up after 10 seconds without a line it knows (loading a
        master.cfg on a busy machine can take that): it is given ``timeout``.
        """
        run([self.program, "start", f"--start_timeout={timeout}", self.directory],
            what="buildbot start", log=self.log, timeout=timeout + 30)

    def reconfig(self, timeout: float = 180) -> None:
        """``buildbot reconfig``; like start, its 10 s without progress become ``timeout``."""
        run([self.program, "reconfig", f"--progress_timeout={timeout}", self.directory],
            what="buildbot reconfig", log=self.log, timeout=timeout + 30)

    def stop(self) -> None:
        """``buildbot stop`` if it runs; a failure to stop is not one of the test's."""
        stop_twistd(self.program, self.directory, "the master")

    def pid(self) -> int | None:
        """The master's process id while its ``twistd.pid`` names a live process."""
        with contextlib.suppress(ValueError, OSError):
            pid = int((self.directory / "twistd.pid").read_text().strip())
            if _alive(pid):
                return pid
        return None

    def running(self) -> bool:
        return self.pid() is not None

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost host would end it: nothing of it runs afterwards."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _alive(pid), f"master process {pid} to end", 60)


@dataclass
class WorkerProcess:
    """A worker directory driven with ``buildbot-worker``, in :func:`worker_environ`."""

    directory: Path
    name: str
    password: str
    program: Path = BIN / "buildbot-worker"
    env: dict[str, str] = field(default_factory=worker_environ)

    @property
    def log(self) -> Path:
        return self.directory / "twistd.log"

    def create(self, master_pb_port: int) -> None:
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        run([self.program, "create-worker", "-r", self.directory,
             f"127.0.0.1:{master_pb_port}", self.name, self.password], env=self.env,
            what=f"create-worker {self.name}")

    def start(self) -> None:
        """``buildbot-worker start --quiet``: started; its connection is waited for by the caller.

        Without ``--quiet`` the command follows the log for a fixed 10
        seconds and reports failure when the worker has not connected by
        then, which a busy machine can take; :meth:`Site.wait_connected`
        waits on the master's word instead.
        """
        run([self.program, "start", "--quiet", self.directory], env=self.env, log=self.log,
            what=f"starting worker {self.name}", timeout=120)

    def stop(self) -> None:
        stop_twistd(self.program, self.directory, f"worker {self.name}", env=self.env)

    def connected(self, api: MasterApi) -> bool:
        return api.worker_connected(self.name)


class StartStop(abc.ABC):
    """``with`` over :meth:`start` and :meth:`stop`; what failed half-way to start is stopped.

    :meth:`stop` must therefore stop whatever part runs, and nothing else.
    """

    @abc.abstractmethod
    def start(self) -> None:
        """Start everything, in dependency order."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop whatever runs, in reverse order; never raises for what is not running."""

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


class Site(StartStop):
    """A master and its workers under ``root``: started master first, stopped workers first.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, root: Path, master: MasterProcess | None = None):
        self.root = Path(root)
        self.master = master if master is not None else MasterProcess(self.root / "master")
        self.workers: list[WorkerProcess] = []

    @property
    def api(self) -> MasterApi:
        return self.master.api

    def add_worker(self, name: str, password: str, directory: Path | None = None,
                   program: Path = BIN / "buildbot-worker",
                   env: dict[str, str] | None = None) -> WorkerProcess:
        """``buildbot-worker create-worker`` for this master (default: ``root/workers/NAME``)."""
        worker = WorkerProcess(directory or self.root / "workers" / name, name, password,
                               program, worker_environ() if env is None else env)
        worker.create(self.master.pb_port)
        self.workers.append(worker)
        return worker

    def wait_connected(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Every worker is connected, as the master says; else the end of the worker's log."""
        for worker in self.workers:
            try:
                wait_for(lambda w=worker: w.connected(self.api),
                         f"worker {worker.name} to connect", timeout)
            except ProcessError as exc:
                tail = (worker.log.read_text(errors="replace")[-3000:] if worker.log.exists()
                        else "(no log)")
                raise ProcessError(f"{exc}\n--- {worker.log} (end) ---\n{tail}") from None

    def start(self) -> None:
        self.master.start()
        for worker in self.workers:
            worker.start()
        self.wait_connected()

    def stop(self) -> None:
        """Workers, then the master; each runs regardless of the others."""
        for worker in reversed(self.workers):
            worker.stop()
        self.master.stop()


# --------------------------------------------------------------------------
# the REST API


class MasterApi:
    """The parts of Buildbot's REST API (``/api/v2``) the tests and the demo use."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/") + "/api/v2"

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.load(response)

    def raw(self, path: str) -> str:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return response.read().decode("utf-8", "replace")

    def one(self, collection: str, path: str) -> dict:
        return self.get(path)[collection][0]

    def names(self, collection: str) -> set[str]:
        """The names in a collection: ``builders``, ``schedulers``, ``changesources``..."""
        return {item["name"] for item in self.get(f"/{collection}")[collection]}

    def builders(self) -> list[dict]:
        return self.get("/builders")["builders"]

    def worker_connected(self, name: str) -> bool:
        return bool(self.one("workers", f"/workers/{name}")["connected_to"])

    def latest_change(self) -> dict:
        return self.one("changes", "/changes?order=-changeid&limit=1")

    # -- forcing and waiting

    def force(self, builder: str, reason: str | None = None, *,
              scheduler: str = FORCE_SCHEDULER, params: Mapping[str, str] | None = None) -> int:
        """Force ``builder`` through a force scheduler; the build request id.

        ``params`` are the scheduler's own parameters (its properties' names).
        """
        builderid = self.one("builders", f"/builders/{builder}")["builderid"]
        values = {"builderid": builderid, **(params or {})}
        if reason is not None:
            values["reason"] = reason
        body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                           "params": values}).encode()
        request = urllib.request.Request(f"{self.base}/forceschedulers/{scheduler}", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:
            raise ProcessError(f"forcing {builder}: HTTP {exc.code} "
                               f"{exc.read().decode(errors='replace')}") from None
        if "error" in answer:
            raise ProcessError(f"forcing {builder}: {answer['error']}")
        return int(next(iter(answer["result"][1].values())))

    def request_complete(self, brid: int) -> bool:
        return bool(self.one("buildrequests", f"/buildrequests/{brid}")["complete"])

    def wait_complete(self, brid: int, what: str, timeout: float = BUILD_TIMEOUT) -> None:
        wait_for(lambda: self.request_complete(brid), what, timeout)

    def build_request_counts(self) -> dict[str, int]:
        """Build requests so far, per builder name (0 for a builder without any)."""
        builders = {b["builderid"]: b["name"] for b in self.builders()}
        counts = dict.fromkeys(builders.values(), 0)
        for request in self.get("/buildrequests")["buildrequests"]:
            counts[builders[request["builderid"]]] += 1
        return counts

    def build(self, builder: str, timeout: float = BUILD_TIMEOUT) -> FinishedBuild:
        """Force ``builder``, wait for the end of its build, and read it."""
        started = time.monotonic()
        return self.finished_build(self.force(builder), timeout, f"the build of {builder}",
                                   started)

    def finished_build(self, brid: int, timeout: float = BUILD_TIMEOUT, what: str = "",
                       started: float | None = None) -> FinishedBuild:
        """Wait for build request ``brid`` to complete, then read its build.

        ``wall`` of the result counts from ``started`` (a ``time.monotonic()``),
        by default from this call.
        """
        started = time.monotonic() if started is None else started
        self.wait_complete(brid, what or f"build request {brid}", timeout)
        build = self.read_build(brid)
        build.wall = round(time.monotonic() - started, 1)
        return build

    def read_build(self, brid: int) -> FinishedBuild:
        """The build of request ``brid``, its steps and properties."""
        data = self.build_of_request(brid)
        return FinishedBuild(self, data, self.steps(data["buildid"]),
                             self.properties(data["buildid"]))

    # -- builds

    def build_of_request(self, brid: int) -> dict:
        return self.one("builds", f"/builds?buildrequestid={brid}")

    def steps(self, buildid: int) -> list[dict]:
        return self.get(f"/builds/{buildid}/steps")["steps"]

    def properties(self, buildid: int) -> dict:
        props = self.get(f"/builds/{buildid}/properties")["properties"][0]
        return {name: value for name, (value, _source) in props.items()}

    def _logid(self, stepid: int, log_name: str) -> int | None:
        logs = self.get(f"/steps/{stepid}/logs")["logs"]
        return next((log["logid"] for log in logs if log["name"] == log_name), None)

    def step_log(self, stepid: int, log_name: str) -> str:
        """A step log's whole text, found by its name (``odoo.log``, ``stdio``)."""
        logid = self._logid(stepid, log_name)
        return "" if logid is None else self.raw(f"/logs/{logid}/raw")

    def step_output(self, stepid: int, log_name: str = "stdio") -> list[str]:
        """What the command wrote to its stdout: the ``o`` lines of a stream log.

        A stream log's chunks prefix each line with its channel: ``h`` for
        Buildbot's header (the command, its environment), ``o`` and ``e``.
        """
        logid = self._logid(stepid, log_name)
        if logid is None:
            return []
        chunks = self.get(f"/logs/{logid}/contents")["logchunks"]
        lines = "".join(chunk["content"] for chunk in chunks).splitlines()
        return [line[1:] for line in lines if line.startswith("o")]

    # -- test results

    def test_result_sets(self, buildid: int) -> list[dict]:
        return self.get(f"/builds/{buildid}/test_result_sets")["test_result_sets"]

    def test_results(self, setid: int) -> list[dict]:
        return self.get(f"/test_result_sets/{setid}/results")["test_results"]

    def tests_summary(self, buildid: int) -> str:
        """``2 passed, 0 failed, 1 skipped`` from the build's test results."""
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        sets = self.test_result_sets(buildid)
        for result_set in sets:
            if result_set["category"] == "pass_fail":
                counts["passed"] += result_set["tests_passed"] or 0
                counts["failed"] += result_set["tests_failed"] or 0
            elif result_set["category"] == "skipped":
                counts["skipped"] += len(self.test_results(result_set["test_result_setid"]))
        if not sets:
            return "no test results"
        return ", ".join(f"{n} {word}" for word, n in counts.items())


@dataclass
class FinishedBuild:
    """A finished build as the REST API tells it: the build, its steps, its properties."""

    api: MasterApi
    data: dict
    steps: list[dict]
    properties: dict
    wall: float = 0.0  # seconds from the force request (or the wait) to the request's end

    @property
    def result(self) -> int:
        return self.data["results"]

    def step(self, name: str) -> dict:
        return next(s for s in self.steps if s["name"] == name)

    def log(self, step_name: str, log: str = "stdio") -> str:
        return self.api.step_log(self.step(step_name)["stepid"], log)

    def elapsed(self, step_name: str) -> float:
        """The command's run time as the worker measured it (the REST times are whole seconds)."""
        match = re.search(r"^elapsedTime=([0-9.]+)$", self.log(step_name), re.MULTILINE)
        return round(float(match.group(1)), 2) if match else float("nan")

    def explain(self) -> str:
        """One line per step, its result and summary: the message of a failed assertion."""
        return "\n".join(f"{s['name']}: {s['results']} {s['state_string']}" for s in self.steps)


# --------------------------------------------------------------------------
# the end-to-end tests' site


#: where :func:`standin_site` copies the stand-in sources: a name sorting after the
#: worker's directory, so that the Odoo tree's path sorts after every
#: ``<worker>/<builder>/build/develop-eggs`` (zc.buildout 6 would otherwise put the
#: dist-info it leaves there first on the scripts' path, see tests/fixtures/README.md;
#: test_recipe_e2e.py builds the other order on purpose)
STANDIN_SOURCES_DIR = "z-standin-sources"


def standin_site(root: Path, pg: PgServer, config: str, manifest: str, *,
                 password: str = "e2e-secret", password_option: str | None = None,
                 capability: str | None = None) -> Site:
    """A master and its worker ``w1`` building the stand-in Odoo against ``pg`` (not started).

    The master is created with ``config`` after the header and ``manifest`` as
    ``buildouts/MANIFEST.cfg``; workers.cfg declares ``pg`` as w1's postgresql
    capability (``capability``, default :meth:`PgServer.capability_line`);
    ``buildouts/standin.cfg`` is :func:`build_buildout` of copies of the
    stand-in Odoo tree and recipe (in ``root/z-standin-sources``), with one egg
    from the package index (a cold build fills the worker's egg cache, a warm
    one finds it there).  The worker runs as this OS user, libpq's default role
    (worker-setup.rst): that role may create databases on ``pg``.  The worker
    connects with ``password``; workers.cfg says ``password_option`` (default:
    the password itself; ``secret:NAME`` takes it from the master's secrets
    providers, which ``config`` sets up).
    """
    pg.create_role(getpass.getuser(), createdb=True)
    buildout = build_buildout(copy_standin_source(root / STANDIN_SOURCES_DIR),
                              index_eggs=["six"])
    site = Site(root)
    site.master.create(config, {
        "workers.cfg": f"[w1]\npassword = {password_option or password}\n"
                       f"capability = {capability or pg.capability_line()}\n",
        "buildouts/MANIFEST.cfg": manifest,
        "buildouts/standin.cfg": buildout,
    })
    site.add_worker("w1", password, root / "worker")
    return site
