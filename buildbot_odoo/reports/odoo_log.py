"""Reading Odoo server logs: which tests ran, which failed, and what else went wrong (SPEC 6).

Odoo (12 to 18) writes one record per log call::

    2024-05-02 10:11:12,345 4242 ERROR db odoo.addons.sale_x.tests.test_x: FAIL: TestX.test_bad
    Traceback (most recent call last):
      ...

and lines without that prefix (tracebacks) belong to the record above them.
The upgrade script of oca.recipe.odoo (``bin/upgrade_<part>``) writes each of
its own messages twice in the same file, in Odoo's format and as
``2024-05-02 10:11:12,345 INFO  message`` (two spaces, no pid, database nor
logger): the echo is read as the end of the record above it, nothing more.
:class:`OdooLogAnalyzer` is fed line by line, as the log streams from the
worker, and keeps only what a CI result needs: per-test outcomes, the counts
Odoo itself reports, and every ERROR/CRITICAL record that is not a test
failure (an install traceback fails a build as surely as a failed test).

The module is plain Python on purpose: the Buildbot step is a thin edge
around it, and the parser can be tested, or reused, without a master.

>>> log = OdooLogAnalyzer.from_text('''\\
... 2024-05-02 10:00:00,000 7 INFO db odoo.addons.x.tests.test_a: Starting TestA.test_ok ...
... 2024-05-02 10:00:01,000 7 INFO db odoo.addons.x.tests.test_a: Starting TestA.test_bad ...
... 2024-05-02 10:00:02,000 7 ERROR db odoo.addons.x.tests.test_a: FAIL: TestA.test_bad
... Traceback (most recent call last):
...   File "/srv/x/tests/test_a.py", line 9, in test_bad
... AssertionError: 1 != 2
... ''')
>>> log.summary()
'2 tests, 1 failure, 0 errors: TestA.test_bad'
>>> [(t.short_name, t.outcome, t.line) for t in log.outcomes]
[('TestA.test_ok', 'success', None), ('TestA.test_bad', 'failure', 9)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar, Literal

Outcome = Literal["success", "failure", "error", "skipped"]

#: How bad an outcome is, so a test that both failed and errored (a failing
#: subtest, then a broken tearDown) keeps the worst of the two.
_SEVERITY: dict[str | None, int] = {None: 0, "success": 0, "skipped": 1, "failure": 2, "error": 3}

#: Failing test names shown in :meth:`OdooLogAnalyzer.summary` before "+N more".
SUMMARY_NAMES = 3
#: Longest excerpt of a log error shown in the summary.
SUMMARY_MESSAGE_CHARS = 80

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RECORD = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<pid>\d+) (?P<level>[A-Z_]+) "
    r"(?P<db>\S+) (?P<logger>[^\s:]+): ?(?P<message>.*)$"
)
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S,%f"
#: oca.recipe.odoo's runtime/upgrade.py: "%(asctime)s %(levelname)s  %(message)s"
_UPGRADE_ECHO = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+  ")

# test descriptions, as each Odoo version writes them
_OLD_STYLE = re.compile(r"^(?P<method>\w+) \((?P<where>\w+(?:\.\w+)+)\)(?: (?P<params>.+))?$")
_SUBTEST = re.compile(r"^Subtest (?P<test>\w+(?:\.\w+)+)(?: (?P<params>.+))?$")
_DOTTED = re.compile(r"^(?P<test>\w+(?:\.\w+)+)(?: (?P<params>\(.*\)))?$")

# test events
_STARTING = re.compile(r"^Starting (?P<desc>.+?) \.\.\.$")
_OLD_START = re.compile(r"^(?P<desc>\w+ \(\w+(?:\.\w+)+\))(?: \.\.\. ?(?P<status>.*))?$")
_FAILED = re.compile(r"^(?P<flavour>FAIL|ERROR): (?P<desc>.+)$")
_UNEXPECTED_SUCCESS = re.compile(r"^unexpected success for (?P<desc>.+)$")
_SKIPPED_QUOTED = re.compile(r"^skipped (?P<reason>'.*'|\".*\")$")
_SKIPPED = re.compile(r"^skipped (?P<desc>.+?)(?: : (?P<reason>.*))?$")
_STATUS_WORDS = frozenset({"FAIL", "ERROR"})

# summaries Odoo writes about the tests
_FINAL = re.compile(r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<tests>\d+) tests?")
_MODULE = re.compile(r"^Module \S+: (?P<failed>\d+) failures?, (?P<errors>\d+) errors?")
_RAN = re.compile(r"\bRan (?P<tests>\d+) tests? in ")
_STATS = re.compile(r"^\S+: (?P<tests>\d+) tests?\b")
_AT_LEAST_ONE = "At least one test failed"
_STATS_LOGGER = "odoo.tests.stats"

# what Odoo says of the modules it loads (odoo/modules/loading.py, graph.py; odoo/netsvc.py)
_LOADING = re.compile(r"^Loading module (?P<module>\w+) \(\d+/\d+\)$")
_INVALID_NAMES = re.compile(r"^invalid module names, ignored: (?P<names>.*)$")
_UNMET = re.compile(r"^module (?P<module>\w+): Unmet dependencies: (?P<missing>.*)$")
_ADDONS_PATHS = re.compile(r"^addons paths: (?P<paths>.*)$")
_PATH_ITEM = re.compile(r"'((?:[^'\\]|\\.)*)'")
_TEST_MODULE = re.compile(r"^(?:odoo|openerp)\.addons\.(?P<module>\w+)\.")

#: Loggers of Odoo's own machinery: a record from them means the running test is over.
_FRAMEWORK_LOGGERS = ("odoo.modules.", "odoo.service.", "odoo.tests.stats", "odoo.tests.result")
_TRACEBACK_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')


@dataclass(frozen=True)
class LogRecord:
    """One Odoo log record: its prefix fields, first line, and continuation lines."""

    time: datetime | None
    pid: int
    level: str
    db: str
    logger: str
    message: str
    continuation: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The whole record as Odoo wrote it, without the prefix."""
        return "\n".join((self.message, *self.continuation))

    @property
    def is_error(self) -> bool:
        return self.level in ("ERROR", "CRITICAL")


