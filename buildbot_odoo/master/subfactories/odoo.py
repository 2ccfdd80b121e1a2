"""Post-buildout subfactories that run Odoo itself (SPEC 5 ``post-buildout-steps``, SPEC 6.7).

``install-modules-test`` (the default) installs the build's addons in the
testing database with Odoo's tests enabled, through the buildout's
``bin/test_<part>``, and judges the result from the Odoo log as it streams
(:class:`~buildbot_odoo.master.steps.odoo_tests.OdooTestStep`).

Odoo wants an absolute ``--logfile``; the build directory's absolute path is
only known on the worker, so the path is rendered from the ``builddir``
property.  The log of a previous build is removed first, so the step can read
the file whole (``follow_logfile=False``) without seeing old records.
"""

from __future__ import annotations

import posixpath

from buildbot.plugins import steps, util

from ..steps.odoo_tests import OdooTestStep
from .base import BuildOptions
from .database import testing_db
from .retrieval import BUILD_DIR

ODOO_TEST_LOG = "odoo-tests.log"


def odoo_logfile(name: str = ODOO_TEST_LOG) -> util.Interpolate:
    """Absolute path of ``name`` in the build directory, rendered on the worker's side."""
    return util.Interpolate(posixpath.join("%(prop:builddir)s", BUILD_DIR, name))


def addons_argument(options: BuildOptions) -> str:
    """The ``-i``/``-u`` value: the manifest's comma list, ``all`` included as written."""
    return ",".join(options.build.odoo_addons)


def install_modules_test(configurator, options: BuildOptions, buildout_path: str,
                         environ) -> list:
    """``bin/test_<part> -d DB -i ADDONS --logfile=ABS`` judged from the Odoo log."""
    logfile = odoo_logfile()
    command = [options.build.test_command, "-d", testing_db(),
               "-i", addons_argument(options),
               util.Interpolate("--logfile=%(kw:log)s", log=logfile)]
    return [
        steps.ShellCommand(command=["rm", "-f", ODOO_TEST_LOG], name="remove-old-odoo-log",
                           descriptionDone="old Odoo log removed", env=environ,
                           haltOnFailure=True),
        OdooTestStep(command=command, odoo_logfile=logfile, follow_logfile=False,
                     env=environ, name="odoo-tests"),
    ]


#: The built-in post-buildout subfactories, by manifest name.
ODOO_SUBFACTORIES = {
    "install-modules-test": install_modules_test,
}
