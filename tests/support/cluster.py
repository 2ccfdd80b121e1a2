"""TEST SUPPORT, not product code: a Buildbot cluster of real processes (docs/scale-out.md).

Several masters of one Buildbot cluster share one PostgreSQL database and a
WAMP router; each worker reaches "its" master through a TCP proxy that sends
it to another master when its own is down.  This module runs each part the
way docs/scale-out.md tells a user to:

* :class:`CrossbarRouter`: ``crossbar start`` on a node directory of its own
  (realm ``buildbot``, anonymous role, one WebSocket transport on a free
  loopback port);
* :class:`WorkerProxy`: HAProxy in TCP mode, one frontend per master: its
  master first, the others as ``backup`` servers, health-checked often, so a
  worker's reconnection lands on a running master;
* :class:`ClusterDatabase`: a database and its owner role on a
  :class:`~tests.support.postgres.PgServer`, and the SQLAlchemy URL of it;
* :func:`cluster_cfg`: the master.cfg lines of a master of the cluster, after
  :func:`~tests.support.buildbot_processes.master_cfg_header`;
* :class:`Cluster`: the masters, the router, the proxy and the workers under
  one root, started in dependency order and stopped in reverse.

Long-running programs (crossbar, haproxy) run in a session of their own,
so that stopping one stops the processes it spawned (crossbar's router runs
in a child process); each one's output goes to a log shown when it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.buildbot_processes import (
    BIN,
    CONNECT_TIMEOUT,
    MasterApi,
    MasterProcess,
    ProcessError,
    StartStop,
    WorkerProcess,
    run,
    wait_for,
    worker_environ,
)
from tests.support.postgres import PgServer, free_port, quote_ident

__all__ = [
    "REALM",
    "Cluster",
    "ClusterDatabase",
    "CrossbarRouter",
    "DaemonProcess",
    "WorkerProxy",
    "cluster_cfg",
    "haproxy_program",
]

REALM = "buildbot"
#: how often HAProxy checks that a master accepts connections, and the worker's
#: longest wait between two connection attempts (``buildbot-worker create-worker
#: --maxdelay``): both bound how long a worker takes to reach another master
HEALTH_CHECK_MS = 300
WORKER_MAX_DELAY = 5
START_TIMEOUT = 120

_CLUSTER_CFG = '''\
# a master of a cluster (docs/scale-out.md): one database, one WAMP router
c["db"] = {{"db_url": {db_url!r}}}
c["mq"] = {{"type": "wamp", "router_url": {router_url!r}, "realm": {realm!r}}}
c["multiMaster"] = True
'''


def cluster_cfg(db_url: str, router_url: str, realm: str = REALM) -> str:
    """The lines that make a test master one of a cluster (they replace the header's SQLite)."""
    return _CLUSTER_CFG.format(db_url=db_url, router_url=router_url, realm=realm)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


class DaemonProcess(StartStop):
    """A program that runs in the foreground until stopped, in a session of its own."""

    what = "a daemon"

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.process: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.directory / "output.log"

    def command(self) -> list:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no output)"
        return f"--- {self.log} (end) ---\n{text[-3000:]}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(c) for c in self.command()], stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.directory,
                                            start_new_session=True)

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise ProcessError(f"{self.what} ended ({self.process.returncode}) while "
                                   f"starting:\n{self.tail()}")
            return self.ready()

        try:
            wait_for(up, f"{self.what} to be ready", START_TIMEOUT)
        except ProcessError as exc:
            raise ProcessError(f"{exc}\n{self.tail()}") from None

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL if it outlives a minute."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        with contextlib.suppress(ProcessLookupError):  # what it left behind in its group
            os.killpg(process.pid, signal.SIGKILL)