@dataclass(frozen=True)
class TestOutcome:
    """What happened to one test.

    ``name`` is the dotted path (``odoo.addons.sale_x.tests.test_thing.TestThing.test_bad``)
    when the log lets us derive it; ``duration`` (seconds) is measured between
    log timestamps, so it is approximate and None when the log does not bound
    the test; ``path`` and ``line`` come from the failure traceback, if any.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name says

    name: str
    outcome: Outcome
    duration: float | None = None
    message: str = ""
    path: str | None = None
    line: int | None = None

    @property
    def short_name(self) -> str:
        """``TestThing.test_bad``: what a person scanning a summary recognises."""
        return ".".join(self.name.split(".")[-2:])

    @property
    def failed(self) -> bool:
        return self.outcome in ("failure", "error")


@dataclass
class _TestState:
    """A test as the log has described it so far."""

    name: str
    outcome: Outcome | None = None
    start: datetime | None = None
    duration: float | None = None
    messages: list[str] = field(default_factory=list)

    def worsen(self, outcome: Outcome) -> None:
        if _SEVERITY[outcome] >= _SEVERITY[self.outcome]:
            self.outcome = outcome

    def freeze(self) -> TestOutcome:
        message = "\n\n".join(self.messages)
        path, line = _locate(message, self.name.rsplit(".", 1)[-1])
        return TestOutcome(self.name, self.outcome or "success", self.duration, message,
                           path, line)


@dataclass(frozen=True)
class _ReportedCounts:
    """Counts Odoo printed itself, summed over every line of one kind."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    seen: bool = False

    def add(self, tests: int = 0, failures: int = 0, errors: int = 0) -> _ReportedCounts:
        return _ReportedCounts(self.tests + tests, self.failures + failures,
                               self.errors + errors, True)


