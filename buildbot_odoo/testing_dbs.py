"""Testing databases two builds could share, found by ``check`` before any build runs.

Each build makes, then drops, the testing database ``<db_prefix>-<builder>``
(:mod:`buildbot_odoo.dbname`).  Two builds using one name on one PostgreSQL
cluster drop each other's database.  What can be known from the files:

* two workers reaching the same *remote* server (the ``host`` and ``port``
  options of their postgresql capability: a host name or address that is not
  the loopback, the port defaulting to 5432) with the same ``db_prefix``, and a
  builder running on both: its builds on the two workers would collide.  An
  error: giving each worker its own ``db_prefix`` costs nothing.

Two different (prefix, builder) pairs never get the same name: the naming
rule itself sees to that (:mod:`buildbot_odoo.dbname`).

What cannot be known: workers on one machine using its local server (a
socket directory, ``localhost``, the loopback, or libpq's defaults), or host
names that differ but reach one server.  Those are the cases the
documentation tells users about (different ``db_prefix`` per worker).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from .capability.dispatch import BuilderPlan
from .capability.versions import Version
from .config.workers import WorkerSpec
from .errors import Problems

POSTGRESQL = "postgresql"
DEFAULT_PORT = "5432"
LOCAL_HOSTS = ("localhost", "localhost.localdomain")


def remote_server(options: dict[str, str]) -> tuple[str, str] | None:
    """``(host, port)`` of a postgresql capability's server, or None when it is local.

    >>> remote_server({'host': 'DB.example.com'})
    ('db.example.com', '5432')
    >>> remote_server({'host': '/var/run/postgresql', 'port': '5433'}) is None
    True
    >>> remote_server({'host': '127.0.0.2'}) is None
    True
    """
    host = options.get("host", "").strip().lower().rstrip(".")
    if not host or host.startswith("/") or host.startswith("@") or host in LOCAL_HOSTS:
        return None
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return None
    except ValueError:
        pass  # a host name
    return host, options.get("port", "").strip() or DEFAULT_PORT


def check_testing_databases(workers: Sequence[WorkerSpec], builders: Sequence[BuilderPlan],
                            problems: Problems) -> None:
    """Report the testing databases two builds could share (see the module's doc).

    Linear in the size of the dispatch table: the workers' remote servers are
    found once, and a builder is only looked at further when two of its
    workers have one (most fleets have none, or local servers only).
    """
    remote = _remote_servers(workers)
    if len(remote) < 2:
        return
    prefixes = {w.name: w.db_prefix for w in workers}
    # (first worker, second worker, server, prefix) -> builders they would collide on
    shared: dict[tuple[str, str, tuple[str, str], str], list[str]] = {}
    for builder in builders:
        candidates = [name for name in builder.workers if name in remote]
        if len(candidates) < 2 or POSTGRESQL not in builder.used_capabilities():
            continue  # without the capability: libpq's defaults, each worker's own machine
        first: dict[tuple[tuple[str, str], str], str] = {}
        for name in candidates:
            for server in sorted(_used_servers(remote[name], builder)):
                other = first.setdefault((server, prefixes[name]), name)
                if other != name:
                    shared.setdefault((other, name, server, prefixes[name]),
                                      []).append(builder.name)
    by_name = {w.name: w for w in workers}
    for (first_name, second, (host, port), prefix), names in shared.items():
        worker = by_name[second]
        which = ("builder " if len(names) == 1 else "builders ") + ", ".join(
            repr(n) for n in dict.fromkeys(names))
        problems.error(f"workers {first_name!r} and {second!r} reach the same PostgreSQL "
                       f"server ({host}:{port}) with the same db_prefix {prefix!r}: builds "
                       f"of {which} on both would use, and drop, the same testing database; "
                       "give each worker its own db_prefix",
                       file=worker.file, line=worker.line, section=worker.name)


def _remote_servers(workers: Sequence[WorkerSpec]
                    ) -> dict[str, list[tuple[Version | None, tuple[str, str]]]]:
    """Per worker with any, its postgresql declarations reaching a remote server."""
    found: dict[str, list[tuple[Version | None, tuple[str, str]]]] = {}
    for worker in workers:
        for decl in worker.declarations(POSTGRESQL):
            server = remote_server(decl.options)
            if server is not None:
                found.setdefault(worker.name, []).append((decl.version, server))
    return found


def _used_servers(declared: list[tuple[Version | None, tuple[str, str]]],
                  builder: BuilderPlan) -> set[tuple[str, str]]:
    """The remote servers ``builder``'s builds may use among a worker's ``declared`` ones."""
    version = builder.versions.get(POSTGRESQL)
    requirements = [f for f in builder.build.build_requires if f.name == POSTGRESQL]
    return {server for decl_version, server in declared
            if (version is None or decl_version == version)
            and all(r.match(decl_version) for r in requirements)}
