"""Which tests run, and the dependencies' steps: commands, verdicts and summaries, driven
by Buildbot's own step test helpers on real Odoo 17 logs (tests/unit/data/odoo_logs)."""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.buildsteps import build_steps
from buildbot_odoo.master.steps.odoo_dependencies import (
    DependenciesScriptStep,
    OdooDependenciesStep,
)
from buildbot_odoo.master.steps.odoo_tests import OdooTestStep
from buildbot_odoo.master.subfactories import dependencies
from buildbot_odoo.master.subfactories.odoo import install_modules_test
from buildbot_odoo.reports import addons_install
from buildbot_odoo.reports.odoo_log import OdooLogAnalyzer

from .subfactory_support import BUILDDIR, DB, ENV, by_name, configurator, render
from .test_retrieval import options_for

LOGS = Path(__file__).parent / "data" / "odoo_logs"
SCRIPT = "print('the worker script')"
PLAN_COMMAND = ["python3", "-", "plan"]
STATES = ["psql", "-X", "-A", "-t", "-F", "|", "-d", DB, "-c",
          "SELECT name, state FROM ir_module_module"]


def log_of(name: str) -> str:
    return (LOGS / name).read_text()


def test_doctests():
    assert doctest.testmod(addons_install).failed == 0


def outcome_line(**outcome) -> str:
    return "odoo-dependencies: " + json.dumps(outcome) + "\n"


def collected_stdout(text: str):
    def behave(command):
        command.stdout = text
    return behave


# --- which steps a build gets


def names(**fields) -> list[str]:
    options = options_for(odoo_addons=["sale_x"], start_command="bin/start_odoo", **fields)
    return [step.name for step in build_steps(configurator(), options, "odoo.cfg", ENV)]


def test_by_default_the_testing_database_is_a_copy_of_the_dependencies_template():
    made = names()
    assert made[made.index("odoo-dependencies") + 1] == "createdb"
    assert "dropdb" not in made and "install-dependencies" not in made
    assert made.index("createdb") < made.index("odoo-tests")
    assert made[-1] == "drop-testing-database"


def test_without_the_template_dependencies_are_installed_before_the_tests():
    made = names(raw={"install-modules-test.dependencies-template": "false"})
    assert made.index("createdb") < made.index("odoo-dependencies") < made.index(
        "install-dependencies") < made.index("odoo-tests")
    assert "dropdb" in made


def test_with_a_remote_copy_the_copy_gets_the_missing_dependencies():
    made = names(db_steps="pg_remote_copy", raw={"pg_remote_copy.arguments": "prod"})
    assert made.index("pg_remote_copy") < made.index("install-dependencies") < made.index(
        "odoo-tests")


@pytest.mark.parametrize("fields", [
    {"raw": {"install-modules-test.scope": "all"}},
    {"odoo_addons": ["all"]},
])
def test_the_whole_tree_scope_installs_and_tests_everything_at_once(fields):
    options = options_for(**{"odoo_addons": ["sale_x"], "start_command": "bin/start_odoo",
                             **fields})
    made = [step.name for step in build_steps(configurator(), options, "odoo.cfg", ENV)]
    assert "odoo-dependencies" not in made and "install-dependencies" not in made
    tests = by_name(build_steps(configurator(), options, "odoo.cfg", ENV))["odoo-tests"]
    assert not any("--test-tags" in arg for arg in render(tests.command, odoo_major=17))


def test_an_unknown_scope_is_refused_at_its_line():
    options = options_for(raw={"install-modules-test.scope": "tree"})
    with pytest.raises(ConfigError) as caught:
        install_modules_test(configurator(), options, "odoo.cfg", ENV)
    assert "install-modules-test.scope: 'tree' is not a test scope" in str(caught.value)


@pytest.mark.parametrize(("major", "expected"), [
    (17, ["--test-tags=/sale_x,/stock_y"]), (12, ["--test-tags=/sale_x,/stock_y"]),
    (11, []), (None, [])])