class CrossbarRouter(DaemonProcess):
    """A crossbar node: one router worker, realm :data:`REALM`, a WebSocket transport."""

    what = "the crossbar router"

    def __init__(self, directory: Path, program: Path = BIN / "crossbar"):
        super().__init__(directory)
        self.program = program
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def node_dir(self) -> Path:
        return self.directory / ".crossbar"

    def config(self) -> dict:
        """docs/scale-out.md's router configuration, on this router's port."""
        anyone = {"uri": "", "match": "prefix",
                  "allow": {"call": True, "register": True, "publish": True,
                            "subscribe": True},
                  "disclose": {"caller": False, "publisher": False}, "cache": True}
        return {
            "version": 2,
            "controller": {},
            "workers": [{
                "type": "router",
                "realms": [{"name": REALM,
                            "roles": [{"name": "anonymous", "permissions": [anyone]}]}],
                "transports": [{
                    "type": "web",
                    "endpoint": {"type": "tcp", "port": self.port, "interface": "127.0.0.1"},
                    "paths": {"ws": {"type": "websocket"}},
                }],
            }],
        }

    def command(self) -> list:
        if not Path(self.program).exists():
            raise ProcessError(f"no {self.program}: pip install 'buildbot-odoo[cluster]' "
                               "(scripts/bootstrap.sh installs it)")
        self.node_dir.mkdir(parents=True, exist_ok=True)
        (self.node_dir / "config.json").write_text(json.dumps(self.config(), indent=2))
        return [self.program, "start", "--cbdir", self.node_dir]

    def ready(self) -> bool:
        return (self.log.exists() and b"local node configuration ran successfully"
                in self.log.read_bytes() and port_open(self.port))


def haproxy_program() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)),
        None)
    if found is None:
        raise ProcessError("haproxy is not installed (apt-get install haproxy; "
                           "scripts/bootstrap.sh installs it as root)")
    return found


class WorkerProxy(DaemonProcess):
    """HAProxy in front of the masters' PB ports: one frontend per master.

    A worker created for master ``name`` connects to :meth:`port_for`
    ``(name)``; HAProxy sends it there while that master accepts connections,
    else to another master (the ``backup`` servers).
    """

    what = "haproxy"

    def __init__(self, directory: Path, masters: Mapping[str, int]):
        super().__init__(directory)
        #: master name -> its PB port
        self.masters = dict(masters)
        self.ports = {name: free_port() for name in self.masters}

    def port_for(self, master: str) -> int:
        return self.ports[master]

    def config(self) -> str:
        """docs/scale-out.md's HAProxy configuration, on this proxy's ports."""
        lines = ["global", "    maxconn 1000", "", "defaults", "    mode tcp",
                 "    timeout connect 5s", "    timeout client 24h", "    timeout server 24h",
                 "    option redispatch", "    retries 2", ""]
        for name, port in self.ports.items():
            lines += [f"listen to-{name}", f"    bind 127.0.0.1:{port}",
                      f"    default-server check inter {HEALTH_CHECK_MS}ms fall 1 rise 2 "
                      "on-marked-down shutdown-sessions"]
            lines.append(f"    server {name} 127.0.0.1:{self.masters[name]}")
            lines += [f"    server {other} 127.0.0.1:{pb} backup"
                      for other, pb in self.masters.items() if other != name]
            lines.append("")
        return "\n".join(lines)

    def command(self) -> list:
        path = self.directory / "haproxy.cfg"
        path.write_text(self.config())
        program = haproxy_program()
        run([program, "-c", "-q", "-f", path], what="haproxy -c")
        # -p: a pid file, for whoever must stop a haproxy left behind (the demo)
        return [program, "-db", "-p", self.directory / "haproxy.pid", "-f", path]

    def ready(self) -> bool:
        return all(port_open(port) for port in self.ports.values())


class ClusterDatabase:
    """A database of its own on ``server``, owned by a role of its own: the masters' ``c['db']``."""

    def __init__(self, server: PgServer, name: str):
        self.server = server
        self.name = name
        self.role = name

    @property
    def url(self) -> str:
        return (f"postgresql://{self.role}@127.0.0.1:{self.server.port}/{self.name}")

    def create(self) -> None:
        if self.server.database_exists(self.name):
            self.server.drop_database(self.name)
        self.server.create_role(self.role, createdb=False)
        self.server.create_database(self.name, owner=self.role)

    def query(self, sql: str) -> str:
        return self.server.psql(sql, dbname=self.name)

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.server.psql(f"DROP DATABASE IF EXISTS {quote_ident(self.name)} WITH (FORCE)")


