"""A linter step (ruff, flake8) that counts issues and applies a failure policy.

The linter's output is read line by line by a log observer
(:class:`~buildbot_odoo.reports.lint.LintReport`); the summary counts the
issues by code, each issue becomes a Buildbot ``code_issue`` test result
(path and line: the web UI lists them), and the ``issues`` log gathers them.

Verdict: the tool failing to run (an exit code other than 0 or 1, or 1
without any issue read) is FAILURE; otherwise issues make the step WARNINGS,
or FAILURE beyond ``max_issues`` when a threshold is set.
"""

from __future__ import annotations

from typing import Any

from buildbot.process import buildstep, logobserver
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.util import join_list
from twisted.internet import defer

from ...reports.lint import Issue, LintReport
from .logs import finish_logs

#: exit codes of ruff and flake8 when they ran: 0 clean, 1 issues found
RAN_CODES = (0, 1)


class LintStep(buildstep.ShellMixin, buildstep.BuildStep):
    """Run a linter writing ``PATH:LINE:COL: CODE message`` lines.

    :param tool: the linter's name, shown in the summary and the results set.
    :param max_issues: None: issues only warn; N: more than N issues fail.
    """

    name = "static-analysis"
    description = "analysing"
    descriptionDone = "static analysis"

    def __init__(self, tool: str = "linter", max_issues: int | None = None,
                 **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.tool = tool
        self.max_issues = max_issues
        self._report: LintReport | None = None  # made when the step runs
        self._problem = ""
        self._setid: int | None = None

    @property
    def report(self) -> LintReport:
        """This run's report: made when the step runs, not with the configuration."""
        if self._report is None:
            self._report = LintReport()
        return self._report

    def _consume(self):
        while True:
            stream, line = yield
            if stream == "o":
                issue = self.report.feed_line(line)
                if issue is not None:
                    self._store(issue)
                    self.updateSummary()

    @defer.inlineCallbacks
    def addTestResultSets(self):
        self._setid = yield self.addTestResultSet(f"{self.tool} issues", "code_issue", "message")

    def _store(self, issue: Issue) -> None:
        if self._setid is not None:
            self.addTestResult(self._setid, f"{issue.code} {issue.message}",
                               test_code_path=issue.path, line=issue.line)

    @defer.inlineCallbacks
    def run(self):
        # observed from here: the configuration makes the step too, to check it
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._consume))
        cmd = yield self.makeRemoteShellCommand()
        yield self.runCommand(cmd)
        yield finish_logs(self)
        count = len(self.report.issues)
        self.setStatistic("issues", count)
        self.setProperty(f"{self.tool}-issues", count, "StaticAnalysis", runtime=True)
        if count:
            yield self.addCompleteLog("issues", "\n".join(map(str, self.report.issues)) + "\n")
        return self._judge(cmd.rc, count)

    def _judge(self, rc: int | None, count: int) -> int:
        if rc not in RAN_CODES or (rc == 1 and not count):
            self._problem = f"{self.tool} failed (exit code {rc})"
            return FAILURE
        if not count:
            return SUCCESS
        if self.max_issues is not None and count > self.max_issues:
            self._problem = f"more than {self.max_issues} allowed"
            return FAILURE
        return WARNINGS

    def getCurrentSummary(self) -> dict[str, str]:
        return {"step": f"{join_list(self.description)}: {self.report.summary()}"}

    def getResultSummary(self) -> dict[str, str]:
        parts = [f"{self.tool}: {self.report.summary()}", self._problem]
        if self.timed_out:
            parts.append("timed out")
        return {"step": "; ".join(p for p in parts if p)}
