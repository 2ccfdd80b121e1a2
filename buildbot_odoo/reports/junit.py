"""Reading JUnit XML reports (pytest's ``--junitxml``, and most test runners').

Buildbot 4 has test results (``addTestResultSet``/``addTestResult``) but no
JUnit reader; this is the plain-Python half, the step that feeds it is in
:mod:`buildbot_odoo.master.steps.junit`.  A report is the robust source for
test outcomes: its structure does not change with verbosity, plugins or
parallel runners the way console output does.

Both pytest families are read: ``xunit2`` (pytest's default, no file or
line) and ``xunit1`` (``file`` and ``line`` attributes on each test case).
A document type declaration is refused: no test runner writes one, and it
is the door to entity expansion tricks.

>>> report = parse_junit('''<testsuites><testsuite name="pytest" tests="3">
...   <testcase classname="tests.test_a" name="test_ok" time="0.010"/>
...   <testcase classname="tests.test_a" name="test_bad" time="0.020" file="tests/test_a.py"
...             line="8"><failure message="assert 1 == 2">trace</failure></testcase>
...   <testcase classname="tests.test_a" name="test_later"><skipped message="todo"/></testcase>
... </testsuite></testsuites>''')
>>> report.summary()
'3 tests, 1 failure, 0 errors, 1 skipped: test_a.test_bad'
>>> [(t.name, t.outcome, t.line) for t in report.outcomes]
[('tests.test_a.test_ok', 'success', None), ('tests.test_a.test_bad', 'failure', 9), \
('tests.test_a.test_later', 'skipped', None)]
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from .odoo_log import Outcome, TestOutcome, tests_summary

#: child element of a test case -> outcome (anything else, e.g. system-out, is ignored)
_OUTCOMES: dict[str, Outcome] = {"failure": "failure", "error": "error", "skipped": "skipped"}
_SEVERITY = {"success": 0, "skipped": 1, "failure": 2, "error": 3}


class JUnitError(ValueError):
    """The text is not a JUnit report we can read."""


@dataclass
class JUnitReport:
    """The test cases of a report, in document order."""

    outcomes: list[TestOutcome] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for t in self.outcomes if t.outcome == outcome)

    @property
    def tests(self) -> int:
        return len(self.outcomes)

    @property
    def failures(self) -> int:
        return self.count("failure")

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def failed_outcomes(self) -> list[TestOutcome]:
        return [t for t in self.outcomes if t.failed]

    def summary(self) -> str:
        """``12 tests, 1 failure, 0 errors, 2 skipped: test_x.test_bad``."""
        return tests_summary(self.tests, self.failures, self.errors, self.failed_outcomes,
                             self.skipped)


def parse_junit(text: str) -> JUnitReport:
    """Every ``testcase`` of a JUnit document, whatever the nesting of suites."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise JUnitError("refusing a JUnit report with a document type declaration")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise JUnitError(f"not well-formed XML: {exc}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitError(f"not a JUnit report: root element <{root.tag}>")
    return JUnitReport([_outcome(case) for case in root.iter("testcase")])


def _outcome(case: ElementTree.Element) -> TestOutcome:
    outcome: Outcome = "success"
    messages = []
    for child in case:
        found = _OUTCOMES.get(child.tag)
        if found is None:
            continue
        if _SEVERITY[found] > _SEVERITY[outcome]:
            outcome = found
        messages.append("\n".join(p for p in (child.get("message"), child.text) if p))
    classname, name = case.get("classname", ""), case.get("name", "")
    return TestOutcome(
        name=f"{classname}.{name}" if classname else name, outcome=outcome,
        duration=_float(case.get("time")), message="\n\n".join(messages).strip(),
        path=case.get("file") or None, line=_line(case.get("line")))


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _line(text: str | None) -> int | None:
    """pytest's xunit1 ``line`` is 0-based; Buildbot's test results are 1-based."""
    try:
        return int(text) + 1 if text is not None else None
    except ValueError:
        return None
