"""The ``environ`` subfactories receive is a real mapping (anybox.buildbot.odoo's idioms).

Custom subfactories written for anybox.buildbot.odoo copy it (``dict(environ)``,
``environ.copy()``) and add variables; run here as real Buildbot steps, the
command gets exactly the environment the worker must see.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from buildbot.process.results import SUCCESS
from buildbot.steps.shell import ShellCommand
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import builtin_capabilities, validate_definitions
from buildbot_odoo.master.steps.capability import CapabilityEnvironment, EnvironmentVariable

DEFS = validate_definitions(builtin_capabilities())
PG = [DEFS["postgresql"]]


def test_it_is_a_mapping_of_the_variables_it_may_set():
    environ = CapabilityEnvironment(PG)
    assert isinstance(environ, Mapping)
    assert set(environ) == {"PGPORT", "PGHOST", "PGUSER", "PATH", "LD_LIBRARY_PATH",
                            "PGPASSFILE"}
    assert len(environ) == 6 and "PGPORT" in environ and "HOME" not in environ
    assert isinstance(environ["PGPORT"], EnvironmentVariable)
    with pytest.raises(KeyError):
        environ["HOME"]
    copied = environ.copy()
    assert type(copied) is dict and copied == dict(environ) == {**environ}
    assert set(dict(environ, X="y")) == {*environ, "X"}
    assert set(environ.with_extra(X="y")) == {*environ, "X"}


def test_equal_environments_compare_equal():
    # a reconfig compares the steps of the old and new factories
    assert CapabilityEnvironment(PG) == CapabilityEnvironment(PG)
    assert CapabilityEnvironment(PG) != CapabilityEnvironment([DEFS["python"]])
    assert CapabilityEnvironment(PG)["PATH"] == CapabilityEnvironment(PG)["PATH"]
    assert hash(CapabilityEnvironment(PG)) == hash(CapabilityEnvironment(PG))


class EnvironmentInStepsTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """What the worker receives, for each way a subfactory passes ``environ`` on."""

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _run_with(self, env, worker_environ, properties, expected):
        self.setup_step(ShellCommand(command=["bin/check"], env=env))
        self.build.workerforbuilder.worker.worker_environ = worker_environ
        for name, value in properties.items():
            self.build.setProperty(name, value, "Capability")
        self.expect_commands(ExpectShell(workdir="wkdir", command=["bin/check"], env=expected)
                             .exit(0))
        self.expect_outcome(result=SUCCESS)
        return self.run_step()

    @defer.inlineCallbacks
    def test_env_environ_sets_only_what_has_a_value(self):
        yield self._run_with(CapabilityEnvironment(PG), {"PATH": "/usr/bin"},
                        {"cap_postgresql_port": "5433", "cap_postgresql_bin": "/opt/pg/bin"},
                        {"PGPORT": "5433", "PATH": ["/opt/pg/bin", "${PATH}"]})

    @defer.inlineCallbacks
    def test_dict_of_environ_plus_a_variable(self):
        # the original's idiom: environ = dict(environ); environ["X"] = ...
        env = dict(CapabilityEnvironment(PG), ODOO_RC="etc/odoo.cfg")
        yield self._run_with(env, {"PATH": "/usr/bin", "PGHOST": "/run/postgresql"},
                        {"cap_postgresql_port": "5433"}, {
                            "PGPORT": "5433",
                            "PGHOST": "${PGHOST}",  # the worker's own, untouched
                            "PGUSER": None,  # unset on the worker, stays unset
                            "PATH": "${PATH}",  # no bin: the worker's PATH, no empty entry
                            "LD_LIBRARY_PATH": None,
                            "PGPASSFILE": None,
                            "ODOO_RC": "etc/odoo.cfg"})

    @defer.inlineCallbacks
    def test_unpacked_environ_with_a_path_entry(self):
        env = {**CapabilityEnvironment(PG), "X": "y"}
        yield self._run_with(env, {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/usr/local/lib"},
                        {"cap_postgresql_bin": "/opt/pg/bin", "cap_postgresql_lib": "/opt/pg/lib"},
                        {"PGPORT": None, "PGHOST": None, "PGUSER": None, "PGPASSFILE": None,
                         "PATH": ["/opt/pg/bin", "${PATH}"],
                         "LD_LIBRARY_PATH": ["/opt/pg/lib", "${LD_LIBRARY_PATH}"], "X": "y"})

    @defer.inlineCallbacks
    def test_copy_of_environ_on_a_worker_without_path(self):
        # no PATH on the worker at all: never "${PATH}", which would leave an empty entry
        env = CapabilityEnvironment(PG).copy()
        yield self._run_with(env, {}, {"cap_postgresql_bin": "/opt/pg/bin"},
                        {"PGPORT": None, "PGHOST": None, "PGUSER": None, "PGPASSFILE": None,
                         "PATH": ["/opt/pg/bin"], "LD_LIBRARY_PATH": None})
