"""Reading Odoo server logs (SPEC 6), from Odoo 12's unittest output to Odoo 18."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from buildbot_odoo.reports import odoo_log
from buildbot_odoo.reports.odoo_log import OdooLogAnalyzer, TestOutcome

LOGS = Path(__file__).parent / "data" / "odoo_logs"
PREFIX = "2024-05-02 10:00:{:02d},000 42 {} ci {}: {}"
TESTS = "odoo.addons.sale_x.tests.test_thing"


def analyze(name: str) -> OdooLogAnalyzer:
    return OdooLogAnalyzer.from_text((LOGS / name).read_text())


def record(second: int, level: str, logger: str, message: str) -> str:
    return PREFIX.format(second, level, logger, message)


def by_name(analyzer: OdooLogAnalyzer) -> dict[str, TestOutcome]:
    return {outcome.short_name: outcome for outcome in analyzer.outcomes}


def test_trailing_space_of_odoo_records_is_ignored():
    # real Odoo 16+ ends each record with " %(perf_info)s", empty outside requests
    text = "".join(line + " \n" for line in (LOGS / "odoo17_success.log").read_text().splitlines()
                   if line.strip())
    spaced, plain = OdooLogAnalyzer.from_text(text), analyze("odoo17_success.log")
    assert [(o.name, o.outcome) for o in spaced.outcomes] == \
           [(o.name, o.outcome) for o in plain.outcomes]
    assert len(spaced.outcomes) == 5


def test_doctests():
    failures, _ = doctest.testmod(odoo_log)
    assert failures == 0


def test_successful_run_over_several_addons():
    log = analyze("odoo17_success.log")
    assert (log.tests_run, log.failures, log.errors) == (5, 0, 0)
    assert not log.is_failure()
    assert log.error_records == [] and log.warnings == 0
    assert [o.name for o in log.outcomes] == [
        "odoo.addons.sale_x.tests.test_pricing.TestPricing.test_discount",
        "odoo.addons.sale_x.tests.test_pricing.TestPricing.test_rounding",
        "odoo.addons.stock_y.tests.test_moves.TestMoves.test_in",
        "odoo.addons.stock_y.tests.test_moves.TestMoves.test_out",
        "odoo.addons.stock_y.tests.test_moves.TestMoves.test_post_install_flow",
    ]
    assert {o.outcome for o in log.outcomes} == {"success"}
    assert log.summary() == "5 tests, 0 failures, 0 errors"


def test_durations_come_from_timestamps_between_test_boundaries():
    tests = by_name(analyze("odoo17_success.log"))
    assert tests["TestPricing.test_discount"].duration == 0.215  # until the next Starting
    assert tests["TestPricing.test_rounding"].duration == 0.282  # until the next module loads
    assert tests["TestMoves.test_post_install_flow"].duration == 2.902  # http logs in between


def test_failures_and_errors_with_tracebacks():
    log = analyze("odoo17_failures.log")
    assert (log.tests_run, log.failures, log.errors) == (5, 2, 1)
    assert log.is_failure()
    assert log.error_records == []  # test failures are not counted twice as log errors
    tests = by_name(log)
    assert {name: t.outcome for name, t in tests.items()} == {
        "TestThing.test_good": "success",
        "TestThing.test_bad": "failure",
        "TestThing.test_crash": "error",
        "TestThing.test_lines": "failure",
        "TestThing.test_needs_chrome": "skipped",
    }
    bad = tests["TestThing.test_bad"]
    assert bad.name == f"{TESTS}.TestThing.test_bad"
    assert bad.message.startswith("Traceback (most recent call last):")
    assert bad.message.endswith("AssertionError: 90.0 != 100.0")
    assert (bad.path, bad.line) == ("/srv/build/addons/sale_x/tests/test_thing.py", 42)
    assert bad.duration == 0.16
    crash = tests["TestThing.test_crash"]
    assert crash.line == 57  # the test's own frame, not the model method that raised
    assert "KeyError: 'carrier_id'" in crash.message
    assert tests["TestThing.test_lines"].message.startswith("(qty=3):\nTraceback")
    assert tests["TestThing.test_needs_chrome"].message == "Chrome not found"
    assert log.summary() == (
        "5 tests, 2 failures, 1 error: "
        "TestThing.test_bad, TestThing.test_crash, TestThing.test_lines")


def test_install_error_without_tests():
    log = analyze("odoo16_install_error.log")
    assert (log.tests_run, log.failures, log.errors, log.outcomes) == (0, 0, 0, [])
    assert [(r.level, r.logger, r.message) for r in log.error_records] == [
        ("ERROR", "odoo.modules.registry", "Failed to load registry"),
        ("CRITICAL", "odoo.service.server", "Failed to initialize database `ci-sale`."),
    ]
    assert log.error_records[0].text.endswith(
        "ModuleNotFoundError: No module named 'odoo.addons.missing_dep'")
    assert log.warnings == 1
    assert log.is_failure()
    assert log.summary() == "2 errors in log: Failed to load registry; 1 warning"


def test_odoo12_unittest_blocks():
    log = analyze("odoo12_unittest.log")
    assert (log.tests_run, log.failures, log.errors) == (3, 1, 0)
    assert log.error_records == []  # FAIL, traceback records and module summaries are known
    tests = by_name(log)
    assert {name: t.outcome for name, t in tests.items()} == {
        "TestThing.test_bad": "failure",
        "TestThing.test_good": "success",
        "TestThing.test_later": "skipped",
    }
    bad = tests["TestThing.test_bad"]
    assert bad.name == f"{TESTS}.TestThing.test_bad"
    assert bad.message == "\n".join([
        "Amounts include the discount.",
        "Traceback (most recent call last):",
        '  File "/srv/build/addons/sale_x/tests/test_thing.py", line 21, in test_bad',
        "    self.assertEqual(order.amount_total, 90.0)",
        "AssertionError: 100.0 != 90.0",
    ])
    assert bad.line == 21
    assert tests["TestThing.test_later"].message == "not before v13"
    assert log.summary() == "3 tests, 1 failure, 0 errors: TestThing.test_bad"


def test_odoo14_ran_lines_and_module_summaries():
    log = analyze("odoo14_ran.log")
    assert (log.tests_run, log.failures, log.errors) == (3, 0, 1)
    assert log.error_records == []
    tests = by_name(log)
    assert tests["TestMoves.test_out"].outcome == "error"
    assert tests["TestMoves.test_out"].line == 33
    assert tests["TestMoves.test_skip_me"].outcome == "skipped"
    assert log.summary() == "3 tests, 0 failures, 1 error: TestMoves.test_out"


def test_reported_counts_beat_the_tests_seen_one_by_one():
    log = OdooLogAnalyzer.from_text("\n".join([
        record(1, "INFO", TESTS, "Starting TestThing.test_a ..."),
        record(2, "INFO", "odoo.modules.module", "Ran 12 tests in 3.210s"),
        record(3, "INFO", "odoo.modules.module", "Ran 4 tests in 0.500s"),
    ]))
    assert log.tests_run == 16
    assert log.summary() == "16 tests, 0 failures, 0 errors"


def test_final_summary_is_authoritative():
    log = OdooLogAnalyzer.from_text("\n".join([
        record(1, "INFO", TESTS, "Starting TestThing.test_a ..."),
        record(2, "INFO", TESTS, "Starting TestThing.test_b ..."),
        record(3, "INFO", "odoo.tests.stats", "sale_x: 2 tests 0.30s 40 queries"),
        record(4, "ERROR", "odoo.tests.result",
               "1 failed, 0 error(s) of 40 tests when loading database 'ci'"),
    ]))
    assert (log.tests_run, log.failures, log.errors) == (40, 1, 0)
    assert log.is_failure()  # even though no FAIL line named the test
    assert log.error_records == []
    assert log.summary() == "40 tests, 1 failure, 0 errors"


def test_warnings_only():
    log = analyze("odoo18_warnings.log")
    assert (log.tests_run, log.failures, log.errors, log.warnings) == (1, 0, 0, 2)
    assert not log.is_failure()
    assert log.summary() == "1 test, 0 failures, 0 errors; 2 warnings"


def test_critical_alone_is_a_log_error():
    log = OdooLogAnalyzer.from_text(record(
        1, "CRITICAL", "odoo.service.server", "Failed to initialize database `ci`."))
    assert log.is_failure()
    assert log.summary() == "1 error in log: Failed to initialize database `ci`."


def test_error_logged_by_another_logger_during_tests():
    log = OdooLogAnalyzer.from_text("\n".join([
        record(1, "INFO", TESTS, "Starting TestThing.test_tour ..."),
        record(2, "ERROR", "odoo.http", "Exception during request handling."),
        "Traceback (most recent call last):",
        '  File "/srv/build/parts/odoo/odoo/http.py", line 2190, in __call__',
        "ValueError: Expected singleton: res.partner(1, 2)",
        record(3, "INFO", "odoo.tests.result", "0 failed, 0 error(s) of 1 tests when loading"),
    ]))
    assert by_name(log)["TestThing.test_tour"].outcome == "success"
    assert len(log.error_records) == 1 and log.is_failure()
    assert log.summary() == (
        "1 test, 0 failures, 0 errors; 1 error in log: Exception during request handling.")


def test_error_message_that_only_looks_like_a_test_failure():
    log = OdooLogAnalyzer.from_text(record(1, "ERROR", "odoo.sql_db", "ERROR: could not connect"))
    assert log.outcomes == [] and len(log.error_records) == 1


def test_no_tests_run():
    log = OdooLogAnalyzer.from_text(record(1, "INFO", "odoo.modules.loading", "Modules loaded."))
    assert not log.is_failure()
    assert log.summary() == "no tests run"


def test_failing_names_are_truncated():
    lines = []
    for number in range(5):
        lines.append(record(number, "INFO", TESTS, f"Starting TestThing.test_{number} ..."))
        lines.append(record(number, "ERROR", TESTS, f"FAIL: TestThing.test_{number}"))
    log = OdooLogAnalyzer.from_text("\n".join(lines))
    assert log.summary() == (
        "5 tests, 5 failures, 0 errors: "
        "TestThing.test_0, TestThing.test_1, TestThing.test_2 +2 more")


def test_long_log_error_is_shortened_in_the_summary():
    log = OdooLogAnalyzer.from_text(record(1, "ERROR", "odoo.modules.loading", "x" * 200))
    summary = log.summary()
    assert summary.endswith("...") and len(summary) == len("1 error in log: ") + 80


def test_streaming_completes_a_record_when_the_next_one_starts():
    log = OdooLogAnalyzer()
    log.feed_line(record(1, "INFO", TESTS, "Starting TestThing.test_a ...") + "\n")
    log.feed_line(record(2, "ERROR", TESTS, "FAIL: TestThing.test_a"))
    assert log.outcomes[0].outcome == "success"  # the FAIL record may still grow
    log.feed_line("Traceback (most recent call last):")
    log.feed_line("AssertionError: False is not true")
    log.close()
    log.close()
    outcome = log.outcomes[0]
    assert outcome.outcome == "failure"
    assert outcome.message.endswith("AssertionError: False is not true")
    assert log.records == 2


def test_colours_are_ignored():
    line = ("2024-05-02 10:00:01,000 42 \x1b[1;31m\x1b[1;49mERROR\x1b[0m ci "
            f"{TESTS}: FAIL: TestThing.test_a")
    log = OdooLogAnalyzer.from_text(line)
    assert log.failures == 1 and log.error_records == []


def test_lines_before_the_first_record_are_ignored():
    log = OdooLogAnalyzer.from_text("Installing zc.buildout\nTraceback (most recent call last):\n")
    assert log.records == 0 and log.summary() == "no tests run"


def test_unexpected_success_is_a_failure():
    log = OdooLogAnalyzer.from_text(
        record(1, "ERROR", TESTS, "unexpected success for TestThing.test_known_bug"))
    assert by_name(log)["TestThing.test_known_bug"].outcome == "failure"
    assert log.error_records == []


def test_a_retried_test_keeps_its_last_outcome():
    log = OdooLogAnalyzer.from_text("\n".join([
        record(1, "INFO", TESTS, "Starting TestThing.test_flaky ..."),
        record(2, "ERROR", TESTS, "FAIL: TestThing.test_flaky"),
        record(3, "INFO", TESTS, "Starting TestThing.test_flaky ..."),
        record(4, "INFO", "odoo.tests.result", "0 failed, 0 error(s) of 1 tests when loading"),
    ]))
    assert [o.outcome for o in log.outcomes] == ["success"]
    assert not log.is_failure()


def test_subtest_and_error_keep_the_worst_outcome():
    log = OdooLogAnalyzer.from_text("\n".join([
        record(1, "INFO", TESTS, "Starting TestThing.test_lines ..."),
        record(2, "ERROR", TESTS, "ERROR: TestThing.test_lines"),
        record(3, "ERROR", TESTS, "FAIL: Subtest TestThing.test_lines (qty=1)"),
    ]))
    assert [o.outcome for o in log.outcomes] == ["error"]


MODULE = "odoo.addons.m.tests.test_y"


@pytest.mark.parametrize(("description", "name"), [
    (f"test_z ({MODULE}.TestY.test_z)", f"{MODULE}.TestY.test_z"),  # Python 3.11+ str(test)
    (f"{MODULE}.TestY.test_z", f"{MODULE}.TestY.test_z"),
    (f"setUpClass ({MODULE}.TestY)", f"{MODULE}.TestY.setUpClass"),
])
def test_test_names_across_python_and_odoo_versions(description, name):
    log = OdooLogAnalyzer.from_text(record(1, "ERROR", MODULE, f"ERROR: {description}"))
    assert [o.name for o in log.outcomes] == [name]


def test_upgrade_script_echo_lines_are_not_records_nor_continuations():
    """bin/upgrade_<part> (oca.recipe.odoo) writes its messages twice: Odoo's format, and
    its own ``TIME LEVEL  message``; the echo counts once (as Odoo's record) and does not
    stick to the record above it."""
    log = analyze("oca_upgrade_script.log")
    assert log.warnings == 2  # each of the script's two warnings once, not twice
    assert log.error_records == [] and log.tests_run == 0
    assert log.summary("no error in the Odoo log") == "no error in the Odoo log; 2 warnings"
    failing = OdooLogAnalyzer.from_text(
        record(1, "ERROR", "odoo.upgrade", "Please check logs at /srv/build/upgrade.log") + "\n"
        "2024-05-02 10:00:01,000 ERROR  Please check logs at /srv/build/upgrade.log\n"
        + record(2, "INFO", "odoo.upgrade", "done") + "\n")
    assert [r.text for r in failing.error_records] == [
        "Please check logs at /srv/build/upgrade.log"]
