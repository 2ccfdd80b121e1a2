"""install-modules-test, install-modules, update-modules: commands and verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.steps.odoo_tests import OdooTestStep
from buildbot_odoo.master.subfactories.odoo import (
    install_modules,
    install_modules_test,
    update_modules,
)

from .subfactory_support import BUILDDIR, DB, ENV, configurator, render
from .test_retrieval import options_for

LOGS = Path(__file__).parent / "data" / "odoo_logs"
ADDONS = ["sale_x", "stock_y"]


def commands(subfactory, **fields) -> tuple[list, list, OdooTestStep]:
    options = options_for(odoo_addons=ADDONS, start_command="bin/start_odoo",
                          test_command="bin/test_odoo", **fields)
    remove, run = subfactory(configurator(), options, "odoo.cfg", ENV)
    return render(remove.command), render(run.command, odoo_http_port=9010), run


def test_install_modules_test_runs_the_test_script_without_http():
    remove, command, step = commands(install_modules_test)
    assert remove == ["rm", "-f", "odoo-tests.log"]
    assert command == ["bin/test_odoo", "-d", DB, "-i", "sale_x,stock_y", "--no-http",
                       f"--logfile={BUILDDIR}/build/odoo-tests.log"]
    assert isinstance(step, OdooTestStep) and step.name == "odoo-tests"
    assert render(step.logfiles) == {
        "odoo.log": {"filename": f"{BUILDDIR}/build/odoo-tests.log", "follow": False}}


def test_install_modules_runs_the_start_script_and_stops():
    remove, command, step = commands(install_modules)
    assert remove == ["rm", "-f", "odoo-install.log"]
    assert command == ["bin/start_odoo", "-d", DB, "-i", "sale_x,stock_y", "--stop-after-init",
                       "--no-http", f"--logfile={BUILDDIR}/build/odoo-install.log"]
    assert step.name == "install-modules" and step.empty_summary == "no error in the Odoo log"


def test_update_modules_updates():
    remove, command, step = commands(update_modules)
    assert remove == ["rm", "-f", "odoo-update.log"]
    assert command == ["bin/start_odoo", "-d", DB, "-u", "sale_x,stock_y", "--stop-after-init",
                       "--no-http", f"--logfile={BUILDDIR}/build/odoo-update.log"]
    assert step.name == "update-modules"


@pytest.mark.parametrize("subfactory", [install_modules_test, install_modules, update_modules])
def test_without_demo_data_and_with_a_reserved_port(subfactory):
    _, command, _ = commands(subfactory, demo_data=False, use_port=True)
    assert command[-3:] == ["--without-demo=all", "--http-port=9010",
                            f"--logfile={BUILDDIR}/build/{command[-1].rsplit('/', 1)[1]}"]
    assert "--no-http" not in command


def test_a_port_reserved_for_another_subfactory_is_used_too():
    options = options_for(post_buildout_steps=["install-modules-test", "functional"])
    _, run = install_modules_test(configurator(), options, "odoo.cfg", ENV)
    assert "--http-port=9010" in render(run.command, odoo_http_port=9010)


def test_timeouts_default_to_an_hour_and_are_options():
    assert commands(install_modules)[2].timeout == 3600
    _, _, step = commands(update_modules, raw={"update-modules.timeout": "14400"})
    assert step.timeout == 14400


def test_bad_timeout_is_a_located_config_error():
    with pytest.raises(ConfigError) as caught:
        commands(install_modules_test, raw={"install-modules-test.timeout": "soon"})
    assert str(caught.value) == ("buildouts/MANIFEST.cfg:7: sale: install-modules-test.timeout:"
                                 " 'soon' is not a whole number")


def test_each_declares_its_options():
    for subfactory in (install_modules_test, install_modules, update_modules):
        assert subfactory.options == ("timeout",)


CLEAN_INSTALL = """\
2024-05-02 11:00:00,100 777 INFO ? odoo: Odoo version 17.0
2024-05-02 11:00:01,000 777 INFO ci-sale odoo.modules.loading: loading 42 modules...
2024-05-02 11:00:02,000 777 INFO ci-sale odoo.modules.loading: 42 modules loaded in 1.00s
2024-05-02 11:00:03,000 777 INFO ci-sale odoo.service.server: Initiating shutdown
"""


class InstallStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    LOG = f"{BUILDDIR}/build/odoo-install.log"

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _install(self, log_text: str, rc: int = 0):
        options = options_for(odoo_addons=["sale_x"], start_command="bin/start_odoo")
        _, step = install_modules(configurator(), options, "odoo.cfg", ENV)
        self.setup_step(step)
        self.build.setProperty("builddir", BUILDDIR, "test")
        self.build.setProperty("testing_db", DB, "test")
        self.expect_commands(ExpectShell(
            workdir="wkdir", env=ENV, timeout=3600,
            logfiles={"odoo.log": {"filename": self.LOG, "follow": False}},
            command=["bin/start_odoo", "-d", DB, "-i", "sale_x", "--stop-after-init",
                     "--no-http", f"--logfile={self.LOG}"]).log("odoo.log", stdout=log_text)
            .exit(rc))

    @defer.inlineCallbacks
    def test_a_clean_install_says_so(self):
        self._install(CLEAN_INSTALL)
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "no error in the Odoo log"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_install_error_fails_and_is_quoted(self):
        self._install((LOGS / "odoo16_install_error.log").read_text(), rc=255)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary(
            {"step": "2 errors in log: Failed to load registry; 1 warning"})
        yield self.run_step()
