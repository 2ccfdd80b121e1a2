"""Which tests a build runs, and the database of its addons' dependencies (SPEC 6, item 7).

By default (``install-modules-test.scope = addons``) a build tests the addons
it names in ``odoo-addons`` and nothing else, as OCA's CI does: their
dependencies are installed first, without tests, and the addons are then
installed with Odoo's test flags and, from Odoo 12, ``--test-tags /a,/b``
(the worker tells the Odoo series; older ones get dependencies-first only).
``scope = all`` keeps the old meaning: the addons and every module installed
with them are tested; so does ``odoo-addons = all``.

Dependencies are installed once per builder, as Odoo's runbot keeps prepared
databases: with ``db-steps = simple_create`` (the default) the first build
installs them into a *template* database of the builder's, later builds copy
it (``CREATE DATABASE ... TEMPLATE``), until something that decides its
content changes (the worker script :mod:`~buildbot_odoo.worker_scripts.odoo_dependencies`
says what, and how it tells).  ``install-modules-test.dependencies-template =
false`` turns that off: the dependencies are then installed into each build's
testing database (and a template left by earlier builds is dropped).  With
``db-steps = pg_remote_copy`` the copied database is the one tested: the
dependencies it lacks are installed into it first.

Names: the template is ``builder_db_name(prefix, builder, "deps")``, the
database it is made in ``... "deps-new"`` (:mod:`buildbot_odoo.dbname`),
rendered at build time from the worker's ``db_prefix`` and the builder.
"""

from __future__ import annotations

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process.results import SUCCESS, WARNINGS
from zope.interface import implementer

from ...dbname import BUILDING, DEFAULT_DB_PREFIX, DEPENDENCIES, builder_db_name
from ..steps.odoo_dependencies import (
    DependenciesInstallStep,
    DependenciesScriptStep,
    OdooDependenciesStep,
)
from ..steps.running_builder import BuilderName
from .base import BuildOptions
from .bootstrap import uses_postgresql, venv_path
from .database import testing_db
from .manifest_values import boolean, config_error, seconds_option, text
from .odoo_scripts import missing_hint
from .retrieval import worker_script
from .worker_side import in_build_dir, in_builder_dir, odoo_config_file, worker_python

SUBFACTORY = "install-modules-test"
SCOPE_OPTION = "scope"
TEMPLATE_OPTION = "dependencies-template"
SCOPES = ("addons", "all")
SCRIPT = "odoo_dependencies.py"
DEPENDENCIES_LOG = "odoo-dependencies.log"
INSTALL_LOG = "odoo-install-dependencies.log"
#: digests of the files the key is made of, kept per builder (beside ``build``)
DIGEST_CACHE = "odoo-dependencies-digests.json"
#: the first Odoo series whose command line has ``--test-tags``
TEST_TAGS_SINCE = 12
STATES_SQL = "SELECT name, state FROM ir_module_module"
#: seconds of silence before Buildbot stops an Odoo run (``install-modules-test.timeout``)
DEFAULT_TIMEOUT = 3600


def scope(options: BuildOptions) -> str:
    """``install-modules-test.scope``: ``addons`` (default) or ``all``."""
    value = text(options, f"{SUBFACTORY}.{SCOPE_OPTION}", SCOPES[0])
    if value not in SCOPES:
        config_error(options, f"{SUBFACTORY}.{SCOPE_OPTION}",
                     f"{value!r} is not a test scope: write addons (only the tests of "
                     "odoo-addons) or all (every module the build installs)")
    return value


def addons_only(options: BuildOptions) -> bool:
    """Whether only the build's addons are tested (dependencies installed first)."""
    return scope(options) == "addons" and list(options.build.odoo_addons) != ["all"]


def uses_template(options: BuildOptions) -> bool:
    """Whether the testing database is a copy of the builder's dependencies template."""
    build = options.build
    return (addons_only(options) and SUBFACTORY in build.post_buildout_steps
            and build.db_steps == "simple_create" and uses_postgresql(options)
            and boolean(options, f"{SUBFACTORY}.{TEMPLATE_OPTION}", True))