class OdooLogAnalyzer:
    """Incremental reader of an Odoo server log.

    Feed it every line (:meth:`feed_line`) as it arrives, then :meth:`close`
    it: a record is only complete once the next one starts, because its
    traceback follows it.  Counts come from the most authoritative source the
    log offers: Odoo's final ``N failed, M error(s) of K tests`` line wins
    over everything; without it, the per-module lines (``Ran N tests``,
    ``Module x: N failures``, ``odoo.tests.stats``) and the tests seen one by
    one are combined, keeping the highest count of each.
    """

    def __init__(self) -> None:
        self.records = 0
        self.warnings = 0
        self.error_records: list[LogRecord] = []
        self._pending: LogRecord | None = None
        self._pending_lines: list[str] = []
        self._tests: dict[str, _TestState] = {}
        self._last_started: dict[str, str] = {}  # logger -> test it is running
        self._timed: _TestState | None = None  # the test whose duration is measured
        self._old_block: tuple[str, _TestState] | None = None  # Odoo 12 traceback records
        self._final = _ReportedCounts()
        self._per_module = _ReportedCounts()
        self._ran = _ReportedCounts()
        self._stats = _ReportedCounts()
        #: the module Odoo was installing or updating when each error record came
        self.error_modules: list[str | None] = []
        #: what Odoo said of the modules it was asked for: names it did not know,
        #: dependencies it could not meet (module -> text), where it looked
        self.invalid_names: list[str] = []
        self.unmet: dict[str, str] = {}
        self.addons_paths: list[str] = []
        self._loading: str | None = None

    @classmethod
    def from_text(cls, text: str) -> OdooLogAnalyzer:
        """Analyse a whole log at once (tests, scripts)."""
        analyzer = cls()
        analyzer.feed_lines(text.splitlines())
        analyzer.close()
        return analyzer

    # feeding

    def feed_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.feed_line(line)

    def feed_line(self, line: str) -> None:
        """Take one line of the log; a line without the record prefix continues the last record."""
        line = _ANSI.sub("", line.rstrip("\r\n"))
        match = _RECORD.match(line)
        if match is None:
            if _UPGRADE_ECHO.match(line):
                self._flush()  # the upgrade script's echo of a record it also wrote
            elif self._pending is not None:
                self._pending_lines.append(line)
            return
        self._flush()
        self._pending = _parse_record(match)

    def close(self) -> None:
        """Finish the last record; the log is complete.  Safe to call twice."""
        self._flush()

    def _flush(self) -> None:
        if self._pending is None:
            return
        record = replace(self._pending, continuation=tuple(self._pending_lines))
        self._pending, self._pending_lines = None, []
        self.records += 1
        self._handle(record)

    # classifying records

    def _handle(self, record: LogRecord) -> None:
        if self._continues_old_block(record):
            return
        self._old_block = None
        for handler in (self._on_start, self._on_failure, self._on_skip, self._on_summary):
            if handler(record):
                return
        self._on_other(record)

    def _on_start(self, record: LogRecord) -> bool:
        match = _STARTING.match(record.message)
        if match is not None:
            name = _qualify(record.logger, match["desc"])
            if name is not None:
                self._start(name[0], record)
                return True
        return self._on_old_start(record)

    def _on_old_start(self, record: LogRecord) -> bool:
        """Odoo 12 logs ``test_x (odoo.addons.m.tests.test_y.TestY)`` as a test begins."""
        if not (_is_test_logger(record.logger) and record.level == "INFO"):
            return False
        match = _OLD_START.match(record.message)
        qualified = _qualify(record.logger, match["desc"]) if match else None
        if qualified is None:
            return False
        state = self._start(qualified[0], record)
        status = (match["status"] or "").strip()
        if status.startswith("skipped"):
            state.worsen("skipped")
            state.messages.append(status[len("skipped"):].strip())
        return True

    def _start(self, name: str, record: LogRecord) -> _TestState:
        self._end_timing(record)
        state = self._tests.setdefault(name, _TestState(name))
        # started again: Odoo retries a failed test, and the retry decides
        state.outcome, state.start, state.duration = None, record.time, None
        state.messages.clear()
        self._timed = state
        self._last_started[record.logger] = name
        return state

    def _on_failure(self, record: LogRecord) -> bool:
        if not record.is_error:
            return False
        if record.message in _STATUS_WORDS and _is_test_logger(record.logger):
            return self._on_status_word(record)
        match = _FAILED.match(record.message)
        if match is not None:
            return self._fail(record, match["desc"], "failure" if match["flavour"] == "FAIL"
                              else "error", "\n".join(record.continuation).rstrip())
        match = _UNEXPECTED_SUCCESS.match(record.message)
        if match is not None:
            return self._fail(record, match["desc"], "failure", "unexpected success")
        return False

    def _on_status_word(self, record: LogRecord) -> bool:
        """Odoo 12 writes ``FAIL``/``ERROR`` alone after the test; the traceback comes later."""
        state = self._running(record.logger)
        if state is not None:
            state.worsen("failure" if record.message == "FAIL" else "error")
        return True

    def _fail(self, record: LogRecord, description: str, outcome: Outcome, text: str) -> bool:
        qualified = _qualify(record.logger, description)
        if qualified is None:
            return False
        name, params = qualified
        state = self._tests.setdefault(name, _TestState(name))
        state.worsen(outcome)
        state.messages.append(f"{params}:\n{text}" if params else text)
        self._old_block = (record.logger, state)
        return True

    def _continues_old_block(self, record: LogRecord) -> bool:
        """Odoo 12 logs a traceback as one record per line, each after the first starting '` '."""
        if self._old_block is None or record.logger != self._old_block[0]:
            return False
        if not record.message.startswith(("Traceback", "`")):
            return False
        state = self._old_block[1]
        line = record.message[2:] if record.message.startswith("` ") else record.message
        state.messages[-1] = "\n".join(filter(None, (state.messages[-1], line)))
        return True

    def _on_skip(self, record: LogRecord) -> bool:
        match = _SKIPPED_QUOTED.match(record.message)
        if match is not None:
            state = self._running(record.logger)
            reason = match["reason"][1:-1]
        else:
            match = _SKIPPED.match(record.message)
            qualified = _qualify(record.logger, match["desc"]) if match else None
            if qualified is None:
                return False
            state = self._tests.setdefault(qualified[0], _TestState(qualified[0]))
            reason = match["reason"] or ""
        if state is not None:
            state.worsen("skipped")
            state.messages.append(reason)
        return state is not None

    def _on_summary(self, record: LogRecord) -> bool:
        message = record.message
        if match := _FINAL.search(message):
            self._final = self._final.add(int(match["tests"]), int(match["failed"]),
                                          int(match["errors"]))
        elif match := _MODULE.match(message):
            self._per_module = self._per_module.add(0, int(match["failed"]),
                                                    int(match["errors"]))
        elif match := _RAN.search(message):
            self._ran = self._ran.add(int(match["tests"]))
        elif record.logger == _STATS_LOGGER and (match := _STATS.match(message)):
            self._stats = self._stats.add(int(match["tests"]))
        elif not message.startswith(_AT_LEAST_ONE):
            return False
        self._end_timing(record)
        return True

    def _on_other(self, record: LogRecord) -> None:
        if record.logger.startswith(_FRAMEWORK_LOGGERS):
            self._end_timing(record)
        self._on_modules(record)
        if record.level == "WARNING":
            self.warnings += 1
        elif record.is_error:
            self.error_records.append(record)
            self.error_modules.append(self._loading)

    def _on_modules(self, record: LogRecord) -> None:
        """What the log says of modules: which one loads, which names or dependencies
        Odoo could not find, and its addons path (logged as it starts)."""
        message = record.message
        if match := _LOADING.match(message):
            self._loading = match["module"]
        elif match := _INVALID_NAMES.match(message):
            self.invalid_names += [n.strip() for n in match["names"].split(",") if n.strip()]
        elif match := _UNMET.match(message):
            self.unmet[match["module"]] = match["missing"].strip()
        elif record.logger in ("odoo", "openerp") and (match := _ADDONS_PATHS.match(message)):
            self.addons_paths = [p.replace("\\'", "'") for p in
                                 _PATH_ITEM.findall(match["paths"])]

    def _running(self, logger: str) -> _TestState | None:
        name = self._last_started.get(logger)
        return self._tests.get(name) if name is not None else None

    def _end_timing(self, record: LogRecord) -> None:
        state, self._timed = self._timed, None
        if state is not None and state.start is not None and record.time is not None:
            state.duration = round((record.time - state.start).total_seconds(), 3)

    # results

    @property
    def outcomes(self) -> list[TestOutcome]:
        """Every test seen, in the order the log first named it.

        A test that started and never failed, errored or skipped is a success:
        Odoo logs nothing when a test passes.
        """
        return [state.freeze() for state in self._tests.values()]

    @property
    def failed_outcomes(self) -> list[TestOutcome]:
        return [outcome for outcome in self.outcomes if outcome.failed]

    def tests_of(self, module: str) -> int:
        """How many tests of ``module`` (``odoo.addons.<module>...``) the log shows."""
        return sum(1 for name in self._tests if (m := _TEST_MODULE.match(name))
                   and m["module"] == module)

    @property
    def first_error(self) -> tuple[LogRecord, str | None] | None:
        """The first ERROR/CRITICAL record that is not a test's, with the module Odoo
        was loading then (None when it was loading none)."""
        if not self.error_records:
            return None
        return self.error_records[0], self.error_modules[0]

    @property
    def tests_run(self) -> int:
        if self._final.seen:
            return self._final.tests
        return max(self._ran.tests, self._stats.tests, len(self._tests))

    @property
    def failures(self) -> int:
        if self._final.seen:
            return self._final.failures
        return max(self._per_module.failures, self._count("failure"))

    @property
    def errors(self) -> int:
        if self._final.seen:
            return self._final.errors
        return max(self._per_module.errors, self._count("error"))

    def _count(self, outcome: Outcome) -> int:
        return sum(1 for state in self._tests.values() if state.outcome == outcome)

    def is_failure(self) -> bool:
        """True when a test failed or errored, or Odoo logged an error of its own."""
        return bool(self.failures or self.errors or self.error_records)

    def summary(self, empty: str = "no tests run") -> str:
        """One line for a step: ``12 tests, 1 failure, 0 errors: TestThing.test_bad``.

        ``empty`` is what is said when there is nothing else to say: a run
        that installs modules without tests says it differently.
        """
        parts = []
        if self.tests_run or self.failures or self.errors:
            parts.append(self._tests_summary())
        if self.error_records:
            parts.append(self._log_errors_summary())
        if not parts:
            parts.append(empty)
        if self.warnings:
            parts.append(_plural(self.warnings, "warning"))
        return "; ".join(parts)

    def _tests_summary(self) -> str:
        return tests_summary(self.tests_run, self.failures, self.errors, self.failed_outcomes)

    def _log_errors_summary(self) -> str:
        first = self.error_records[0].message.strip()
        if len(first) > SUMMARY_MESSAGE_CHARS:
            first = first[:SUMMARY_MESSAGE_CHARS - 3] + "..."
        return f"{_plural(len(self.error_records), 'error')} in log: {first}"


