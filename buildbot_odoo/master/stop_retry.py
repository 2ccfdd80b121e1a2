"""Builds stopped for RETRY end RETRY: ``buildbot stop`` no longer loses a master's running builds.

``buildbot stop`` (SIGTERM) shuts a master down with Buildbot's quick clean
shutdown (``BotMaster.cleanShutdown(quickMode=True)``), which asks every
running build to stop with RETRY (``Build.stopBuild("Master Shutdown",
RETRY)``; CANCELLED for a build another build waits for).  RETRY means: end
this build and build its request again (``Builder.buildFinished`` unclaims
the requests of a RETRY build instead of completing them) -- on this master
once it runs again, or at once on another master of a cluster when the
worker reaches it (docs/scale-out.md).  Buildbot's own unit test of the
shutdown expects RETRY.

With Buildbot 0.9 to 4.3.0 (and its master branch at the time of writing)
that is not what happens while a step runs a command:

1. ``Build.stopBuild`` interrupts the running step first, and sets the
   build's results to RETRY only once the interruption has been delivered;
2. an interrupted remote command reports CANCELLED
   (``RemoteCommand.results``), so the step ends CANCELLED;
3. ``Build.stepDone`` merges the step's results into the build's with
   ``worst_status``, where CANCELLED is worse than RETRY: the build ends
   CANCELLED, its request is completed and never built again.

(Buildbot's issue 6029 says "sometimes": the build does end RETRY when the
worker takes more than 5 seconds to stop the command, since the master then
drops the connection, and a lost connection means RETRY.)

:func:`install` makes a build asked to stop with RETRY keep RETRY, whatever
the steps that end after the request report -- as Buildbot already does for a
build whose worker went away (``stepDone`` forces RETRY once the connection
is gone).  Stops asked with any other result (the web UI's Stop: CANCELLED)
are left as they are.  It replaces ``Build.stopBuild`` and ``Build.stepDone``
by thin wrappers around Buildbot's own, only on a Buildbot whose
``stepDone`` shows the problem (:func:`lets_a_cancelled_step_win`).
"""

from __future__ import annotations

from typing import Any

from buildbot.process.build import Build
from buildbot.process.results import CANCELLED, RETRY, ResultComputingConfigMixin
from twisted.internet import defer
from twisted.python import log
from twisted.python.failure import Failure

#: set on a build asked to stop with RETRY (a master shutting down)
STOPPED_FOR_RETRY = "_buildbot_odoo_stopped_for_retry"

#: Buildbot's own methods, wrapped
_ORIGINAL: dict[str, Any] = {}


class _ProbeStep(ResultComputingConfigMixin):
    """The least of a step ``Build.stepDone`` reads."""

    name = "buildbot-odoo probe of Build.stepDone (not a build)"

    def getBuildResultSummary(self) -> defer.Deferred:
        return defer.succeed({})


def lets_a_cancelled_step_win(build_class: type = Build) -> bool:
    """Whether ``build_class.stepDone`` turns a build stopping with RETRY into a CANCELLED one.

    Asked of the method itself: a build whose results are already RETRY and
    which is stopped (as ``stopBuild`` leaves it) gets the CANCELLED result of
    its interrupted step.  A method that cannot be asked this way (another
    shape than Buildbot 4.3's) counts as not affected: it is left alone.
    """
    step_done = build_class.__dict__.get("stepDone")
    if step_done is None or step_done is _step_done:
        return False
    build = build_class.__new__(build_class)
    build.results, build.stopped, build.conn, build.text = RETRY, True, object(), []
    outcome: list = []
    try:
        step_done(build, CANCELLED, _ProbeStep()).addBoth(outcome.append)
    except Exception:  # another Buildbot: not the method this module knows
        return False
    if not outcome or isinstance(outcome[0], Failure):
        return False
    return build.results == CANCELLED


def _stop_build(self: Build, reason: str = "<no reason given>",
                results: int = CANCELLED) -> defer.Deferred:
    """Buildbot's ``Build.stopBuild``; a stop asked with RETRY is remembered first."""
    if results == RETRY and not self.finished:
        setattr(self, STOPPED_FOR_RETRY, True)
    return _ORIGINAL["stopBuild"](self, reason, results)


def _step_done(self: Build, results: Any, step: Any) -> defer.Deferred:
    """Buildbot's ``Build.stepDone``; a build stopped for RETRY stays RETRY."""
    done = _ORIGINAL["stepDone"](self, results, step)
    if getattr(self, STOPPED_FOR_RETRY, False):
        done.addCallback(_keep_retry, self)
    return done


def _keep_retry(terminate: bool, build: Build) -> bool:
    build.results = RETRY
    return terminate


def install() -> bool:
    """Keep RETRY for builds stopped with it, if this Buildbot does not; True when it did now.

    Idempotent: called at every (re)configuration of a master.
    """
    if not lets_a_cancelled_step_win(Build):
        return False
    _ORIGINAL["stopBuild"] = Build.stopBuild
    _ORIGINAL["stepDone"] = Build.stepDone
    Build.stopBuild = _stop_build
    Build.stepDone = _step_done
    log.msg("buildbot-odoo: builds stopped for RETRY (a master shutting down) end RETRY and "
            "are built again (docs/scale-out.md)")
    return True
