"""Bootstrap and run the buildout (SPEC 6, steps 3 and 4).

Bootstrap is today's way: a virtualenv with zc.buildout installed by pip --
no ``bootstrap.py``.  It lives in the builder's directory (``venv`` beside
``build``, out of reach of the checkout's clean-ups) and is made by the
``bootstrap`` step (:mod:`..steps.bootstrap`, the worker script
``bootstrap_venv.py``) from the *system* interpreter, then reused by the
builder's next builds while the interpreter and every ``bootstrap-*`` value
that changes what is installed stay the same (``bootstrap-reuse``).  What is
installed by default, and why, is :mod:`buildbot_odoo.config.bootstrap`.

Eggs, buildout downloads and pip's cache are shared by all the builds of a
worker in ``buildout-caches`` beside the builders' directories
(``../buildout-caches`` seen from a builder's directory); since neither pip
nor buildout is safe when two processes fill the same cache, the buildout
step holds the worker-wide exclusive lock ``buildout caches``, and the
bootstrap's pip a file lock on the pip cache.

The buildout step passes the testing database settings the anybox.recipe.odoo
way (``<part>:options.db_name=...``), rendered at build time from the
capability properties, with ``False`` where the worker has no value so that
libpq's defaults (and the capability environment) apply; and what the Odoo
part's recipe (oca.recipe.odoo, anybox.recipe.odoo 1.9) needs from a CI
(:func:`recipe_settings`): VCS options that never let a half-done checkout
stop a build, Odoo archives downloaded once per worker into
``buildout-caches/odoo-downloads``, and ``PIP_EXISTS_ACTION`` so that pip
never prompts.
"""

from __future__ import annotations

import posixpath

from buildbot.interfaces import IRenderable
from buildbot.plugins import util
from zope.interface import implementer

from ...capability.templates import property_name
from ...config.bootstrap import requirements, reuse
from ...dbname import TESTING_DB_PROPERTY
from ..steps.bootstrap import BootstrapStep
from ..steps.buildout import BuildoutStep
from .base import BuildOptions
from .manifest_values import seconds_option
from .retrieval import worker_script

#: the build virtualenv, in the builder's directory (beside ``build``)
VENV_DIR = "venv"
BOOTSTRAP_SCRIPT = "bootstrap_venv.py"
CACHES_DIR = "buildout-caches"
CACHE_KINDS = ("eggs", "downloads", "pip")
#: Odoo archives (``version = url ...``) the part's recipe downloads, kept per worker;
#: the recipes make this directory themselves (its parent is made with the caches)
ODOO_DOWNLOADS = "odoo-downloads"
#: the recipes' names for where they download Odoo archives: oca.recipe.odoo reads the
#: first, anybox.recipe.odoo 1.9 the second; each ignores the other (buildout warns)
ODOO_DOWNLOADS_OPTIONS = ("odoo-downloads-directory", "openerp-downloads-directory")
BUILDOUT_CACHES_LOCK = util.WorkerLock("buildout caches", maxCount=1)
DEFAULT_BUILDOUT_TIMEOUT = 3600
DEFAULT_PYTHON = "python3"
POSTGRESQL = "postgresql"
#: Odoo settings passed to the part, from the postgresql capability options
DB_SETTINGS = ("port", "host", "user")
#: Outgoing mail goes to a closed local port: nothing can leave the worker
MAIL_SETTINGS = (("smtp_server", "127.0.0.1"), ("smtp_port", "1"))


@implementer(IRenderable)
class CacheDir:
    """``<worker basedir>/buildout-caches/<kind>``, from the ``builddir`` property.

    ``builddir`` is the builder's directory on the worker; its parent is the
    worker's base directory, shared by all builders.
    """

    def __init__(self, kind: str):
        self.kind = kind

    def getRenderingFor(self, props):
        builddir = props.getProperty("builddir")
        if not builddir:
            raise ValueError("the 'builddir' property is not set: is the build on a worker?")
        return posixpath.join(posixpath.dirname(str(builddir).rstrip("/")), CACHES_DIR,
                              self.kind)


def _assignment(key: str, value: object) -> util.Transform:
    return util.Transform(lambda rendered: f"{key}={rendered}", value)


def caches_lock() -> list:
    return [BUILDOUT_CACHES_LOCK.access("exclusive")]


def venv_path(*parts: str) -> util.Interpolate:
    """Absolute path in the build virtualenv: right from any working directory, and
    when ``build`` is a link into a checkout (``subdir=``)."""
    return util.Interpolate(posixpath.join("%(prop:builddir)s", VENV_DIR, *parts))


def buildout_executable(options: BuildOptions):
    """The build virtualenv's buildout, or the worker's one with ``virtualenv = false``."""
    if options.build.virtualenv:
        return venv_path("bin", "buildout")
    return "buildout"