def _parse_record(match: re.Match[str]) -> LogRecord:
    try:
        time: datetime | None = datetime.strptime(match["time"], _TIME_FORMAT)
    except ValueError:  # a prefix-shaped line with an impossible date
        time = None
    # Odoo's format ends with " %(perf_info)s": an empty perf_info leaves a trailing space
    return LogRecord(time, int(match["pid"]), match["level"], match["db"], match["logger"],
                     match["message"].rstrip())


def _is_test_logger(logger: str) -> bool:
    """Odoo logs test events under the test's module: ``odoo.addons.<m>.tests...``."""
    return logger.startswith("odoo.addons.") and ".tests" in logger


def _qualify(logger: str, description: str) -> tuple[str, str] | None:
    """The dotted name of the test a description names, and its subtest parameters.

    None when the description does not look like a test, so that an ``ERROR:``
    message that merely starts like a test failure stays a log error.

    >>> _qualify("odoo.addons.m.tests.test_y", "TestY.test_z")
    ('odoo.addons.m.tests.test_y.TestY.test_z', '')
    >>> _qualify("odoo.addons.m.tests.test_y", "Subtest TestY.test_z (n=1)")
    ('odoo.addons.m.tests.test_y.TestY.test_z', '(n=1)')
    >>> _qualify("odoo.addons.m.tests.test_y", "test_z (odoo.addons.m.tests.test_y.TestY)")
    ('odoo.addons.m.tests.test_y.TestY.test_z', '')
    >>> _qualify("odoo.modules.registry", "could not load") is None
    True
    """
    description = description.strip()
    if match := _OLD_STYLE.match(description):
        where, method = match["where"], match["method"]
        name = where if where.endswith("." + method) else f"{where}.{method}"
        return name, match["params"] or ""
    match = _SUBTEST.match(description) or _DOTTED.match(description)
    if match is None:
        return None
    test = match["test"]
    if logger.startswith("odoo.addons.") and not test.startswith(logger + "."):
        test = f"{logger}.{test}"
    return test, match["params"] or ""


