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
    """Report the testing databases two builds could share (see the module's doc)."""
    by_name = {w.name: w for w in workers}
    _check_shared_servers(by_name, builders, problems)


def _servers(worker: WorkerSpec, builder: BuilderPlan) -> set[tuple[str, str]]:
    """The remote servers ``builder``'s builds may use on ``worker``."""
    version = builder.versions.get(POSTGRESQL)
    requirements = [f for f in builder.build.build_requires if f.name == POSTGRESQL]
    found = set()
    for decl in worker.declarations(POSTGRESQL):
        if version is not None and decl.version != version:
            continue
        if not all(r.match(decl.version) for r in requirements):
            continue
        server = remote_server(decl.options)
        if server is not None:
            found.add(server)
    return found


def _check_shared_servers(workers: dict[str, WorkerSpec], builders: Sequence[BuilderPlan],
                          problems: Problems) -> None:
    # (first worker, second worker, server, prefix) -> builders they would collide on
    shared: dict[tuple[str, str, tuple[str, str], str], list[str]] = {}
    for builder in builders:
        if POSTGRESQL not in builder.used_capabilities():
            continue  # libpq's defaults on each worker: its own machine
        first: dict[tuple[tuple[str, str], str], str] = {}
        for name in builder.workers:
            worker = workers[name]
            for server in sorted(_servers(worker, builder)):
                other = first.setdefault((server, worker.db_prefix), name)
                if other != name:
                    shared.setdefault((other, name, server, worker.db_prefix),
                                      []).append(builder.name)
    for (first_name, second, (host, port), prefix), names in shared.items():
        worker = workers[second]
        which = ("builder " if len(names) == 1 else "builders ") + ", ".join(
            repr(n) for n in dict.fromkeys(names))
        problems.error(f"workers {first_name!r} and {second!r} reach the same PostgreSQL "
                       f"server ({host}:{port}) with the same db_prefix {prefix!r}: builds "
                       f"of {which} on both would use, and drop, the same testing database; "
                       "give each worker its own db_prefix",
                       file=worker.file, line=worker.line, section=worker.name)
