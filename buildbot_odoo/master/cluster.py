"""What ``buildbot-odoo check`` says of a master.cfg meant for a cluster (docs/scale-out.md).

A master.cfg is meant for a cluster when it says so the way Buildbot reads it:
``c['multiMaster'] = True``, or the WAMP message queue.  Such a master works
as one of several only when

* its database is one every master shares: not SQLite (a file of one master);
* its message queue reaches the other masters: WAMP, not the simple queue
  (in-process: the other masters never hear of this one's changes, builds...);
* the auto-watch files its builds upload are where every master reads them:
  ``watch_directory`` outside the master directory (a directory of one master
  otherwise), when a build has ``auto-watch = true``.

``master_expiry`` (:mod:`.heartbeat`) set on a master that is not meant for a
cluster changes nothing: that is said too.

Each is a warning (the master itself starts: it is a configuration that
cannot do what it is meant for), naming what to set.  Plain data in, plain
problems out: it reads the final ``BuildmasterConfig`` dict and the
configurators master.cfg populated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import Problem
from ..watching.files import WATCH_DIRECTORY_OPTION

MASTER_CFG = "master.cfg"
DEFAULT_DB_URL = "sqlite:///state.sqlite"  # Buildbot's default


def meant_for_cluster(config: Mapping) -> bool:
    mq = config.get("mq") or {}
    return bool(config.get("multiMaster")) or (isinstance(mq, Mapping)
                                                and mq.get("type") == "wamp")


def database_url(config: Mapping) -> str:
    db = config.get("db") or {}
    url = db.get("db_url") if isinstance(db, Mapping) else None
    return str(url or config.get("db_url") or DEFAULT_DB_URL)


def _warning(message: str, option: str | None = None) -> Problem:
    return Problem(message, file=MASTER_CFG, option=option, severity="warning")


def cluster_problems(config: Mapping, configurators: Sequence) -> list[Problem]:
    """Warnings for a cluster master.cfg that cannot work as one; nothing otherwise."""
    if not meant_for_cluster(config):
        return [_warning("only a master of a cluster expires other masters; this one is "
                         "not (no c['multiMaster'], no WAMP message queue): it changes nothing",
                         "master_expiry")
                for configurator in configurators
                if getattr(configurator, "master_expiry", None) is not None][:1]
    problems = []
    if database_url(config).startswith("sqlite"):
        problems.append(_warning(
            "a master of a cluster needs the database every master shares, not SQLite (a "
            "file of this master alone): c['db'] = {'db_url': 'postgresql://...'}", "db"))
    mq = config.get("mq") or {}
    if not isinstance(mq, Mapping) or mq.get("type", "simple") != "wamp":
        problems.append(_warning(
            "a master of a cluster needs the WAMP message queue; with the simple one the "
            "other masters never hear of this one's changes and builds: c['mq'] = "
            "{'type': 'wamp', 'router_url': 'ws://ROUTER:PORT/ws', 'realm': 'buildbot'}",
            "mq"))
    for configurator in configurators:
        problem = _watch_problem(configurator)
        if problem is not None:
            problems.append(problem)
    return problems


def _watch_problem(configurator: object) -> Problem | None:
    """Auto-watch files kept inside this master's directory: no other master reads them."""
    plan = getattr(configurator, "plan", None)
    if plan is None or not any(b.auto_watch and b.buildout is not None for b in plan.builds):
        return None
    basedir = Path(configurator.basedir).resolve()
    directory = (basedir / configurator.watch_directory).resolve()
    if not directory.is_relative_to(basedir):
        return None
    return _warning(
        f"auto-watch files go to {directory}, inside this master's directory, where the "
        "other masters of the cluster never read them: set conf.watch_directory to a "
        "directory every master mounts", WATCH_DIRECTORY_OPTION)
