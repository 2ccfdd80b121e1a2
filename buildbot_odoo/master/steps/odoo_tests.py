"""The step that runs Odoo's tests and reads its log as it streams (SPEC 6, item 7).

:class:`OdooTestStep` runs whatever command the subfactory gives it (typically
``bin/test_<part> -d DB -i ADDONS --logfile=ABSOLUTE_PATH``) and feeds the Odoo
log to :class:`~buildbot_odoo.reports.odoo_log.OdooLogAnalyzer` line by line, through
Buildbot log observers, so the step's summary tells the story while tests run.
Odoo writes its log to the ``--logfile`` when given (the worker tails that
file and streams it as the ``odoo.log`` log of the step) and to stderr
otherwise, so both ``odoo.log`` and ``stdio`` are observed.

At the end, each test's outcome goes to Buildbot's own test results, which the
web UI and ``/api/v2/builds/N/test_result_sets`` show without anyone reading logs.

When the program fails before Odoo logs anything (a script the buildout did
not make, an import error), the summary says so: whether the program exists
is asked to the worker (Buildbot's ``stat`` command), and the last line the
program wrote to stderr is quoted, see :mod:`buildbot_odoo.reports.startup`.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Generator
from typing import Any

from buildbot import config
from buildbot.interfaces import IRenderable
from buildbot.process import buildstep, logobserver, remotecommand
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS, worst_status
from buildbot.util import join_list
from twisted.internet import defer

from ...reports.odoo_log import OdooLogAnalyzer, TestOutcome
from ...reports.startup import explain_early_end
from .logs import finish_logs
from .pg_commands import watch_connections

ODOO_LOG = "odoo.log"
STDIO = "stdio"

#: Test result set of the tests that ran.  ``pass_fail`` with the ``boolean``
#: unit is the pairing Buildbot documents for pass/fail results: values are
#: "1" (passed) and "0" (failed or errored), and Buildbot then counts passed
#: and failed tests itself for the UI.  Failure versus error stays in the
#: step summary and the ``failures`` log.
RESULTS_SET = ("Odoo tests", "pass_fail", "boolean")
#: Skipped tests neither pass nor fail: a set of their own (Buildbot allows
#: any category), each value being the reason Odoo gave.
SKIPPED_SET = ("Odoo skipped tests", "skipped", "message")
PASSED, FAILED = "1", "0"
#: stderr lines kept to explain a program that died before Odoo logged anything
STDERR_TAIL = 20


class OdooTestStep(buildstep.ShellMixin, buildstep.BuildStep):
    """Run Odoo tests and judge them from the Odoo log.

    :param odoo_logfile: path of Odoo's ``--logfile`` on the worker (absolute,
        as Odoo wants; may be a renderable).  Attached as the ``odoo.log``
        step log, followed while the command runs.  Without it, the Odoo log is
        read from the command's output.
    :param warnings_are_failures: WARNING records make the step FAILURE
        instead of WARNINGS.
    :param fail_on_log_errors: ERROR/CRITICAL records that are not test
        failures (install tracebacks, failed registry) make the step FAILURE;
        when False they only make it WARNINGS.
    :param store_test_results: send each test outcome to Buildbot's test results.
    :param empty_summary: the summary when the log shows neither tests nor
        errors (an installation without tests says "no error in the Odoo log").
    :param follow_logfile: only stream what Odoo appends to the logfile
        during this step, so a log left by a previous build is not read again.
        The worker starts following after its first 2-second poll, so the very
        first lines of a fresh file may be missed: ``stdio`` and the exit code
        still tell a crash at start-up.  Pass False when an earlier step
        removes the logfile, to read it whole.
    :param missing_hint: what to say when the program does not exist on the
        worker, after "<program> not made by the buildout: " (e.g. which
        recipe option makes it).

    The remaining arguments are those of :class:`~buildbot.steps.shell.ShellCommand`
    (``command``, ``workdir``, ``env``, ``timeout``, ...).
    """

    name = "odoo-tests"
    description = "testing"
    descriptionDone = "tests"

    def __init__(self, odoo_logfile: str | IRenderable | None = None, *,
                 warnings_are_failures: bool = False, fail_on_log_errors: bool = True,
                 store_test_results: bool = True, follow_logfile: bool = True,
                 empty_summary: str = "no tests run", missing_hint: str = "",
                 **kwargs: Any) -> None:
        if kwargs.get("command") is None:
            config.error("OdooTestStep needs a command")
        if odoo_logfile is not None:
            kwargs["logfiles"] = {**(kwargs.get("logfiles") or {}), ODOO_LOG: {
                "filename": odoo_logfile, "follow": follow_logfile}}
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.warnings_are_failures = warnings_are_failures
        self.fail_on_log_errors = fail_on_log_errors
        self.store_test_results = store_test_results
        self.empty_summary = empty_summary
        self.missing_hint = missing_hint
        self._command_failed_rc: int | None = None
        self._early_end: str | None = None
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._analyzers = {STDIO: OdooLogAnalyzer(), ODOO_LOG: OdooLogAnalyzer()}
        for logname, analyzer in self._analyzers.items():
            self.addLogObserver(logname, logobserver.LineConsumerLogObserver(
                functools.partial(self._consume, analyzer)))
        self.addLogObserver(STDIO, logobserver.LineConsumerLogObserver(self._keep_stderr))
        # an unreachable PostgreSQL, in libpq's words, rather than "Failed to load registry"
        self._pg_connection = [watch_connections(self, STDIO), watch_connections(self, ODOO_LOG)]

    def _consume(self, analyzer: OdooLogAnalyzer) -> Generator[None, tuple[str, str], None]:
        try:
            while True:
                stream, line = yield
                if stream != "h":
                    analyzer.feed_line(line)
                    self.updateSummary()  # debounced by Buildbot
        finally:
            analyzer.close()

    def _keep_stderr(self) -> Generator[None, tuple[str, str], None]:
        while True:
            stream, line = yield
            if stream == "e":
                self._stderr_tail.append(line)

    @property
    def analyzer(self) -> OdooLogAnalyzer:
        """The analyzer of the log Odoo wrote to: its logfile if it wrote any record there."""
        logfile = self._analyzers[ODOO_LOG]
        return logfile if logfile.records else self._analyzers[STDIO]

    @defer.inlineCallbacks
    def run(self):
        cmd = yield self.makeRemoteShellCommand()
        yield self.runCommand(cmd)
        yield self._finish_logs()
        if cmd.didFail() and not any(a.records for a in self._analyzers.values()):
            yield self._explain_early_end(cmd)
        result = self.evaluateCommand(cmd)
        yield self._add_failures_log()
        if self.store_test_results:
            yield self._store_test_results(self.analyzer.outcomes)
        return result

    @defer.inlineCallbacks
    def _finish_logs(self):
        """Finish the observed logs now, so their observers have seen every line."""
        yield finish_logs(self, (STDIO, ODOO_LOG))
        for analyzer in self._analyzers.values():
            analyzer.close()

    @defer.inlineCallbacks
    def _explain_early_end(self, cmd: remotecommand.RemoteCommand):
        """No Odoo record at all: is the program there?  Else, its last words."""
        command = cmd.args.get("command")
        words = str(command[0] if isinstance(command, list | tuple) else command).split()
        program = words[0] if words else "the command"
        missing = False
        if "/" in program:  # a bare name is looked up on PATH: nothing to ask the worker
            stat = remotecommand.RemoteCommand(
                "stat", {"file": program, "workdir": cmd.args.get("workdir"),
                         "logEnviron": False})
            yield self.runCommand(stat)
            missing = stat.didFail()
        self._early_end = explain_early_end(program, cmd.rc, list(self._stderr_tail),
                                            missing=missing, missing_hint=self.missing_hint)

    def evaluateCommand(self, cmd: remotecommand.RemoteCommand) -> int:
        """The worse of what the exit code and the Odoo log say."""
        command_result = cmd.results()
        if command_result == FAILURE:
            self._command_failed_rc = cmd.rc
        return worst_status(command_result, self._log_result())

    def _log_result(self) -> int:
        analyzer = self.analyzer
        if analyzer.failures or analyzer.errors:
            return FAILURE
        if analyzer.error_records:
            return FAILURE if self.fail_on_log_errors else WARNINGS
        if analyzer.warnings:
            return FAILURE if self.warnings_are_failures else WARNINGS
        return SUCCESS

    def getCurrentSummary(self) -> dict[str, str]:
        text = join_list(self.description)
        if self.analyzer.records:
            text += f": {self.analyzer.summary(self.empty_summary)}"
        return {"step": text}

    def getResultSummary(self) -> dict[str, str]:
        """The analyzer's line; when only the exit code failed, the exit code too;
        when Odoo never logged, what happened to the program."""
        if self._early_end is not None:
            summary = self._early_end
        else:
            summary = self.analyzer.summary(self.empty_summary)
            if self._command_failed_rc is not None and not self.analyzer.is_failure():
                summary += f" (exit code {self._command_failed_rc})"
        failure = next((w.failure for w in self._pg_connection if w.failure), None)
        if failure is not None and self.results not in (None, SUCCESS):
            summary = f"{failure} ({summary})"
        if self.timed_out:
            summary += " (timed out)"
        if self.build is not None:
            summary = self.build.properties.cleanupTextFromSecrets(summary)
        return {"step": summary}

    @defer.inlineCallbacks
    def _add_failures_log(self):
        """A ``failures`` log with each failing test and log error, tracebacks included."""
        analyzer = self.analyzer
        sections = [f"{outcome.outcome.upper()}: {outcome.name}\n{outcome.message}"
                    for outcome in analyzer.failed_outcomes]
        sections += [f"{record.level} {record.logger}: {record.text}"
                     for record in analyzer.error_records]
        if sections:
            yield self.addCompleteLog("failures", "\n\n".join(sections) + "\n")

    @defer.inlineCallbacks
    def _store_test_results(self, outcomes: list[TestOutcome]):
        ran = [outcome for outcome in outcomes if outcome.outcome != "skipped"]
        skipped = [outcome for outcome in outcomes if outcome.outcome == "skipped"]
        if ran:
            setid = yield self.addTestResultSet(*RESULTS_SET)
            for outcome in ran:
                self._add_result(setid, FAILED if outcome.failed else PASSED, outcome)
        if skipped:
            setid = yield self.addTestResultSet(*SKIPPED_SET)
            for outcome in skipped:
                self._add_result(setid, outcome.message or "skipped", outcome)

    def _add_result(self, setid: int, value: str, outcome: TestOutcome) -> None:
        duration_ns = None if outcome.duration is None else round(outcome.duration * 1e9)
        self.addTestResult(setid, value, test_name=outcome.name, test_code_path=outcome.path,
                           line=outcome.line, duration_ns=duration_ns)