def bootstrap_command(options: BuildOptions) -> list:
    """``python3 - ARGS``: the arguments of ``bootstrap_venv.py`` for this build.

    Every value from the manifest is glued to its option (``--index-url=URL``)
    so that none can be taken for an option of its own.
    """
    boot = options.build.bootstrap
    command: list = [boot.get("python", DEFAULT_PYTHON), "-"]
    command += [util.Transform(lambda path: f"--make-dir={path}", CacheDir(kind))
                for kind in CACHE_KINDS]
    if not options.build.virtualenv:
        return [*command, "--no-virtualenv"]
    command += [util.Transform(lambda path: f"--venv={path}", venv_path()),
                f"--python={boot.get('python', DEFAULT_PYTHON)}",
                util.Transform(lambda path: f"--pip-cache={path}", CacheDir("pip"))]
    if boot.get("index"):
        command.append(f"--index-url={boot['index']}")
    command += [f"--find-links={location}" for location in boot.get("find-links", "").split()]
    if not reuse(boot):
        command.append("--no-reuse")
    return [*command, "--", *requirements(boot)]


def bootstrap_steps(configurator, options: BuildOptions, buildout_path: str,
                    environ) -> list:
    """One ``bootstrap`` step: the cache directories, and the virtualenv (``virtualenv``).

    No ``buildout caches`` lock: the script takes the pip cache's own file lock
    around pip, the only part of it that touches a shared cache.
    """
    with open(worker_script(BOOTSTRAP_SCRIPT)) as script:
        text = script.read()
    return [BootstrapStep(text, command=bootstrap_command(options), env=environ,
                          haltOnFailure=True)]


def buildout_command(options: BuildOptions, buildout_path: str) -> list:
    """``bin/buildout -c CONF`` with the caches, the recipe's CI settings and the
    testing database settings."""
    command: list = [
        buildout_executable(options), "-c", buildout_path,
        _assignment("buildout:eggs-directory", CacheDir("eggs")),
        _assignment("buildout:download-cache", CacheDir("downloads")),
    ]
    command += recipe_settings(options)
    if uses_postgresql(options):
        command += database_settings(options.build.buildout_part)
    return command


def with_devtools(options: BuildOptions) -> bool:
    """``<part>:with_devtools=true``: only for a build whose tests run a test script.

    oca.recipe.odoo writes ``bin/test_<part>`` only with it, and then requires
    ``anybox.testing.datetime`` and ``unittest2`` from the index for every
    script; that test script dies on Python 3.  So it is passed when
    ``test-command`` is set (``buildout.with-devtools`` decides otherwise).
    """
    build = options.build
    return bool(build.test_command) if build.with_devtools is None else build.with_devtools


def recipe_settings(options: BuildOptions) -> list:
    """What the Odoo part's recipe needs from a CI, each unless the manifest turns it off.

    ``<part>:vcs-clear-locks``, ``vcs-clear-retry``, ``clean``,
    ``vcs-revert=on-merge``, ``git-depth`` (with ``git-shallow``),
    ``with_devtools`` (:func:`with_devtools`), ``buildout:unzip=true`` and the
    Odoo downloads directory in the worker's caches, under both recipes' names.
    """
    build = options.build
    part = build.buildout_part
    flags = ((build.vcs_clear_locks, "vcs-clear-locks=true"),
             (build.vcs_clear_retry, "vcs-clear-retry=true"),
             (build.vcs_clean, "clean=true"),
             (build.vcs_revert, "vcs-revert=on-merge"),
             (build.git_shallow, f"git-depth={build.git_depth}"),
             (with_devtools(options), "with_devtools=true"))
    settings: list = [f"{part}:{flag}" for enabled, flag in flags if enabled]
    if build.unzip:
        settings.append("buildout:unzip=true")
    if build.odoo_downloads_cache:
        settings += [_assignment(f"buildout:{name}", CacheDir(ODOO_DOWNLOADS))
                     for name in ODOO_DOWNLOADS_OPTIONS]
    return settings


def buildout_environ(options: BuildOptions, environ):
    """The capability environment, plus ``PIP_EXISTS_ACTION`` (``buildout.pip-exists-action``)."""
    action = options.build.pip_exists_action
    if not action:
        return environ
    from .worker_side import extend_environ  # worker_side imports this module

    return extend_environ(environ, PIP_EXISTS_ACTION=action)


def database_settings(part: str) -> list:
    """The part's ``options.db_*`` (and mail) settings, rendered at build time."""
    settings: list = [util.Interpolate(f"{part}:options.db_name=%(prop:{TESTING_DB_PROPERTY})s")]
    for name in DB_SETTINGS:
        prop = property_name(POSTGRESQL, name)
        settings.append(util.Interpolate(f"{part}:options.db_{name}=%(prop:{prop}:~False)s"))
    settings += [f"{part}:options.{key}={value}" for key, value in MAIL_SETTINGS]
    return settings


def uses_postgresql(options: BuildOptions) -> bool:
    """False for builders whose build-for says ``postgresql not-used``: no database at all."""
    return POSTGRESQL not in options.plan.not_used


def buildout_steps(configurator, options: BuildOptions, buildout_path: str,
                   environ) -> list:
    """The buildout run, under the caches lock, with a long timeout; a failure says why
    (:class:`~..steps.buildout.BuildoutStep`).

    ``buildout.timeout`` (seconds, default one hour) bounds silence in the
    output, which a first build fetching every egg can make long.
    """
    timeout = seconds_option(options, "buildout.timeout", DEFAULT_BUILDOUT_TIMEOUT)
    return [BuildoutStep(
        command=buildout_command(options, buildout_path), name="buildout",
        env=buildout_environ(options, environ), locks=caches_lock(), timeout=timeout,
        haltOnFailure=True)]
