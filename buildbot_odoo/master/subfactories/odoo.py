"""Post-buildout subfactories running Odoo itself: install, update, install and test.

* ``install-modules-test`` (the default): ``bin/start_<part> -d DB -i ADDONS
  --test-enable --stop-after-init --log-level=test --logfile=ABS``: Odoo's own
  test flags, those oca.recipe.odoo's test script adds (``runtime/start_odoo.py``).
  That script is only written with ``with_devtools = true`` and dies on Python 3
  (it imports ``anybox.testing.datetime``, Python 2 code), so it runs only when
  the manifest names it: ``test-command = bin/test_<part>`` gives
  ``bin/test_<part> -d DB -i ADDONS --logfile=ABS``, and the buildout step then
  asks the recipe for it (``<part>:with_devtools=true``);
* ``install-modules``: ``bin/start_<part> -d DB -i ADDONS --stop-after-init
  --logfile=ABS``, no tests;
* ``update-modules``: the same with ``-u ADDONS``; with
  ``update-modules.upgrade-script = true``, the buildout's upgrade script
  instead: ``bin/upgrade_<part> -d DB --log-file=ABS [--init-load-demo-data]``
  (``upgrade-command``; oca.recipe.odoo's ``runtime/upgrade.py`` runs the
  ``run`` of the buildout's ``upgrade.py``, which decides what to update, and
  writes Odoo's log to that file).

Each is judged from the Odoo log as it streams
(:class:`~buildbot_odoo.master.steps.odoo_tests.OdooTestStep`): an ERROR or
CRITICAL record, a failed test or a failing exit code fails the step.

Odoo wants an absolute ``--logfile``; the build directory's absolute path is
only known on the worker, so the path is rendered from the ``builddir``
property.  The log of a previous build is removed first, so the step can
read the file whole (``follow_logfile=False``) without seeing old records.

They all need the testing database (``-d``): a build saying ``postgresql
not-used`` makes none, and Odoo without ``-d`` would install and test
nothing and still exit 0 (or use whatever database the buildout's own
configuration names, on a server the build said it does not use), so such a
build listing them is refused when the master loads its configuration.

Common arguments of ``odoo-bin`` (not of the upgrade script, which has its
own command line): ``--without-demo=all`` when ``install.demo-data = false``;
``--http-port=<reserved port>`` when the build reserves one (``odoo.use-port``),
``--no-http`` otherwise so that these Odoo processes do not take the
configured port (8069) of a worker shared by several builds.  Odoo's test
mode starts its HTTP server whatever ``--no-http`` says (``HttpCase`` needs
it): builds running tests concurrently on one worker need ``odoo.use-port``.
"""

from __future__ import annotations

import functools

from buildbot.plugins import steps, util

from ..steps.odoo_tests import OdooTestStep
from .base import BuildOptions
from .database import testing_db
from .dependencies import (
    SCOPE_OPTION,
    SUBFACTORY,
    TEMPLATE_OPTION,
    addons_only,
    dependencies_first_steps,
    states_command,
    test_tags,
    uses_template,
)
from .manifest_values import accepts, boolean, needs_database, seconds_option
from .odoo_scripts import missing_hint
from .ports import http_port_argument, reserves_port
from .worker_side import in_build_dir

ODOO_TEST_LOG = "odoo-tests.log"
ODOO_INSTALL_LOG = "odoo-install.log"
ODOO_UPDATE_LOG = "odoo-update.log"
TIMEOUT_OPTION = "timeout"
UPGRADE_SCRIPT_OPTION = "upgrade-script"
DEFAULT_ODOO_TIMEOUT = 3600
#: what oca.recipe.odoo's test script adds to odoo-bin's command line (runtime/start_odoo.py)
ODOO_TEST_FLAGS = ("--test-enable", "--stop-after-init", "--log-level=test")


def odoo_logfile(name: str = ODOO_TEST_LOG) -> util.Interpolate:
    """Absolute path of ``name`` in the build directory, rendered on the worker's side."""
    return in_build_dir(name)


