"""``pytest``: tests run by pytest from the buildout, results from its JUnit report.

::

    bin/pytest --junitxml=pytest-junit.xml [--odoo-database=DB --odoo-config=CFG] ARGS...

in the buildout directory, with ``ODOO_RC`` and ``OPENERP_SERVER`` set to the
part's Odoo configuration file (``etc/<part>.cfg``, which holds the testing
database the buildout step set): Odoo reads ``ODOO_RC`` when it is given no
``-c``, pytest-odoo reads ``OPENERP_SERVER``.  ``pytest.odoo-plugin = true``
also passes pytest-odoo's own options explicitly (they are unknown to pytest
without the plugin, hence not the default).

pytest writes a JUnit report, the robust source of what ran (console output
changes with verbosity, plugins and xdist); it is parsed on the master
(:class:`~buildbot_odoo.master.steps.junit.JUnitStep`) into Buildbot's test
results, and the summary names the failing tests.  Exit code 5 (no test
collected) makes the step WARNINGS.
"""

from __future__ import annotations

from buildbot.plugins import steps, util

from ..steps.junit import JUnitStep
from .base import BuildOptions
from .bootstrap import uses_postgresql
from .database import testing_db
from .manifest_values import accepts, arguments, boolean, executable, seconds_option
from .worker_side import extend_environ, odoo_config_file

JUNIT_REPORT = "pytest-junit.xml"
DEFAULT_EXECUTABLE = "bin/pytest"
NO_TESTS_COLLECTED = 5


def pytest_command(options: BuildOptions) -> list:
    command: list = [executable(options, "pytest.executable", DEFAULT_EXECUTABLE),
                     f"--junitxml={JUNIT_REPORT}"]
    if boolean(options, "pytest.odoo-plugin", False):
        if uses_postgresql(options):
            command.append(util.Interpolate("--odoo-database=%(kw:db)s", db=testing_db()))
        command.append(util.Interpolate("--odoo-config=%(kw:cfg)s",
                                        cfg=odoo_config_file(options)))
    return [*command, *arguments(options, "pytest.arguments")]


@accepts("executable", "arguments", "odoo-plugin", "timeout")
def pytest_subfactory(configurator, options: BuildOptions, buildout_path: str,
                      environ) -> list:
    """Remove the previous report, run pytest, judge it from its JUnit report."""
    config = odoo_config_file(options)
    env = extend_environ(environ, ODOO_RC=config, OPENERP_SERVER=config)
    timeout = seconds_option(options, "pytest.timeout", None)
    return [
        steps.ShellCommand(command=["rm", "-f", JUNIT_REPORT], name="remove-old-pytest-report",
                           descriptionDone="old pytest report removed", haltOnFailure=True),
        JUnitStep(command=pytest_command(options), junit_xml=JUNIT_REPORT, env=env,
                  results_set="pytest", no_tests_rc=(NO_TESTS_COLLECTED,), name="pytest",
                  description="pytest", descriptionDone="pytest",
                  **({} if timeout is None else {"timeout": timeout})),
    ]
