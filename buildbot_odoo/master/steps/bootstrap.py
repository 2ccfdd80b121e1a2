"""The ``bootstrap`` step: the worker script ``bootstrap_venv.py``, sent on its standard input.

One command makes the cache directories and makes or reuses the builder's
virtualenv (:mod:`buildbot_odoo.worker_scripts.bootstrap_venv`): the script
travels with the command (``python3 -`` reading it from stdin, Buildbot's
``initialStdin``) instead of a download step of its own, because a warm
build's bootstrap is a few milliseconds of work and every step is a round
trip to the worker and a few writes in the master's database.  The script's
last line, ``bootstrap: <what happened>``, is the step's summary.
"""

from __future__ import annotations

from typing import Any

from buildbot.process import buildstep, logobserver
from twisted.internet import defer

from .logs import finish_logs

SUMMARY_PREFIX = "bootstrap: "


class BootstrapStep(buildstep.ShellMixin, buildstep.BuildStep):
    """Run ``bootstrap_venv.py`` (given as ``script``, its text) with ``command`` as its argv.

    ``command`` must read the program from stdin (``[python, '-', ...]``).
    """

    name = "bootstrap"
    description = "bootstrapping"
    descriptionDone = "bootstrap"

    def __init__(self, script: str, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin({**kwargs, "initialStdin": script})
        super().__init__(**kwargs)
        self._summary = ""

    def _consume(self):
        while True:
            stream, line = yield
            if stream == "o" and line.startswith(SUMMARY_PREFIX):
                self._summary = line[len(SUMMARY_PREFIX):].strip()

    @defer.inlineCallbacks
    def run(self):
        # observed from here: the configuration makes the step too, to check it
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._consume))
        cmd = yield self.makeRemoteShellCommand()
        yield self.runCommand(cmd)
        yield finish_logs(self)
        return cmd.results()

    def getResultSummary(self):
        if self._summary:
            return {"step": self._summary}
        return super().getResultSummary()