def addons_argument(options: BuildOptions) -> str:
    """The ``-i``/``-u`` value: the manifest's comma list, ``all`` included as written."""
    return ",".join(options.build.odoo_addons)


def demo_arguments(options: BuildOptions) -> list[str]:
    """``--without-demo=all`` when ``install.demo-data = false``."""
    return [] if options.build.demo_data else ["--without-demo=all"]


def http_arguments(configurator, options: BuildOptions) -> list:
    """The reserved port, or no HTTP service at all."""
    return [http_port_argument()] if reserves_port(configurator, options) else ["--no-http"]


def odoo_timeout(options: BuildOptions, subfactory: str) -> int:
    """``<subfactory>.timeout``: seconds of silence (stdio and Odoo log) before Buildbot stops."""
    timeout = seconds_option(options, f"{subfactory}.{TIMEOUT_OPTION}", DEFAULT_ODOO_TIMEOUT)
    return timeout or DEFAULT_ODOO_TIMEOUT


def _odoo_steps(options: BuildOptions, environ, *, command: list, log_name: str,
                subfactory: str, step_name: str, log_option: str = "--logfile",
                **step_kwargs) -> list:
    """Remove the previous log, then run ``command`` with ``--logfile`` and judge the log.

    The removal step is ``remove-old-<step_name>-log``, except for the tests'
    ``remove-old-odoo-log``, the name the pipeline always had.
    """
    logfile = odoo_logfile(log_name)
    step_kwargs.setdefault("missing_hint", missing_hint(options, command[0]))
    command = [*command, _logfile_argument(log_option, log_name)]
    return [
        steps.ShellCommand(command=["rm", "-f", log_name],
                           name=("remove-old-odoo-log" if step_name == "odoo-tests"
                                 else f"remove-old-{step_name}-log"),
                           descriptionDone="old Odoo log removed", env=environ,
                           haltOnFailure=True),
        OdooTestStep(command=command, odoo_logfile=logfile, follow_logfile=False, env=environ,
                     name=step_name, timeout=odoo_timeout(options, subfactory),
                     **step_kwargs),
    ]


@functools.lru_cache(maxsize=64)
def _logfile_argument(log_option: str, log_name: str) -> util.Interpolate:
    """``--logfile=<absolute path>``, one renderable shared by every build's steps."""
    return util.Interpolate(f"{log_option}=%(kw:log)s", log=odoo_logfile(log_name))


def test_command(options: BuildOptions) -> list:
    """The manifest's test script, or the start script with Odoo's test flags."""
    build = options.build
    if build.test_command:
        return [build.test_command]
    return [build.start_command]


@needs_database
@accepts(TIMEOUT_OPTION, SCOPE_OPTION, TEMPLATE_OPTION)
def install_modules_test(configurator, options: BuildOptions, buildout_path: str,
                         environ) -> list:
    """Install ADDONS with their tests, judged from the Odoo log and their states.

    ``bin/start_<part> -d DB -i ADDONS --test-enable --stop-after-init
    --log-level=test [--test-tags=/a,/b] --logfile=ABS``, or ``test-command``
    (which adds the flags itself) in place of the start script and the flags.
    With ``scope = addons`` (the default) the dependencies are installed
    first, without tests: in the template the testing database is copied
    from, or just before (:mod:`.dependencies`).  An addon Odoo did not
    install fails the step; addons that ran no test are named.
    """
    build = options.build
    made = []
    timeout = odoo_timeout(options, SUBFACTORY)
    if addons_only(options) and not uses_template(options):
        made += dependencies_first_steps(options, environ, timeout=timeout,
                                         http=http_arguments(configurator, options))
    flags = [] if build.test_command else list(ODOO_TEST_FLAGS)
    command = [*test_command(options), "-d", testing_db(), "-i", addons_argument(options),
               *flags, *test_tags(options), *demo_arguments(options),
               *http_arguments(configurator, options)]
    return made + _odoo_steps(options, environ, command=command, log_name=ODOO_TEST_LOG,
                              subfactory=SUBFACTORY, step_name="odoo-tests",
                              addons=build.odoo_addons, states_command=states_command(),
                              # a test step ending WARNINGS (no test at all, warnings in
                              # Odoo's log) makes the build WARNINGS, as Odoo's runbot
                              # shows it: Buildbot's default would keep the build green
                              warn_untested=True, warnOnWarnings=True)