def _locate(traceback: str, method: str) -> tuple[str | None, int | None]:
    """Where a failure happened in the test's own code: the innermost frame of
    the test method, else the innermost frame in a ``tests`` folder (a helper
    or setUp); None rather than a line deep inside Odoo's ORM."""
    frames = list(_TRACEBACK_FRAME.finditer(traceback))
    candidates = ([frame for frame in frames if frame["func"] == method]
                  or [frame for frame in frames if "/tests/" in frame["path"].replace("\\", "/")])
    if not candidates:
        return None, None
    return candidates[-1]["path"], int(candidates[-1]["line"])


def tests_summary(tests: int, failures: int, errors: int,
                  failed: Iterable[TestOutcome], skipped: int = 0) -> str:
    """``12 tests, 1 failure, 0 errors[, 2 skipped]: TestX.test_bad``: the one-line story
    every test step tells, whatever report it read, with the first failing names."""
    parts = [_plural(tests, "test"), _plural(failures, "failure"), _plural(errors, "error")]
    if skipped:
        parts.append(f"{skipped} skipped")
    text = ", ".join(parts)
    names = [outcome.short_name for outcome in failed]
    if names:
        text += ": " + ", ".join(names[:SUMMARY_NAMES])
        if len(names) > SUMMARY_NAMES:
            text += f" +{len(names) - SUMMARY_NAMES} more"
    return text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
