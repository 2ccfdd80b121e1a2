"""JUnit reports: the parser on reports a real pytest wrote, and the step reading them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.master.steps.junit import JUnitStep
from buildbot_odoo.reports.junit import JUnitError, parse_junit

SAMPLE_TESTS = '''\
import pytest


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert "sale" == "purchase", "deliberate"


def test_errors(broken):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


class TestGroup:
    def test_method(self):
        pass
'''


def real_report(tmp_path: Path, family: str) -> str:
    """What pytest itself writes for SAMPLE_TESTS, in the given junit family."""
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    report = tmp_path / f"report-{family}.xml"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"--junitxml={report}", "-o", f"junit_family={family}",
                          "test_sample.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 1, run.stdout + run.stderr  # 1: some tests failed
    return report.read_text()


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_reports_written_by_pytest(tmp_path, family):
    report = parse_junit(real_report(tmp_path, family))
    outcomes = {t.name: t for t in report.outcomes}
    assert {name: t.outcome for name, t in outcomes.items()} == {
        "test_sample.test_passes": "success",
        "test_sample.test_fails": "failure",
        "test_sample.test_errors": "error",
        "test_sample.test_skipped": "skipped",
        "test_sample.TestGroup.test_method": "success",
    }
    assert report.summary() == ("5 tests, 1 failure, 1 error, 1 skipped: "
                                "test_sample.test_fails, test_sample.test_errors")
    failed = outcomes["test_sample.test_fails"]
    assert "deliberate" in failed.message and "AssertionError" in failed.message
    assert "fixture exploded" in outcomes["test_sample.test_errors"].message
    assert outcomes["test_sample.test_skipped"].message.startswith("not today")
    assert failed.duration is not None and failed.duration >= 0
    if family == "xunit1":  # file and line are only in xunit1, and pytest counts from 0
        assert failed.path == "test_sample.py" and failed.line == 13  # the def line
    else:
        assert failed.path is None and failed.line is None


def test_a_single_testsuite_root_and_nested_suites():
    report = parse_junit(textwrap.dedent("""\
        <testsuite name="outer"><testsuite name="inner">
          <testcase classname="a.B" name="c"/></testsuite></testsuite>"""))
    assert [t.name for t in report.outcomes] == ["a.B.c"]
    assert report.summary() == "1 test, 0 failures, 0 errors"


@pytest.mark.parametrize(("text", "message"), [
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><testsuite/>', "document type"),
    ("<testsuite><testcase", "not well-formed XML"),
    ("<html><body/></html>", "not a JUnit report: root element <html>"),
])
def test_what_is_not_a_readable_report(text, message):
    with pytest.raises(JUnitError, match=message):
        parse_junit(text)


GREEN = """<testsuites><testsuite tests="2">
<testcase classname="tests.test_api" name="test_read" time="0.5"/>
<testcase classname="tests.test_api" name="test_write" time="0.25" file="tests/test_api.py"
          line="20"/>
</testsuite></testsuites>"""

GREEN_RESULTS = [
    (1000, "1", "tests.test_api.test_read", None, None, 500_000_000),
    (1000, "1", "tests.test_api.test_write", "tests/test_api.py", 21, 250_000_000)]

RED = """<testsuites><testsuite tests="3">
<testcase classname="tests.test_api" name="test_read" time="0.5"/>
<testcase classname="tests.test_api" name="test_write" time="0.25">
  <failure message="assert 1 == 2">tests/test_api.py:21: AssertionError</failure></testcase>
<testcase classname="tests.test_api" name="test_later">
  <skipped message="later"/></testcase>
</testsuite></testsuites>"""


class JUnitStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    COMMAND = ["bin/pytest", "--junitxml=pytest-junit.xml"]
    LOGFILES = {"junit.xml": {"filename": "pytest-junit.xml", "follow": False}}

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _expect(self, report: str | None, rc: int):
        self.setup_step(JUnitStep(command=self.COMMAND, junit_xml="pytest-junit.xml",
                                  results_set="pytest", no_tests_rc=(5,)))
        shell = ExpectShell(workdir="wkdir", command=self.COMMAND, logfiles=self.LOGFILES)
        if report is not None:
            shell.log("junit.xml", stdout=report)
        self.expect_commands(shell.exit(rc))

    @defer.inlineCallbacks
    def test_green_report_records_every_test(self):
        self._expect(GREEN, 0)
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "2 tests, 0 failures, 0 errors"})
        self.expect_test_result_sets([("pytest", "pass_fail", "boolean")])
        self.expect_test_results(GREEN_RESULTS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_failing_test_is_named_and_logged(self):
        self._expect(RED, 1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary(
            {"step": "3 tests, 1 failure, 0 errors, 1 skipped: test_api.test_write"})
        self.expect_test_result_sets([("pytest", "pass_fail", "boolean"),
                                      ("pytest skipped", "skipped", "message")])
        self.expect_test_results([
            (1000, "1", "tests.test_api.test_read", None, None, 500_000_000),
            (1000, "0", "tests.test_api.test_write", None, None, 250_000_000),
            (1001, "later", "tests.test_api.test_later", None, None, None)])
        self.expect_log_file("failures", "FAILURE: tests.test_api.test_write\n"
                             "assert 1 == 2\ntests/test_api.py:21: AssertionError\n")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_failing_exit_code_with_a_clean_report_still_fails(self):
        self._expect(GREEN, 2)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "2 tests, 0 failures, 0 errors; exit code 2"})
        self.expect_test_result_sets([("pytest", "pass_fail", "boolean")])
        self.expect_test_results(GREEN_RESULTS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_no_test_collected_warns(self):
        self._expect('<testsuites><testsuite tests="0"/></testsuites>', 5)
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary(
            {"step": "0 tests, 0 failures, 0 errors; no tests collected (exit code 5)"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_crash_before_any_report_fails(self):
        self._expect(None, 4)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "no JUnit report written (exit code 4)"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_unreadable_report_fails(self):
        self._expect("<testsuite><testcase", 1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "unreadable JUnit report: not well-formed XML: unclosed token: line 1, column 11 "
            "(exit code 1)")})
        yield self.run_step()