def _start_script_steps(configurator, options: BuildOptions, environ, *, flag: str,
                        subfactory: str, log_name: str, description: str,
                        description_done: str) -> list:
    """``bin/start_<part> -d DB FLAG ADDONS --stop-after-init``, judged from the Odoo log."""
    command = [options.build.start_command, "-d", testing_db(), flag, addons_argument(options),
               "--stop-after-init", *demo_arguments(options),
               *http_arguments(configurator, options)]
    checks = ({"addons": options.build.odoo_addons, "states_command": states_command()}
              if flag == "-i" else {})
    return _odoo_steps(options, environ, command=command, log_name=log_name,
                       subfactory=subfactory, step_name=subfactory,
                       description=description, descriptionDone=description_done,
                       empty_summary="no error in the Odoo log", **checks)


@needs_database
@accepts(TIMEOUT_OPTION)
def install_modules(configurator, options: BuildOptions, buildout_path: str,
                    environ) -> list:
    """``bin/start_<part> -d DB -i ADDONS --stop-after-init``: installation without tests."""
    return _start_script_steps(configurator, options, environ, flag="-i",
                               subfactory="install-modules", log_name=ODOO_INSTALL_LOG,
                               description="installing", description_done="installed")


@needs_database
@accepts(TIMEOUT_OPTION, UPGRADE_SCRIPT_OPTION)
def update_modules(configurator, options: BuildOptions, buildout_path: str,
                   environ) -> list:
    """``bin/start_<part> -d DB -u ADDONS --stop-after-init``: an upgrade, no tests.

    Typically after ``db-steps = pg_remote_copy`` (a copy of production) to
    prove that the upgrade of the new code goes through.  With
    ``update-modules.upgrade-script = true``, the buildout's own upgrade
    script does the upgrade (:func:`upgrade_script_steps`).
    """
    if boolean(options, f"update-modules.{UPGRADE_SCRIPT_OPTION}", False):
        return upgrade_script_steps(options, environ)
    return _start_script_steps(configurator, options, environ, flag="-u",
                               subfactory="update-modules", log_name=ODOO_UPDATE_LOG,
                               description="updating", description_done="updated")


def upgrade_script_steps(options: BuildOptions, environ) -> list:
    """``bin/upgrade_<part> -d DB --log-file=ABS [--init-load-demo-data]``.

    oca.recipe.odoo's upgrade script (``runtime/upgrade.py``) opens the
    database, runs ``run(session, logger)`` of the buildout's ``upgrade.py``
    and exits with its status.  Its ``--log-file`` receives Odoo's log and the
    script's messages (each also echoed in the script's own format, which the
    analysis skips), read like a test log: a WARNING (no ``VERSION.txt``, a
    database never upgraded) makes the step WARNINGS, an ERROR fails it.
    ``--init-load-demo-data`` unless ``install.demo-data = false``: demo data
    for the modules the script installs.  The database must already be an
    Odoo one: the script does not initialise an empty one.
    """
    demo = ["--init-load-demo-data"] if options.build.demo_data else []
    command = [options.build.upgrade_command, "-d", testing_db(), *demo]
    return _odoo_steps(options, environ, command=command, log_name=ODOO_UPDATE_LOG,
                       subfactory="update-modules", step_name="update-modules",
                       log_option="--log-file", description="upgrading",
                       descriptionDone="upgraded", empty_summary="no error in the upgrade log")


#: The built-in subfactories running Odoo, by manifest name.
ODOO_SUBFACTORIES = {
    "install-modules-test": install_modules_test,
    "install-modules": install_modules,
    "update-modules": update_modules,
}
