"""Finishing a step's logs before the step judges its command."""

from __future__ import annotations

from collections.abc import Iterable

from buildbot.process import buildstep
from twisted.internet import defer


@defer.inlineCallbacks
def finish_logs(step: buildstep.BuildStep, lognames: Iterable[str] = ("stdio",)):
    """Finish the step's open logs among ``lognames``.

    A line observer sees a last line without its newline only when the log is
    finished; Buildbot finishes logs after ``run`` returns, too late for a
    step whose result or summary depends on every line.
    """
    for logname in lognames:
        log = step.logs.get(logname)
        if log is not None and not log.finished:
            yield log.finish()
