"""The ``buildout`` step: runs ``bin/buildout`` and says in one line why it failed.

A failed buildout leaves its reason somewhere in up to hundreds of kilobytes
of pip and compiler output.  :class:`BuildoutStep` feeds that output, as it
streams, to :class:`~buildbot_odoo.reports.buildout_log.BuildoutLog`; when
the command fails, the step's summary is the report's line (``python-ldap
3.4.0 did not build: lber.h: No such file or directory (Debian package:
libldap2-dev)``) and a ``problem`` log holds it with the few lines it was
read from.  ``stdio`` keeps the whole output, unchanged.

The report is made when the step runs, not when the configuration loads: a
master with a thousand builders makes none until a build needs one.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from buildbot.process import buildstep, logobserver
from buildbot.process.results import SUCCESS
from buildbot.util import join_list
from twisted.internet import defer

from ...reports.buildout_log import BuildoutLog
from .logs import finish_logs

STDIO = "stdio"
PROBLEM_LOG = "problem"


class BuildoutStep(buildstep.ShellMixin, buildstep.BuildStep):
    """Run a buildout (``command``, as for :class:`~buildbot.steps.shell.ShellCommand`).

    While it runs, the summary names the part being installed; when the
    command fails, the summary says why (when the output says it) and the
    ``problem`` log quotes the lines that say it.
    """

    name = "buildout"
    description = "buildout"
    descriptionDone = "buildout"

    def __init__(self, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.report: BuildoutLog | None = None
        self._problem = ""
        self._part = ""

    def _consume(self, report: BuildoutLog) -> Generator[None, tuple[str, str], None]:
        while True:
            stream, line = yield
            if stream == "h":
                continue
            report.feed_line(line)
            if report.part != self._part:
                self._part = report.part
                self.updateSummary()  # debounced by Buildbot

    @defer.inlineCallbacks
    def run(self):
        self.report = report = BuildoutLog()
        self.addLogObserver(STDIO, logobserver.LineConsumerLogObserver(
            lambda: self._consume(report)))
        cmd = yield self.makeRemoteShellCommand()
        yield self.runCommand(cmd)
        yield finish_logs(self, (STDIO,))
        result = cmd.results()
        if result != SUCCESS and report.problem is not None:
            self._problem = self._clean(report.summary())
            evidence = "\n".join(self._clean(line) for line in report.evidence())
            yield self.addCompleteLog(PROBLEM_LOG, f"{self._problem}\n\nFrom the output:\n"
                                                   f"{evidence}\n")
        return result

    def _clean(self, text: str) -> str:
        """Buildbot secrets out of a text the step shows (as Buildbot cleans its logs)."""
        return self.build.properties.cleanupTextFromSecrets(text) if self.build else text

    def getCurrentSummary(self) -> dict[str, str]:
        text = join_list(self.description)
        if self._part:
            text += f": installing {self._part}"
        return {"step": self._clean(text)}

    def getResultSummary(self) -> dict[str, str]:
        if not self._problem:
            return super().getResultSummary()
        summary = self._problem + (" (timed out)" if self.timed_out else "")
        return {"step": summary}