@implementer(IRenderable)
class BuilderDb:
    """One of the builder's own databases (``kind``), on the worker running the build;
    the builder's name read from the builder itself, as for the testing database (a
    worker property ``buildername`` must not choose which template a build drops)."""

    def __init__(self, kind: str):
        self.kind = kind

    def getRenderingFor(self, props):
        prefix = props.getProperty("db_prefix", DEFAULT_DB_PREFIX)
        return builder_db_name(str(prefix) if prefix is not None else None,
                               BuilderName().getRenderingFor(props), self.kind)


#: what the dependencies step says of a template it left current (its key is the build's)
CURRENT_TEMPLATE = ("reused", "made", "made again")


@implementer(IRenderable)
class KeyToCheck:
    """``--key=KEY`` for the final clean-up, which drops the template when its key is
    not the build's (the new one could not be made).  Empty when the dependencies step
    reused or made the template: its key is the build's, and PostgreSQL need not be
    asked (one psql less in every build)."""

    def getRenderingFor(self, props):
        if props.getProperty("odoo_dependencies_template") in CURRENT_TEMPLATE:
            return "--key="
        return f"--key={props.getProperty('odoo_dependencies_key') or ''}"


@implementer(IRenderable)
class TestTags:
    """``--test-tags=/a,/b`` when the worker's Odoo has the option (12 and later)."""

    def __init__(self, addons: list[str]):
        self.addons = list(addons)

    def getRenderingFor(self, props):
        major = props.getProperty("odoo_major")
        if not isinstance(major, int) or major < TEST_TAGS_SINCE:
            return []
        return ["--test-tags=" + ",".join(f"/{addon}" for addon in self.addons)]


def test_tags(options: BuildOptions) -> list:
    """What the tests' command adds to select the addons' tests (nothing for ``all``)."""
    return [TestTags(options.build.odoo_addons)] if addons_only(options) else []


def states_command() -> list:
    """psql printing ``name|state`` of every module of the testing database."""
    return ["psql", "-X", "-A", "-t", "-F", "|", "-d", testing_db(), "-c", STATES_SQL]


def script_python(options: BuildOptions):
    """The interpreter of the dependencies script once the buildout is done: the build
    virtualenv's, which starts at once, where ``python3`` may be a wrapper (pyenv's shim
    costs 0.06 s a run) or load a site of many packages; the script needs only the
    standard library.  The final clean-up uses it when the script ran before
    (:class:`CleanUpPython`)."""
    return venv_path("bin", "python") if options.build.virtualenv else worker_python(options)


@implementer(IRenderable)
class CleanUpPython:
    """The final clean-up's interpreter: :func:`script_python` when the dependencies
    script ran in this build (``odoo_data_dir`` is its outcome: the virtualenv was
    there), else ``fallback`` -- the clean-up runs also when the bootstrap failed and
    no virtualenv was ever made."""

    def __init__(self, script: object, fallback: str):
        self.script = script
        self.fallback = fallback

    def getRenderingFor(self, props):
        if props.getProperty("odoo_data_dir") is not None:
            return props.render(self.script)
        return self.fallback


def _script() -> str:
    with open(worker_script(SCRIPT)) as stream:
        return stream.read()


def _plan_arguments(options: BuildOptions) -> list:
    build = options.build
    arguments = ["--config", odoo_config_file(options), "--addons", ",".join(build.odoo_addons),
                 "--script", build.start_command, "--db-template", build.db_template]
    if not build.demo_data:
        arguments.append("--without-demo")
    return arguments


