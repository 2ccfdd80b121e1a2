"""The testing database: its name, its creation (``db-steps``), its removal (SPEC 6).

The name is ``<db_prefix>-<builder name>`` made safe by
:func:`buildbot_odoo.dbname.testing_db_name`; the prefix is a worker property,
so the name is rendered at build time and kept as the build property
``testing_db`` for every later step (buildout settings, tests, clean-up).

Both ``db-steps`` subfactories leave outgoing mail disabled in the database
they made: a template or a remote copy may well be a copy of a production
database, with its real mail servers; they are deactivated before any Odoo
process opens the database.  (An empty database has none; the buildout
settings also point Odoo's own SMTP fallback to a closed local port.)

PostgreSQL's command-line tools come from the capability environment (``bin``
option first on PATH, ``PGHOST``/``PGPORT``/``PGUSER``, ``PGPASSFILE`` for a password);
every command is an argument list.
"""

from __future__ import annotations

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process.results import SKIPPED, SUCCESS, WARNINGS
from zope.interface import implementer

from ...capability.versions import InvalidVersion, Version
from ...dbname import DEFAULT_DB_PREFIX, TESTING_DB_PROPERTY, testing_db_name
from ..steps.pg_commands import PgCommand
from .base import BuildOptions
from .manifest_values import arguments, config_error, executable, seconds_option

#: the worker's postgresql version, set by the capabilities step
PG_VERSION_PROPERTY = "pg_version"
#: the first major version whose ``dropdb`` has ``--force`` (``DROP DATABASE ... WITH (FORCE)``)
FORCE_SINCE_MAJOR = 13
DEFAULT_COPY_EXECUTABLE = "pg_remote_copy"
#: anybox.buildbot.odoo's option name, so existing copy scripts keep working
DEFAULT_COPY_DB_OPTION = "--copied_db_name"
DISABLE_MAIL_SQL = """\
DO $$
BEGIN
  IF to_regclass('ir_mail_server') IS NOT NULL THEN
    UPDATE ir_mail_server SET active = false;
  END IF;
  IF to_regclass('fetchmail_server') IS NOT NULL THEN
    UPDATE fetchmail_server SET active = false;
  END IF;
END
$$;
"""


@implementer(IRenderable)
class BuilderTestingDb:
    """The testing database of ``builder`` on the worker running the build."""

    def __init__(self, builder: str):
        self.builder = builder

    def getRenderingFor(self, props):
        prefix = props.getProperty("db_prefix", DEFAULT_DB_PREFIX)
        return testing_db_name(str(prefix) if prefix is not None else None, self.builder)


def testing_db() -> util.Property:
    """The ``testing_db`` build property, for commands of later steps."""
    return util.Property(TESTING_DB_PROPERTY)


def testing_db_steps(options: BuildOptions) -> list:
    """Set ``testing_db`` early, before anything needs it."""
    name = BuilderTestingDb(options.plan.name)
    return [steps.SetProperty(property=TESTING_DB_PROPERTY, value=name,
                              name="testing-database", descriptionDone=["testing db", name],
                              haltOnFailure=True)]


def _done(text: str) -> util.Interpolate:
    """A step summary naming the testing database (empty when not set yet)."""
    return util.Interpolate(text.replace("%s", f"%(prop:{TESTING_DB_PROPERTY})s"))


@implementer(IRenderable)
class ForceOption:
    """``--force`` for ``dropdb`` where the worker's PostgreSQL has it (13 and later).

    A build whose worker was lost (killed, rebooted, cut off) leaves its
    commands running on the worker: buildbot-worker starts each in a process
    group of its own, so they outlive it.  An Odoo test run among them keeps
    its sessions on the testing database, and a plain DROP DATABASE then
    fails ("is being accessed by other users") in every next build of the
    builder, until someone kills the process by hand.  ``--force`` ends
    those sessions first (their Odoo stops at its next query).  The version
    is the one the worker declares (``pg_version``); unknown or older than
    13, the option is left out: the drop then fails as before, with
    PostgreSQL's message naming the sessions.
    """

    def getRenderingFor(self, props):
        declared = props.getProperty(PG_VERSION_PROPERTY)
        try:
            version = Version.parse(str(declared)) if declared else None
        except InvalidVersion:
            version = None
        forced = version is not None and version.numbers[0] >= FORCE_SINCE_MAJOR
        return ["--force"] if forced else []