class Cluster(StartStop):
    """Masters ``names`` sharing ``database`` and a crossbar router; workers behind HAProxy.

    ``config`` is each master's master.cfg after the test header and
    :func:`cluster_cfg`; ``files`` the files every master directory gets
    (workers.cfg, the manifests: the same in each).  :meth:`add_worker`
    creates a worker whose home is one master (through the proxy).
    """

    def __init__(self, root: Path, database: ClusterDatabase, config: str,
                 files: Mapping[str, str], names: Sequence[str] = ("a", "b")):
        self.root = Path(root)
        self.database = database
        self.router = CrossbarRouter(self.root / "crossbar")
        self.masters = {name: MasterProcess(self.root / f"master-{name}") for name in names}
        self.proxy = WorkerProxy(self.root / "haproxy",
                                 {name: m.pb_port for name, m in self.masters.items()})
        self.config = config
        self.files = dict(files)
        self.workers: dict[str, WorkerProcess] = {}
        #: worker name -> the master it is meant to be connected to
        self.homes: dict[str, str] = {}
        for master in self.masters.values():
            master.create(cluster_cfg(database.url, self.router.url) + config, self.files)

    def master(self, name: str) -> MasterProcess:
        return self.masters[name]

    def write_everywhere(self, name: str, text: str) -> None:
        """The same file in every master directory (workers.cfg, a manifest)."""
        for master in self.masters.values():
            master.write(name, text)

    def add_worker(self, name: str, password: str, home: str) -> WorkerProcess:
        """A worker connecting through the proxy's frontend of master ``home``."""
        worker = WorkerProcess(self.root / "workers" / name, name, password,
                               env=worker_environ())
        worker.directory.parent.mkdir(parents=True, exist_ok=True)
        run([worker.program, "create-worker", "-r", f"--maxdelay={WORKER_MAX_DELAY}",
             worker.directory, f"127.0.0.1:{self.proxy.port_for(home)}", name, password],
            env=worker.env, what=f"create-worker {name}")
        self.workers[name] = worker
        self.homes[name] = home
        return worker

    # -- lifecycle

    def start(self) -> None:
        self.database.create()
        self.router.start()
        names = list(self.masters)
        # the schema, once, before any master runs (docs/scale-out.md)
        run([BIN / "buildbot", "upgrade-master", self.masters[names[0]].directory],
            what="buildbot upgrade-master", timeout=300)
        for master in self.masters.values():
            master.start()
        self.proxy.start()
        for worker in self.workers.values():
            worker.start()
        self.wait_connected()

    def stop(self) -> None:
        for worker in reversed(self.workers.values()):
            worker.stop()
        for master in reversed(self.masters.values()):
            master.stop()
        self.proxy.stop()
        self.router.stop()
        self.database.drop()

    # -- what the cluster says

    def masterid(self, name: str) -> int:
        """A master's id in the shared database, as the REST API gives it."""
        directory = str(self.masters[name].directory.resolve())
        for master in self.masters[name].api.get("/masters")["masters"]:
            if master["name"].endswith(":" + directory) or master["name"] == directory:
                return master["masterid"]
        raise ProcessError(f"no master named after {directory}")

    def api(self) -> MasterApi:
        """The REST API of a running master (any: they read one database)."""
        for master in self.masters.values():
            if master.running():
                return master.api
        raise ProcessError("no master of the cluster runs")

    def connected_to(self, worker: str) -> set[int]:
        """The masters ``worker`` is connected to, by id, as a running master says."""
        data = self.api().one("workers", f"/workers/{worker}")
        return {c["masterid"] for c in data["connected_to"]}

    def wait_connected(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Every worker connected to its home master, as the shared database says."""
        for name, home in self.homes.items():
            worker = self.workers[name]
            try:
                wait_for(lambda n=name, h=home: self.connected_to(n) == {self.masterid(h)},
                         f"worker {name} to connect to master {home}", timeout)
            except ProcessError as exc:
                tail = (worker.log.read_text(errors="replace")[-3000:] if worker.log.exists()
                        else "(no log)")
                raise ProcessError(f"{exc}\n--- {worker.log} (end) ---\n{tail}") from None