def template_steps(options: BuildOptions, environ, timeout: int) -> list:
    """The testing database from the dependencies template (``simple_create``'s steps
    when :func:`uses_template`): the template made or reused, then copied."""
    build = options.build
    script = _script()
    prepare = [script_python(options), "-", "prepare", *_plan_arguments(options),
               "--template", BuilderDb(DEPENDENCIES), "--building", BuilderDb(BUILDING),
               "--cache", in_builder_dir(DIGEST_CACHE),
               "--logfile", in_build_dir(DEPENDENCIES_LOG), "--", build.start_command]
    copy = [script_python(options), "-", "copy", "--testing", testing_db(),
            "--template", BuilderDb(DEPENDENCIES),
            util.Interpolate("--data-dir=%(prop:odoo_data_dir)s")]
    return [
        OdooDependenciesStep(script, command=prepare, env=environ, haltOnFailure=True,
                             timeout=timeout, program=build.start_command,
                             missing_hint=missing_hint(options, build.start_command)),
        DependenciesScriptStep(
            script, util.Interpolate("created %(prop:testing_db)s from the dependencies "
                                     "template"),
            util.Interpolate("could not create %(prop:testing_db)s from the dependencies "
                             "template"),
            command=copy, env=environ, name="createdb", haltOnFailure=True),
    ]


def dependencies_first_steps(options: BuildOptions, environ, *, http: list,
                             timeout: int) -> list:
    """Without a template: the dependencies installed into the testing database itself,
    without tests, before the addons' tests (a template left by earlier builds of a
    ``simple_create`` build is dropped: turning reuse off means it is not trusted).

    ``http`` are the HTTP arguments of Odoo's command lines, ``timeout`` the
    subfactory's.
    """
    build = options.build
    script = _script()
    plan = [script_python(options), "-", "plan", *_plan_arguments(options)]
    if build.db_steps == "simple_create":
        plan += ["--drop-template", BuilderDb(DEPENDENCIES)]
    logfile = in_build_dir(INSTALL_LOG)
    install = [build.start_command, "-d", testing_db(), "-i",
               util.Transform(",".join, util.Property("odoo_dependencies")),
               "--stop-after-init", *([] if build.demo_data else ["--without-demo=all"]),
               *http, util.Interpolate("--logfile=%(kw:log)s", log=logfile)]
    return [
        OdooDependenciesStep(script, command=plan, env=environ, haltOnFailure=True),
        steps.ShellCommand(command=["rm", "-f", INSTALL_LOG], name="remove-old-install-log",
                           descriptionDone="old install log removed", env=environ,
                           haltOnFailure=True, doStepIf=_has_dependencies, hideStepIf=True),
        DependenciesInstallStep(command=install, odoo_logfile=logfile, env=environ,
                                states_command=states_command(), follow_logfile=False,
                                haltOnFailure=True, timeout=timeout,
                                doStepIf=_has_dependencies),
    ]


def _has_dependencies(step) -> bool:
    return bool(step.getProperty("odoo_dependencies"))


def discard_steps(options: BuildOptions, environ) -> list:
    """Final clean-up with a template: the testing and building databases and their
    filestores dropped; the template too when this build's key is not the template's
    (its dependencies changed and the new one could not be made)."""
    command = [CleanUpPython(script_python(options), worker_python(options)), "-", "discard",
               "--testing", testing_db(),
               "--building", BuilderDb(BUILDING), "--template", BuilderDb(DEPENDENCIES),
               KeyToCheck(),
               util.Interpolate("--data-dir=%(prop:odoo_data_dir:-)s")]
    return [DependenciesScriptStep(
        _script(), util.Interpolate("dropped %(prop:testing_db)s"),
        util.Interpolate("could not drop %(prop:testing_db)s"), command=command,
        env=environ, name="drop-testing-database", alwaysRun=True, haltOnFailure=False,
        decodeRC={0: SUCCESS, 1: WARNINGS}, flunkOnFailure=False, warnOnFailure=True,
        warnOnWarnings=True,
        doStepIf=lambda step: bool(step.getProperty("testing_db")))]


def template_create(configurator, options: BuildOptions, buildout_path: str,
                    environ) -> list:
    """``db-steps = simple_create`` when the build tests its addons on a copy of its
    dependencies template (:func:`uses_template`)."""
    timeout = seconds_option(options, f"{SUBFACTORY}.timeout", None) or DEFAULT_TIMEOUT
    return template_steps(options, environ, timeout)


template_create.final_cleanup_steps = (  # type: ignore[attr-defined]
    lambda configurator, options, environ: discard_steps(options, environ))
