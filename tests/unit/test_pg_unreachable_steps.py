"""PostgreSQL unreachable: the step that met it names the server and libpq's reason.

Before, ``createdb`` and ``dropdb`` said "failed (exit code 2)" or "could not drop
X", and the Odoo tests "Failed to load registry".  Driven by Buildbot's own step
test helpers, with libpq's messages as the tools print them.
"""

from __future__ import annotations

from buildbot.process.results import FAILURE, WARNINGS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.master.steps.odoo_tests import OdooTestStep
from buildbot_odoo.master.steps.pg_commands import PgCommand
from buildbot_odoo.master.subfactories.database import DropDatabase

REFUSED = ('connection to server at "127.0.0.1", port 5999 failed: Connection refused\n'
           '\tIs the server running on that host and accepting TCP/IP connections?\n')
SAID = "could not connect to PostgreSQL at 127.0.0.1:5999: Connection refused"
LOGFILE = "/srv/build/odoo-tests.log"
ODOO_DOWN = (
    "2024-05-02 10:00:00,000 7 INFO ? odoo: Odoo version 17.0\n"
    "2024-05-02 10:00:01,000 7 ERROR ci-sale odoo.modules.registry: Failed to load registry\n"
    "Traceback (most recent call last):\n"
    '  File "/srv/odoo/odoo/sql_db.py", line 100, in borrow\n'
    "psycopg2.OperationalError: " + REFUSED)


class PgUnreachableTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @defer.inlineCallbacks
    def test_createdb_names_the_server(self):
        self.setup_step(PgCommand(command=["createdb", "x"], name="createdb"))
        self.expect_commands(ExpectShell(workdir="wkdir", command=["createdb", "x"])
                             .stderr("createdb: error: " + REFUSED).exit(1))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": f"createdb: {SAID}"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_failure_of_another_kind_keeps_buildbots_summary(self):
        self.setup_step(PgCommand(command=["createdb", "x"], name="createdb"))
        self.expect_commands(ExpectShell(workdir="wkdir", command=["createdb", "x"])
                             .stderr('createdb: error: database "x" already exists\n').exit(1))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "'createdb x' (failure)"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_dropdb_says_it_could_not_drop_and_why(self):
        self.setup_step(DropDatabase(command=["dropdb", "x"], name="drop-testing-database",
                                     decodeRC={0: 0, 1: WARNINGS}, flunkOnFailure=False,
                                     warnOnFailure=True))
        self.build.setProperty("testing_db", "odoo_buildbot-sale", "test")
        self.expect_commands(ExpectShell(workdir="wkdir", command=["dropdb", "x"])
                             .stderr("dropdb: error: " + REFUSED).exit(1))
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": f"could not drop odoo_buildbot-sale: {SAID}"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_odoo_tests_name_the_server_not_the_registry(self):
        command = ["bin/test_odoo", "-d", "ci-sale", f"--logfile={LOGFILE}"]
        self.setup_step(OdooTestStep(command=command, odoo_logfile=LOGFILE))
        self.expect_commands(
            ExpectShell(workdir="wkdir", command=command,
                        logfiles={"odoo.log": {"filename": LOGFILE, "follow": True}})
            .log("odoo.log", stdout=ODOO_DOWN).exit(1))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary(
            {"step": f"{SAID} (1 error in log: Failed to load registry)"})
        yield self.run_step()