class DropDatabase(PgCommand):
    """``dropdb``, whose summary does not say "dropped" when it could not drop.

    The final clean-up's summary joins the build's (after the first
    failure's): "dropped x (warnings)" would read as done.  An unreachable
    server is named (:class:`PgCommand`).
    """

    def getResultSummary(self):
        if self.results in (SUCCESS, SKIPPED):
            return super().getResultSummary()
        failure = self.connection_failure()
        why = f": {failure}" if failure else ""
        return {"step": f"could not drop {self.getProperty(TESTING_DB_PROPERTY)}{why}"}


def _dropdb(environ, **kwargs) -> steps.ShellCommand:
    return DropDatabase(command=["dropdb", "--if-exists", ForceOption(), testing_db()],
                        descriptionDone=_done("dropped %s"), env=environ, **kwargs)


def disable_mail_step(environ) -> steps.ShellCommand:
    """Deactivate the mail servers a template or a copy may carry."""
    return PgCommand(
        command=["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", testing_db(),
                 "-c", DISABLE_MAIL_SQL],
        name="disable-outgoing-mail", descriptionDone="outgoing mail disabled",
        env=environ, haltOnFailure=True)


def simple_create(configurator, options: BuildOptions, buildout_path: str,
                  environ) -> list:
    """Drop, then ``createdb -T <db_template>``; mail disabled."""
    return [
        _dropdb(environ, name="dropdb", haltOnFailure=True),
        PgCommand(
            descriptionDone=_done(f"created %s from {options.build.db_template}"),
            command=["createdb", "-T", options.build.db_template, testing_db()],
            name="createdb", env=environ, haltOnFailure=True),
        disable_mail_step(environ),
    ]


def pg_remote_copy(configurator, options: BuildOptions, buildout_path: str,
                   environ) -> list:
    """Drop, then let a site-specific script make the database; mail disabled.

    Options: ``pg_remote_copy.arguments`` (required, split like a shell would,
    never run by one), ``.executable`` (default ``pg_remote_copy``),
    ``.db_option`` (default ``--copied_db_name``; empty: the database name is
    the last positional argument), ``.timeout`` (seconds).
    """
    copy = options.build.subfactory_options("pg_remote_copy")
    command = remote_copy_command(options, copy)
    timeout = seconds_option(options, "pg_remote_copy.timeout", None)
    kwargs = {} if timeout is None else {"timeout": timeout}
    return [
        _dropdb(environ, name="dropdb", haltOnFailure=True),
        PgCommand(command=command, name="pg_remote_copy", env=environ,
                           descriptionDone=_done("copied %s"),
                           haltOnFailure=True, **kwargs),
        disable_mail_step(environ),
    ]


def remote_copy_command(options: BuildOptions, copy: dict[str, str]) -> list:
    """``EXECUTABLE [DB_OPTION NAME] ARGUMENTS... [NAME]`` as an argument list."""
    if not copy.get("arguments", "").strip():
        config_error(options, "pg_remote_copy.arguments",
                      "db-steps = pg_remote_copy needs the arguments of the copy script")
    words = arguments(options, "pg_remote_copy.arguments")
    program = executable(options, "pg_remote_copy.executable", DEFAULT_COPY_EXECUTABLE)
    db_option = copy.get("db_option", DEFAULT_COPY_DB_OPTION).strip()
    if db_option and (not db_option.startswith("-") or len(db_option.split()) > 1):
        config_error(options, "pg_remote_copy.db_option",
                     f"{db_option!r} is not an option of the copy script (one word starting "
                     "with '-', or empty for none)")
    if db_option:
        return [program, db_option, testing_db(), *words]
    return [program, *words, testing_db()]


def drop_testing_db(configurator, options: BuildOptions, environ) -> list:
    """Final clean-up: drop the testing database whatever happened before.

    Skipped when the build stopped before the name was known; a failure only
    warns, since the tests' verdict is already given.
    """
    return [_dropdb(
        environ, name="drop-testing-database", alwaysRun=True, haltOnFailure=False,
        decodeRC={0: SUCCESS, 1: WARNINGS}, flunkOnFailure=False, warnOnFailure=True,
        warnOnWarnings=True,
        doStepIf=lambda step: bool(step.getProperty(TESTING_DB_PROPERTY)))]


simple_create.final_cleanup_steps = drop_testing_db  # type: ignore[attr-defined]
pg_remote_copy.final_cleanup_steps = drop_testing_db  # type: ignore[attr-defined]

DB_SUBFACTORIES = {"simple_create": simple_create, "pg_remote_copy": pg_remote_copy}
