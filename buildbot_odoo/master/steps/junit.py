"""A shell step whose verdict and test results come from a JUnit XML report.

The command (pytest with ``--junitxml``, a functional test runner...) writes
its report on the worker; the step attaches the file as its ``junit.xml``
log (Buildbot's ``logfiles``: the worker sends it with the command's
output), collects it with a log observer, and parses it on the master with
:func:`buildbot_odoo.reports.junit.parse_junit` once the command is over.  Each test
case then goes to Buildbot's test results, and the summary names the
failing tests.

The report is the source of truth for the tests; the exit code still
counts: a non-zero exit with a clean report (a crash after the tests, a
coverage threshold) fails the step too, saying so.
"""

from __future__ import annotations

from typing import Any

from buildbot import config
from buildbot.interfaces import IRenderable
from buildbot.process import buildstep, logobserver
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.util import join_list
from twisted.internet import defer

from ...reports.junit import JUnitError, JUnitReport, parse_junit
from ...reports.odoo_log import TestOutcome
from .logs import finish_logs

JUNIT_LOG = "junit.xml"
PASSED, FAILED = "1", "0"


class JUnitStep(buildstep.ShellMixin, buildstep.BuildStep):
    """Run a command that writes a JUnit report, and judge it from the report.

    :param junit_xml: the report's path on the worker (relative to the
        step's workdir, or absolute; may be a renderable).  Remove any
        previous report before this step: it is read whole.
    :param results_set: description of the Buildbot test result set.
    :param no_tests_rc: exit codes meaning "no test collected" (pytest's 5),
        which make the step WARNINGS rather than FAILURE.
    """

    name = "junit-tests"
    description = "testing"
    descriptionDone = "tests"

    def __init__(self, junit_xml: str | IRenderable | None = None, *,
                 results_set: str = "tests", no_tests_rc: tuple[int, ...] = (),
                 **kwargs: Any) -> None:
        if junit_xml is None:
            config.error("JUnitStep needs the junit_xml path")
        if kwargs.get("command") is None:
            config.error("JUnitStep needs a command")
        kwargs["logfiles"] = {**(kwargs.get("logfiles") or {}),
                              JUNIT_LOG: {"filename": junit_xml, "follow": False}}
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.results_set = results_set
        self.no_tests_rc = tuple(no_tests_rc)
        self._xml_lines: list[str] = []
        self.report: JUnitReport | None = None
        self._problem = ""

    def _collect(self):
        while True:
            stream, line = yield
            if stream != "h":
                self._xml_lines.append(line)

    @defer.inlineCallbacks
    def run(self):
        # observed from here: the configuration makes the step too, to check it
        self.addLogObserver(JUNIT_LOG, logobserver.LineConsumerLogObserver(self._collect))
        cmd = yield self.makeRemoteShellCommand()
        yield self.runCommand(cmd)
        yield finish_logs(self, ("stdio", JUNIT_LOG))
        self._read_report()
        result = self._judge(cmd.rc)
        if self.report is not None:
            yield self._add_failures_log(self.report)
            yield self._store(self.report.outcomes)
        return result

    def _read_report(self) -> None:
        text = "\n".join(self._xml_lines).strip()
        if not text:
            self._problem = "no JUnit report written"
            return
        try:
            self.report = parse_junit(text)
        except JUnitError as exc:
            self._problem = f"unreadable JUnit report: {exc}"

    def _judge(self, rc: int | None) -> int:
        """The report decides for the tests; a failing exit code fails the step anyway."""
        report = self.report
        if rc in self.no_tests_rc and not (report and report.tests):
            self._problem = f"no tests collected (exit code {rc})"
            return WARNINGS
        if report is None:
            if rc == 0:
                return WARNINGS  # it ran, but nothing tells what it tested
            self._problem += f" (exit code {rc})"
            return FAILURE
        if report.failures or report.errors:
            return FAILURE
        if rc != 0:
            self._problem = f"exit code {rc}"
            return FAILURE
        return SUCCESS

    def getCurrentSummary(self) -> dict[str, str]:
        return {"step": join_list(self.description)}

    def getResultSummary(self) -> dict[str, str]:
        parts = [p for p in (self.report.summary() if self.report else "", self._problem) if p]
        if self.timed_out:
            parts.append("timed out")
        return {"step": "; ".join(parts) or join_list(self.descriptionDone)}

    @defer.inlineCallbacks
    def _add_failures_log(self, report: JUnitReport):
        sections = [f"{t.outcome.upper()}: {t.name}\n{t.message}" for t in report.failed_outcomes]
        if sections:
            yield self.addCompleteLog("failures", "\n\n".join(sections) + "\n")

    @defer.inlineCallbacks
    def _store(self, outcomes: list[TestOutcome]):
        ran = [t for t in outcomes if t.outcome != "skipped"]
        skipped = [t for t in outcomes if t.outcome == "skipped"]
        if ran:
            setid = yield self.addTestResultSet(self.results_set, "pass_fail", "boolean")
            for outcome in ran:
                self._add(setid, FAILED if outcome.failed else PASSED, outcome)
        if skipped:
            setid = yield self.addTestResultSet(f"{self.results_set} skipped", "skipped",
                                                "message")
            for outcome in skipped:
                self._add(setid, outcome.message or "skipped", outcome)

    def _add(self, setid: int, value: str, outcome: TestOutcome) -> None:
        duration = None if outcome.duration is None else round(outcome.duration * 1e9)
        self.addTestResult(setid, value, test_name=outcome.name, test_code_path=outcome.path,
                           line=outcome.line, duration_ns=duration)
