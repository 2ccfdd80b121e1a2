"""The Odoo test step, driven by Buildbot's own step test helpers."""

from __future__ import annotations

from pathlib import Path

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.properties import Interpolate
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, ExpectStat, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.master.steps.odoo_tests import OdooTestStep

LOGS = Path(__file__).parent / "data" / "odoo_logs"
LOGFILE = "/srv/build/odoo-tests.log"
COMMAND = ["bin/test_odoo", "-d", "ci-sale", "-i", "sale_x,stock_y", f"--logfile={LOGFILE}"]
FOLLOWED = {"odoo.log": {"filename": LOGFILE, "follow": True}}
THING = "odoo.addons.sale_x.tests.test_thing.TestThing"
THING_PY = "/srv/build/addons/sale_x/tests/test_thing.py"


def odoo_log(name: str) -> str:
    return (LOGS / name).read_text()


class OdooTestStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _step(self, **kwargs):
        kwargs.setdefault("odoo_logfile", LOGFILE)
        return self.setup_step(OdooTestStep(command=COMMAND, **kwargs))

    def _expect_run(self, log_text="", exit_code=0, stderr=None, logfiles=None, then=()):
        expected = ExpectShell(workdir="wkdir", command=COMMAND,
                               logfiles=FOLLOWED if logfiles is None else logfiles)
        if stderr is not None:
            expected.stderr(stderr)
        if log_text:
            expected.log("odoo.log", stdout=log_text)
        self.expect_commands(expected.exit(exit_code), *then)

    @defer.inlineCallbacks
    def test_success_records_every_test(self):
        self._step()
        self._expect_run(odoo_log("odoo17_success.log"))
        self.expect_outcome(result=SUCCESS, state_string="5 tests, 0 failures, 0 errors")
        self.expect_result_summary({"step": "5 tests, 0 failures, 0 errors"})
        self.expect_test_result_sets([("Odoo tests", "pass_fail", "boolean")])
        pricing = "odoo.addons.sale_x.tests.test_pricing.TestPricing"
        moves = "odoo.addons.stock_y.tests.test_moves.TestMoves"
        self.expect_test_results([
            (1000, "1", f"{pricing}.test_discount", None, None, 215_000_000),
            (1000, "1", f"{pricing}.test_rounding", None, None, 282_000_000),
            (1000, "1", f"{moves}.test_in", None, None, 380_000_000),
            (1000, "1", f"{moves}.test_out", None, None, 900_000_000),
            (1000, "1", f"{moves}.test_post_install_flow", None, None, 2_902_000_000),
        ])
        yield self.run_step()
        self.assertNotIn("failures", self.get_nth_step(0).logs)

    @defer.inlineCallbacks
    def test_failure_names_the_failing_tests(self):
        self._step()
        self._expect_run(odoo_log("odoo17_failures.log"), exit_code=1)
        summary = ("5 tests, 2 failures, 1 error: "
                   "TestThing.test_bad, TestThing.test_crash, TestThing.test_lines")
        self.expect_outcome(result=FAILURE, state_string=summary)
        self.expect_result_summary({"step": summary})
        self.expect_build_result_summary({"step": summary, "build": summary})
        self.expect_test_result_sets([("Odoo tests", "pass_fail", "boolean"),
                                      ("Odoo skipped tests", "skipped", "message")])
        self.expect_test_results([
            (1000, "1", f"{THING}.test_good", None, None, 250_000_000),
            (1000, "0", f"{THING}.test_bad", THING_PY, 42, 160_000_000),
            (1000, "0", f"{THING}.test_crash", THING_PY, 57, 200_000_000),
            (1000, "0", f"{THING}.test_lines", THING_PY, 71, 110_000_000),
            (1001, "Chrome not found", f"{THING}.test_needs_chrome", None, None, 780_000_000),
        ])
        yield self.run_step()
        failures = self.get_nth_step(0).logs["failures"].stdout
        self.assertIn(f"FAILURE: {THING}.test_bad\nTraceback", failures)
        self.assertIn(f"ERROR: {THING}.test_crash\n", failures)
        self.assertIn("KeyError: 'carrier_id'", failures)

    @defer.inlineCallbacks
    def test_install_error_fails_without_tests(self):
        self._step()
        self._expect_run(odoo_log("odoo16_install_error.log"), exit_code=255)
        summary = "2 errors in log: Failed to load registry; 1 warning"
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": summary})
        yield self.run_step()
        failures = self.get_nth_step(0).logs["failures"].stdout
        self.assertTrue(failures.startswith(
            "ERROR odoo.modules.registry: Failed to load registry\nTraceback"))
        self.assertIn("CRITICAL odoo.service.server: Failed to initialize database", failures)

    @defer.inlineCallbacks
    def test_log_errors_can_only_warn(self):
        self._step(fail_on_log_errors=False)
        self._expect_run(odoo_log("odoo16_install_error.log"))
        self.expect_outcome(result=WARNINGS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_non_zero_exit_with_a_clean_log_fails(self):
        self._step()
        self._expect_run(odoo_log("odoo17_success.log"), exit_code=1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "5 tests, 0 failures, 0 errors (exit code 1)"})
        self.expect_test_result_sets([("Odoo tests", "pass_fail", "boolean")])
        self.expect_test_results([
            (1000, "1", name, None, None, duration) for name, duration in [
                ("odoo.addons.sale_x.tests.test_pricing.TestPricing.test_discount", 215_000_000),
                ("odoo.addons.sale_x.tests.test_pricing.TestPricing.test_rounding", 282_000_000),
                ("odoo.addons.stock_y.tests.test_moves.TestMoves.test_in", 380_000_000),
                ("odoo.addons.stock_y.tests.test_moves.TestMoves.test_out", 900_000_000),
                ("odoo.addons.stock_y.tests.test_moves.TestMoves.test_post_install_flow",
                 2_902_000_000),
            ]])
        yield self.run_step()

    @defer.inlineCallbacks
    def test_crash_before_any_log_quotes_the_last_error(self):
        """Was "no tests run (exit code 1)": the user had to open stdio to learn why."""
        self._step(store_test_results=False)
        self._expect_run(exit_code=1, stderr=(
            "Running as user 'root' is a security risk.\n"
            "Traceback (most recent call last):\n"
            "  File \"/srv/build/bin/test_odoo\", line 18, in <module>\n"
            "    import mock_dt\n"
            "ModuleNotFoundError: No module named 'mock_dt'\n"),
            then=[ExpectStat(file="bin/test_odoo", workdir="wkdir", log_environ=False)
                  .stat_file().exit(0)])
        summary = ("bin/test_odoo died before Odoo logged anything (exit code 1): "
                   "ModuleNotFoundError: No module named 'mock_dt' -- anybox.testing.datetime "
                   "(with_devtools) is Python 2 code: leave test-command unset, the tests then "
                   "run with the start script and Odoo's test flags")
        self.expect_outcome(result=FAILURE, state_string=summary)
        self.expect_result_summary({"step": summary})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_missing_program_is_named_with_the_recipe_option_that_makes_it(self):
        """Twisted's exec failure (FileNotFoundError, exit 1) is not the story: the
        worker says the file is not there."""
        self._step(store_test_results=False,
                   missing_hint="oca.recipe.odoo writes it only with with_devtools = true")
        self._expect_run(exit_code=1, stderr=(
            "Upon execvpe bin/test_odoo ['bin/test_odoo', '-d'] in environment id 1\n"
            ":Traceback (most recent call last):\n"
            "FileNotFoundError: [Errno 2] No such file or directory: b'bin/test_odoo'\n"),
            then=[ExpectStat(file="bin/test_odoo", workdir="wkdir", log_environ=False)
                  .exit(2)])
        summary = ("bin/test_odoo not made by the buildout: oca.recipe.odoo writes it only "
                   "with with_devtools = true")
        self.expect_outcome(result=FAILURE, state_string=summary)
        self.expect_result_summary({"step": summary})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_program_found_on_path_is_not_looked_for(self):
        command = ["odoo", "-d", "ci-sale"]
        self.setup_step(OdooTestStep(command=command, store_test_results=False))
        self.expect_commands(ExpectShell(workdir="wkdir", command=command).exit(-1))
        summary = ("odoo ended before Odoo logged anything (exit code -1), "
                   "without a word on stderr")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": summary})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_odoo_refusing_the_postgres_role_is_explained(self):
        self._step(store_test_results=False)
        self._expect_run(exit_code=1, stderr=(
            "Running as user 'root' is a security risk.\n"
            "Using the database user 'postgres' is a security risk, aborting."),
            then=[ExpectStat(file="bin/test_odoo", workdir="wkdir", log_environ=False)
                  .stat_file().exit(0)])
        self.expect_outcome(result=FAILURE)
        summary = ("bin/test_odoo died before Odoo logged anything (exit code 1): Using the "
                   "database user 'postgres' is a security risk, aborting. -- Odoo refuses "
                   "the role postgres: give the worker's postgresql capability another user=")
        self.expect_result_summary({"step": summary})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_warnings_only(self):
        self._step()
        self._expect_run(odoo_log("odoo18_warnings.log"))
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": "1 test, 0 failures, 0 errors; 2 warnings"})
        self.expect_test_result_sets([("Odoo tests", "pass_fail", "boolean")])
        self.expect_test_results([
            (1000, "1", "odoo.addons.sale_x.tests.test_pricing.TestPricing.test_discount",
             None, None, 300_000_000)])
        yield self.run_step()

    @defer.inlineCallbacks
    def test_warnings_can_be_failures(self):
        self._step(warnings_are_failures=True, store_test_results=False)
        self._expect_run(odoo_log("odoo18_warnings.log"))
        self.expect_outcome(result=FAILURE)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_log_on_stderr_without_logfile(self):
        self.setup_step(OdooTestStep(command=COMMAND, store_test_results=False))
        self._expect_run(stderr=odoo_log("odoo14_ran.log"), exit_code=1, logfiles={})
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "3 tests, 0 failures, 1 error: TestMoves.test_out"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_logfile_path_is_rendered(self):
        self.setup_step(OdooTestStep(
            command=COMMAND, odoo_logfile=Interpolate("%(prop:builddir)s/odoo-tests.log"),
            store_test_results=False))
        self.build.setProperty("builddir", "/srv/build", "Worker")
        self._expect_run(odoo_log("odoo17_success.log"))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()

    def test_default_names(self):
        step = OdooTestStep(command=COMMAND)
        self.assertEqual((step.name, step.description, step.descriptionDone),
                         ("odoo-tests", ["testing"], ["tests"]))

    def test_summary_while_running(self):
        # the instance a build makes from the factory's (which holds no analyser)
        step = buildstep.create_step_from_step_or_factory(OdooTestStep(command=COMMAND))
        self.assertEqual(step.getCurrentSummary(), {"step": "testing"})
        first_lines = odoo_log("odoo17_failures.log").splitlines()[:12]  # up to test_crash
        step.analyzer.feed_lines(first_lines)
        self.assertEqual(step.getCurrentSummary(),
                         {"step": "testing: 2 tests, 1 failure, 0 errors: TestThing.test_bad"})

    def test_command_is_required(self):
        with self.assertRaises(config.ConfigErrors):
            OdooTestStep(odoo_logfile=LOGFILE)
