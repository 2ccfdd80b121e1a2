"""db-steps subfactories, the testing_db property and the final drop (SPEC 6)."""

from __future__ import annotations

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS, WARNINGS
from buildbot.steps.master import SetProperty
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from buildbot.util import flatten
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.subfactories import database
from buildbot_odoo.master.subfactories.database import (
    DB_SUBFACTORIES,
    DISABLE_MAIL_SQL,
    BuilderTestingDb,
    drop_testing_db,
    pg_remote_copy,
    simple_create,
)

from .test_retrieval import options_for

ENV = {"PGPORT": "5433", "PATH": ["/opt/pg/bin", "${PATH}"]}
DB = "odoo_buildbot-sale-pg15"
MAIL = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c", DISABLE_MAIL_SQL]


def rendered(step, **props) -> list:
    """The command as the worker gets it (Buildbot flattens nested lists)."""
    return flatten(Properties(testing_db=DB, **props).render(step.command).result, (list,))


@pytest.mark.parametrize(("pg_version", "forced"), [
    ("15.18", True), ("13", True), ("18beta1", True), ("12.22", False), ("9.6", False),
    (None, False), ("not a version", False)])
def test_dropdb_ends_lost_sessions_where_postgresql_can(pg_version, forced):
    # --force: the sessions a lost build's processes left on the database end first
    dropdb, _, _ = simple_create(None, options_for(), "b.cfg", ENV)
    [drop] = drop_testing_db(None, options_for(), ENV)
    expected = ["dropdb", "--if-exists", *(["--force"] if forced else []), DB]
    props = {} if pg_version is None else {"pg_version": pg_version}
    assert rendered(dropdb, **props) == rendered(drop, **props) == expected


def test_testing_db_is_set_from_the_worker_prefix_at_build_time():
    # the builder too is known at build time: the build's builders share the step
    [step] = database.testing_db_steps(options_for(builder="Sale-pg9.2devel"))
    assert isinstance(step, SetProperty) and step.property == "testing_db"
    props = Properties(db_prefix="ci", buildername="Sale-pg9.2devel")
    assert props.render(step.value).result == "ci-sale-pg9_2devel-35b47e3a1780"
    assert Properties().render(BuilderTestingDb("sale")).result == "odoo_buildbot-sale"


def test_simple_create_drops_creates_from_template_and_disables_mail():
    dropdb, createdb, mail = simple_create(None, options_for(db_template="odoo17_base"),
                                           "b.cfg", ENV)
    assert rendered(dropdb) == ["dropdb", "--if-exists", DB]
    assert rendered(createdb) == ["createdb", "-T", "odoo17_base", DB]
    assert rendered(mail) == MAIL
    assert all(s.env is ENV and s.haltOnFailure for s in (dropdb, createdb, mail))


def test_pg_remote_copy_command():
    options = options_for(db_steps="pg_remote_copy", raw={
        "pg_remote_copy.arguments": "--from prod 'dump dir/x'",
        "pg_remote_copy.executable": "/usr/local/bin/copy-db",
        "pg_remote_copy.timeout": "5400"})
    dropdb, copy, mail = pg_remote_copy(None, options, "b.cfg", ENV)
    assert rendered(dropdb) == ["dropdb", "--if-exists", DB]
    assert rendered(copy) == ["/usr/local/bin/copy-db", "--copied_db_name", DB,
                              "--from", "prod", "dump dir/x"]
    assert copy.timeout == 5400
    assert rendered(mail) == MAIL