def test_test_tags_select_the_addons_tests_from_odoo_12(major, expected):
    options = options_for(odoo_addons=["sale_x", "stock_y"], start_command="bin/start_odoo")
    tests = by_name(install_modules_test(configurator(), options, "odoo.cfg", ENV))["odoo-tests"]
    command = render(tests.command, odoo_major=major)
    assert [a for a in command if a.startswith("--test-tags")] == expected


def test_template_names_are_the_builders_and_never_a_testing_database():
    options = options_for(odoo_addons=["sale_x"], start_command="bin/start_odoo")
    prepare = dependencies.template_steps(options, ENV, 3600)[0]
    command = render(prepare.command, db_prefix="ci")
    template = command[command.index("--template") + 1]
    building = command[command.index("--building") + 1]
    assert template.startswith("ci-sale-pg15-deps-") and building.startswith(
        "ci-sale-pg15-deps-new-")
    other = render(prepare.command, db_prefix="ci", buildername="sale-pg16")
    assert other[other.index("--template") + 1] != template
    assert command[-2:] == ["--", "bin/start_odoo"]


def test_template_names_are_the_running_builders_whatever_a_worker_property_says():
    # the build's builders share its factory: the name comes from the builder running it,
    # never from a worker's ``buildername`` property (a workers.cfg option), or one
    # builder's final clean-up could drop another builder's template
    props = Properties(db_prefix="ci", buildername="sale-pg15")
    props.build = SimpleNamespace(builder=SimpleNamespace(name="sale-pg16"))
    template = dependencies.BuilderDb("deps").getRenderingFor(props)
    assert template.startswith("ci-sale-pg16-deps-")


def test_the_script_runs_with_the_build_virtualenvs_python_once_the_buildout_is_done():
    # python3 on PATH may be a wrapper (pyenv's shim) or load a big site: the virtualenv's
    # interpreter starts at once; the final clean-up uses it only after the script ran
    # (it runs also when bootstrap failed: no virtualenv), a build without one python3
    options = options_for(odoo_addons=["sale_x"], start_command="bin/start_odoo")
    prepare, copy = dependencies.template_steps(options, ENV, 3600)
    [discard] = dependencies.discard_steps(options, ENV)
    assert render(prepare.command)[0] == render(copy.command)[0] == f"{BUILDDIR}/venv/bin/python"
    assert render(discard.command)[0] == "python3"  # no dependencies step ran
    ran = render(discard.command, odoo_data_dir=f"{BUILDDIR}/odoo-data")
    assert ran[0] == f"{BUILDDIR}/venv/bin/python"
    plain = options_for(odoo_addons=["sale_x"], start_command="bin/start_odoo",
                        virtualenv=False)
    assert render(dependencies.template_steps(plain, ENV, 3600)[0].command)[0] == "python3"


@pytest.mark.parametrize(("template", "expected"), [
    ("reused", "--key="), ("made", "--key="), ("made again", "--key="),
    ("failed", "--key=k1"), (None, "--key=k1")])
def test_the_final_clean_up_asks_about_the_template_only_when_it_may_be_stale(
        template, expected):
    # reused or made by this build: its key is the build's, no psql to ask; failed, or
    # the step never said (killed, lost): the template is compared, and dropped if stale
    props = Properties(odoo_dependencies_key="k1")
    if template is not None:
        props.setProperty("odoo_dependencies_template", template, "odoo-dependencies")
    assert dependencies.KeyToCheck().getRenderingFor(props) == expected


# --- the dependencies step


class DependenciesStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _given(self, stdout: str, rc: int = 0):
        self.setup_step(OdooDependenciesStep(SCRIPT, command=PLAN_COMMAND))
        self.expect_commands(ExpectShell(workdir="wkdir", command=PLAN_COMMAND,
                                         initial_stdin=SCRIPT).stdout(stdout).exit(rc))

    @defer.inlineCallbacks
    def test_a_reused_template_sets_what_later_steps_render(self):
        self._given(outcome_line(template="reused", dependencies=["base", "web"], odoo_major=17,
                               data_dir="/w/b/odoo-data", key="k1", addons_path=["/a"]))
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "template reused: 2 modules (base, web)"})
        self.expect_property("odoo_major", 17)
        self.expect_property("odoo_data_dir", "/w/b/odoo-data")
        self.expect_property("odoo_dependencies", ["base", "web"])
        self.expect_property("odoo_dependencies_key", "k1")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_template_made_again_says_what_changed_and_ignores_dependencies_warnings(self):
        self._given(log_of("odoo17_dependencies_install.log") + outcome_line(
            template="made again", changed=["my_dep", "eggs"], seconds=8.4,
            dependencies=["base", "my_dep", "web"], odoo_major=17))
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": (
            "template made again (my_dep, eggs changed): 3 modules (base, my_dep, web) "
            "in 8.4 s")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_dependency_that_fails_to_install_is_named_with_odoos_error(self):
        self._given(log_of("odoo17_dependency_install_error.log") + outcome_line(
            template="failed", exit_code=255, dependencies=["base", "dep_broken"]), rc=1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "dependency dep_broken failed to install: while parsing "
            "/tmp/myaddons/dep_broken/data/bad.xml:2, somewhere inside <record id=\"x\" "
            "model=\"no.such.model\"><field name=\"name\">x</field></record>")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_script_error_is_its_summary(self):
        self._given(outcome_line(error="no Odoo configuration file etc/odoo.cfg (did the "
                                     "buildout make it?)"), rc=1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "dependencies: no Odoo configuration file "
                                            "etc/odoo.cfg (did the buildout make it?)"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_unreachable_server_is_named_with_libpqs_words(self):
        self.setup_step(OdooDependenciesStep(SCRIPT, command=PLAN_COMMAND))
        self.expect_commands(ExpectShell(workdir="wkdir", command=PLAN_COMMAND,
                                         initial_stdin=SCRIPT)
            .stderr('psql: error: connection to server on socket "/run/pg/.s.PGSQL.5433" '
                    "failed: No such file or directory\n\tIs the server running locally and "
                    "accepting connections on that socket?\n")
            .stdout(outcome_line(error="psql: psql: error: connection to server ..."))
            .exit(1))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "dependencies: could not connect to PostgreSQL at /run/pg (port 5433): "
            "No such file or directory")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_odoo_11_is_said_to_have_no_test_tags(self):
        self._given(outcome_line(dependencies=["base"], odoo_major=11))
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "to install first: 1 modules (base); "
                                            "Odoo 11 has no --test-tags"})
        yield self.run_step()


class DependenciesScriptStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """``copy`` and ``discard``: their summaries read as the plain database steps'."""

    DISCARD = ["python3", "-", "discard", "--testing", DB]

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _given(self, rc: int, stdout: str = "", stderr: str = ""):
        self.setup_step(DependenciesScriptStep(
            SCRIPT, f"dropped {DB}", f"could not drop {DB}", command=self.DISCARD,
            decodeRC={0: SUCCESS, 1: WARNINGS}))
        self.expect_commands(ExpectShell(workdir="wkdir", command=self.DISCARD,
                                         initial_stdin=SCRIPT)
                             .stdout(stdout).stderr(stderr).exit(rc))

    @defer.inlineCallbacks
    def test_done_is_the_summary_on_success(self):
        self._given(0, outcome_line(dropped=[DB]))
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": f"dropped {DB}"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_unreachable_server_is_what_could_not_be_done_and_why(self):
        self._given(1, outcome_line(error="psql: connection failed"), stderr=(
            'psql: error: connection to server on socket "/run/pg/.s.PGSQL.5433" failed: '
            "No such file or directory\n"))
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": (
            f"could not drop {DB}: could not connect to PostgreSQL at /run/pg (port 5433): "
            "No such file or directory")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_script_error_follows_what_could_not_be_done(self):
        self._given(1, outcome_line(error="database is being accessed by other users"))
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": (
            f"could not drop {DB}: database is being accessed by other users")})
        yield self.run_step()


