"""``conf.master_expiry``: how soon the masters of a cluster take a silent one for dead.

Every Buildbot master writes its ``last_active`` time into the shared
database every 60 seconds (its heartbeat) and, on the same beat, deactivates
the masters silent for 10 minutes (``buildbot.data.masters.EXPIRE_MINUTES``):
their builds end RETRY and their requests are built again elsewhere
(:mod:`.deactivated_masters`).  Neither time is a setting in Buildbot 4.3,
and 10 minutes is long for a fleet to wait for the builds of a master that
crashed or whose host was lost.

``conf.master_expiry`` (seconds, at least :data:`MIN_EXPIRY`; None, the
default, leaves Buildbot's timing alone) adds :class:`MasterHeartbeat` to a
master of a cluster: it makes Buildbot's own two heartbeat updates
(``masterActive``, then ``expireMasters``) :data:`BEATS_PER_EXPIRY` times per
expiry, and sets the expiry Buildbot's ``expireMasters`` reads.  Every master
of the cluster must have the same value (they share master.cfg).  A master
whose reactor stalls for more than five sixths of it -- a reconfig of a very
big fleet, a database that does not answer -- would be taken for dead while
it still runs, its running builds built a second time: stay well above the
longest stall (docs/scale-out.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any

from buildbot.util import service
from twisted.internet import defer, task
from twisted.python import log

from ..errors import Problem, Problems
from .cluster import meant_for_cluster

SERVICE_NAME = "buildbot-odoo-heartbeat"
EXPIRY_OPTION = "master_expiry"
#: the shortest expiry accepted, in seconds: beats at least 5 seconds apart
MIN_EXPIRY = 30
#: beats per expiry: a master is expired after missing five of them in a row
BEATS_PER_EXPIRY = 6
MASTER_CFG = "master.cfg"


def _masters_module() -> Any:
    from buildbot.data import masters

    return masters


#: Buildbot's own expiry, in minutes, restored when master_expiry is unset again
BUILDBOT_EXPIRE_MINUTES = _masters_module().EXPIRE_MINUTES


def check_master_expiry(value: object) -> float | None:
    """``conf.master_expiry``: None, or seconds (at least :data:`MIN_EXPIRY`); ValueError else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < MIN_EXPIRY:
        raise ValueError(f"{value!r} is not a number of seconds of at least {MIN_EXPIRY} (or "
                         "None: Buildbot's own 10 minutes)")
    return float(value)


def heartbeat_services(configurator: object, config: Mapping, problems: Problems) -> list:
    """What to add to ``c['services']``: the heartbeat when master_expiry asks for one."""
    try:
        expiry = check_master_expiry(getattr(configurator, EXPIRY_OPTION, None))
    except ValueError as exc:
        problems.add(Problem(str(exc), file=MASTER_CFG, option=EXPIRY_OPTION))
        return []
    if expiry is None or not meant_for_cluster(config):
        return []
    if any(getattr(s, "name", None) == SERVICE_NAME for s in config.get("services") or []):
        return []  # a second configurator of the same master.cfg
    return [MasterHeartbeat(expiry=expiry)]


def add_services(config: MutableMapping, services: list) -> None:
    if services:
        config["services"] = [*(config.get("services") or []), *services]


def set_expiry(seconds: float | None) -> None:
    """Buildbot's expiry of silent masters in this master process (None: Buildbot's own)."""
    _masters_module().EXPIRE_MINUTES = (BUILDBOT_EXPIRE_MINUTES if seconds is None
                                        else seconds / 60)


class MasterHeartbeat(service.BuildbotService):
    """Buildbot's heartbeat, :data:`BEATS_PER_EXPIRY` times per ``expiry`` seconds."""

    name = SERVICE_NAME

    def __init__(self, expiry: float, **kwargs: Any):
        self._beats: task.LoopingCall | None = None
        super().__init__(expiry=expiry, **kwargs)

    def checkConfig(self, expiry: float, **kwargs: Any) -> None:
        check_master_expiry(expiry)

    def reconfigService(self, expiry: float, **kwargs: Any) -> defer.Deferred:
        set_expiry(expiry)
        self._stop_beating()
        self._beats = task.LoopingCall(self._beat)
        self._beats.clock = self.master.reactor
        self._beats.start(expiry / BEATS_PER_EXPIRY, now=False).addErrback(
            log.err, "buildbot-odoo: the master's heartbeat stopped")
        return defer.succeed(None)

    def stopService(self) -> defer.Deferred:
        self._stop_beating()
        set_expiry(None)
        return super().stopService()

    def _stop_beating(self) -> None:
        if self._beats is not None and self._beats.running:
            self._beats.stop()
        self._beats = None

    @defer.inlineCallbacks
    def _beat(self) -> Any:
        """This master is alive; silent ones are expired.

        Only while Buildbot's own heartbeat runs and the master is not
        stopping: before, it has not said it is active yet; after
        ``masterStopped``, a beat would make a stopping master active again.
        """
        master = self.master
        own = getattr(master, "masterHeartbeatService", None)
        botmaster = getattr(master, "botmaster", None)  # shuttingDown: a clean shutdown began
        if master.masterid is None or own is None or not own.running \
                or getattr(botmaster, "shuttingDown", True):
            return
        try:
            yield master.data.updates.masterActive(name=master.name, masterid=master.masterid)
            yield master.data.updates.expireMasters()
        except Exception as exc:  # the database away for a moment: beat again next time
            log.err(exc, "buildbot-odoo: while telling the cluster this master is alive")