def test_pg_remote_copy_positional_name_and_defaults():
    options = options_for(raw={"pg_remote_copy.arguments": "prod",
                               "pg_remote_copy.db_option": ""})
    _, copy, _ = pg_remote_copy(None, options, "b.cfg", ENV)
    assert rendered(copy) == ["pg_remote_copy", "prod", DB]
    assert copy.timeout == 20 * 60  # Buildbot's default


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "buildouts/MANIFEST.cfg:3: sale: pg_remote_copy.arguments: db-steps = "
         "pg_remote_copy needs the arguments of the copy script"),
    ({"pg_remote_copy.arguments": "'unclosed"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.arguments: cannot split arguments: "
     "No closing quotation"),
    ({"pg_remote_copy.arguments": "x", "pg_remote_copy.timeout": "-3"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.timeout: '-3' is out of range: "
     "from 1 to 604800 seconds"),
    ({"pg_remote_copy.arguments": "x", "pg_remote_copy.executable": "copy-db --fast"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.executable: 'copy-db --fast' must be "
     "one executable; put arguments in the matching '.arguments' option"),
    ({"pg_remote_copy.arguments": "x", "pg_remote_copy.db_option": "copied_db_name"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.db_option: 'copied_db_name' is not "
     "an option of the copy script (one word starting with '-', or empty for none)"),
    ({"pg_remote_copy.arguments": "x", "pg_remote_copy.db_option": "--name x"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.db_option: '--name x' is not "
     "an option of the copy script (one word starting with '-', or empty for none)"),
    ({"pg_remote_copy.arguments": "x", "pg_remote_copy.executable": "--help"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.executable: '--help': an executable "
     "cannot start with '-' (it would be read as an option)"),
    ({"pg_remote_copy.arguments": "x", "pg_remote_copy.executable": "copy db"},
     "buildouts/MANIFEST.cfg:7: sale: pg_remote_copy.executable: 'copy db' must be one "
     "executable; put arguments in the matching '.arguments' option"),
])
def test_pg_remote_copy_config_errors_are_located(raw, message):
    with pytest.raises(ConfigError) as caught:
        pg_remote_copy(None, options_for(raw=raw), "b.cfg", ENV)
    assert str(caught.value) == message


def test_both_subfactories_drop_the_database_at_the_end():
    assert set(DB_SUBFACTORIES) == {"simple_create", "pg_remote_copy"}
    for subfactory in DB_SUBFACTORIES.values():
        assert subfactory.final_cleanup_steps is drop_testing_db
    [drop] = drop_testing_db(None, options_for(), ENV)
    assert rendered(drop) == ["dropdb", "--if-exists", DB]
    assert drop.alwaysRun and not drop.haltOnFailure
    assert not drop.flunkOnFailure and drop.warnOnFailure


class DatabaseStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @defer.inlineCallbacks
    def test_testing_db_property_step(self):
        [step] = database.testing_db_steps(options_for(builder="sale-pg15"))
        self.setup_step(step)
        self.build.builder.name = "sale-pg15"  # the builder running the build
        self.build.setProperty("db_prefix", "alpha", "Worker")
        self.expect_outcome(result=SUCCESS)
        self.expect_property("testing_db", "alpha-sale-pg15")
        self.expect_result_summary({"step": "testing db alpha-sale-pg15"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_testing_db_is_the_running_builders_whatever_a_worker_property_says(self):
        # one step for the build's builders: the name is the builder's, never a worker's
        # property (a workers.cfg option), or two builders would drop one database
        [step] = database.testing_db_steps(options_for(builder="sale-pg15"))
        self.setup_step(step)
        self.build.builder.name = "sale-pg16"
        self.build.setProperty("buildername", "sale-pg15", "Worker")
        self.build.setProperty("db_prefix", "alpha", "Worker")
        self.expect_outcome(result=SUCCESS)
        self.expect_property("testing_db", "alpha-sale-pg16")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_dropdb_is_forced_on_a_recent_postgresql(self):
        dropdb, _, _ = simple_create(None, options_for(), "b.cfg", ENV)
        self.setup_step(dropdb)
        self.build.setProperty("testing_db", DB, "test")
        self.build.setProperty("pg_version", "15.18", "capabilities")
        self.expect_commands(ExpectShell(workdir="wkdir", env=ENV,
                                         command=["dropdb", "--if-exists", "--force", DB]).exit(0))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_createdb_failure_halts(self):
        _, createdb, _ = simple_create(None, options_for(), "b.cfg", ENV)
        self.setup_step(createdb)
        self.build.setProperty("testing_db", DB, "test")
        self.expect_commands(ExpectShell(workdir="wkdir", env=ENV,
                                         command=["createdb", "-T", "template1", DB]).exit(1))
        self.expect_outcome(result=FAILURE)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_final_drop_failure_only_warns(self):
        [drop] = drop_testing_db(None, options_for(), ENV)
        self.setup_step(drop)
        self.build.setProperty("testing_db", DB, "test")
        self.expect_commands(ExpectShell(workdir="wkdir", env=ENV,
                                         command=["dropdb", "--if-exists", DB]).exit(1))
        self.expect_outcome(result=WARNINGS)
        # the build summary shows it after the first failure: it must not read "dropped"
        self.expect_result_summary({"step": f"could not drop {DB}"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_final_drop_is_skipped_when_no_name_was_set(self):
        [drop] = drop_testing_db(None, options_for(), ENV)
        self.setup_step(drop)
        self.expect_outcome(result=SKIPPED)
        yield self.run_step()