# --- the tests' step: addons Odoo did not install, addons without tests


TEST_COMMAND = ["bin/start_odoo", "-d", DB, "-i", "rr_okk", "--test-enable"]


class AddonsInstalledTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _given(self, log: str, states: str | None, addons: list[str], rc: int = 0,
               command=TEST_COMMAND):
        self.setup_step(OdooTestStep(command=command, addons=addons, states_command=STATES,
                                     warn_untested=True, store_test_results=False))
        self.expect_commands(ExpectShell(workdir="wkdir", command=command)
                             .stdout(log_of(log)).exit(rc))
        if states is not None:
            self.expect_commands(ExpectShell(workdir="wkdir", command=STATES, timeout=120,
                                             log_environ=False)
                                 .behavior(collected_stdout(states)).exit(0))

    @defer.inlineCallbacks
    def test_an_unknown_name_fails_naming_the_addons_path_odoo_searched(self):
        self._given("odoo17_invalid_name.log", "base|installed\nweb|installed\n", ["rr_okk"])
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "rr_okk: no module of that name in the addons path (/tmp/odoo17/odoo/addons, "
            "/root/.local/share/Odoo/addons/17.0, /tmp/odoo17/addons, /tmp/myaddons); "
            "no tests run; 1 warning")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_addon_odoo_passes_over_in_silence_is_not_installable(self):
        self._given("odoo17_not_installable.log", "base|installed\nnot_inst|uninstallable\n",
                  ["not_inst"])
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "not_inst: not installable: its manifest says 'installable': False (or it is "
            "not made for this Odoo version); no tests run")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_unmet_dependency_is_named(self):
        self._given("odoo17_unmet_dependency.log", "base|installed\ndep_on_ni|to install\n",
                  ["dep_on_ni"])
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "dep_on_ni: not installed: dependencies Odoo cannot install: not_inst; "
            "1 error in log: Some modules have inconsistent states, some dependencies may "
            "be missing: ['de...")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_missing_dependency_quotes_odoos_user_error(self):
        self._given("odoo17_missing_dependency.log", "base|installed\nmissing_dep|uninstalled\n",
                  ["missing_dep"], rc=255)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "missing_dep: not installed: You try to install module 'missing_dep' that "
            "depends on module 'nonexistent_mod'. But the latter module is not available "
            "in your system.; 2 errors in log: Failed to load registry; 1 warning")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_without_the_states_the_log_still_tells_an_unknown_name(self):
        self.setup_step(OdooTestStep(command=TEST_COMMAND, addons=["rr_okk"],
                                     states_command=STATES, warn_untested=True))
        self.expect_commands(
            ExpectShell(workdir="wkdir", command=TEST_COMMAND)
            .stdout(log_of("odoo17_invalid_name.log")).exit(0),
            ExpectShell(workdir="wkdir", command=STATES, timeout=120,
                        log_environ=False).exit(2))
        self.expect_outcome(result=FAILURE)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_installed_addons_that_ran_no_test_warn(self):
        self._given("odoo17_not_installable.log", "base|installed\nrr_ok|installed\n"
                  "sale|installed\n", ["rr_ok", "sale"])
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": "no test in rr_ok, sale"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_addon_without_tests_beside_tested_ones_is_named_without_warning(self):
        log = "odoo17_success.log"
        self._given(log, "sale_x|installed\nstock_y|installed\nglue|installed\n",
                  ["sale_x", "stock_y", "glue"], command=["bin/test_odoo"])
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "5 tests, 0 failures, 0 errors; no test in glue"})
        yield self.run_step()


def test_not_installed_ignores_all():
    assert addons_install.not_installed(["all"], {}, OdooLogAnalyzer()) == []
