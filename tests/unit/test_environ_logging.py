"""A step whose environment holds a secret does not log it; the others keep Buildbot's default.

buildbot-worker writes a command's environment in clear in its twistd.log
when the step's ``logEnviron`` is on (the master only redacts what it stores):
with Buildbot's own step test helpers, the remote command a step sends says
``logEnviron`` False exactly when a secret of the build is in its environment.
The worker's own log is read in tests/integration/test_capability_secrets_e2e.py.
"""

from __future__ import annotations

from buildbot.process.properties import Interpolate, Secret
from buildbot.process.results import SUCCESS
from buildbot.steps.shell import ShellCommand
from buildbot.steps.source.git import Git
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import validate_definition
from buildbot_odoo.master.steps.capability import CapabilityEnvironment
from buildbot_odoo.master.steps.environ_logging import (
    LogEnvironUnlessSecret,
    secret_free_environ_logging,
)

RABBIT = validate_definition("rabbitmq", {"environ": {
    "RMQ_BASE_URI": "%(cap(base_uri):-amqp://localhost/)s"}})
URI = "amqp://ci:s3cr3t@mq.example.com/"


class EnvironLoggingTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step(with_secrets={"rmq-uri": URI})

    def _check(self, step, expected_env: dict, log_environ: bool, **props: str):
        self.setup_step(secret_free_environ_logging(step))
        for name, value in props.items():
            self.build.setProperty(name, value, "Capability")
        self.expect_commands(ExpectShell(workdir="wkdir", command=["run"], env=expected_env,
                                         log_environ=log_environ).exit(0))
        self.expect_outcome(result=SUCCESS)
        return self.run_step()

    @defer.inlineCallbacks
    def test_a_secret_from_a_capability_turns_environment_logging_off(self):
        yield self._check(ShellCommand(command=["run"], env=CapabilityEnvironment([RABBIT])),
                          {"RMQ_BASE_URI": URI}, log_environ=False,
                          cap_rabbitmq_base_uri_secret="rmq-uri")

    @defer.inlineCallbacks
    def test_the_same_step_on_a_worker_without_secret_logs_it(self):
        yield self._check(ShellCommand(command=["run"], env=CapabilityEnvironment([RABBIT])),
                          {"RMQ_BASE_URI": "amqp://mq/"}, log_environ=True,
                          cap_rabbitmq_base_uri="amqp://mq/")

    @defer.inlineCallbacks
    def test_a_secret_in_a_mapping_made_from_the_environment(self):
        # anybox.buildbot.odoo's subfactories: dict(environ, X=...)
        env = dict(CapabilityEnvironment([RABBIT]), TOKEN=Interpolate("%(secret:rmq-uri)s"))
        yield self._check(ShellCommand(command=["run"], env=env),
                          {"RMQ_BASE_URI": "amqp://localhost/", "TOKEN": URI},
                          log_environ=False)

    @defer.inlineCallbacks
    def test_a_plain_environment_keeps_buildbots_default(self):
        step = ShellCommand(command=["run"], env={"LANG": "C.UTF-8"})
        self.assertIs(secret_free_environ_logging(step), step)
        yield self._check(step, {"LANG": "C.UTF-8"}, log_environ=True)

    @defer.inlineCallbacks
    def test_a_step_saying_log_environ_keeps_what_it_says(self):
        step = ShellCommand(command=["run"], env={"T": Secret("rmq-uri")}, logEnviron=True)
        self.assertIs(secret_free_environ_logging(step), step)
        yield self._check(step, {"T": URI}, log_environ=True)


def test_source_steps_with_a_rendered_environment_never_log_it():
    factory = secret_free_environ_logging(Git(repourl="https://g/r.git",
                                              env=CapabilityEnvironment([RABBIT])))
    assert factory.buildStep().logEnviron is False


def test_steps_stay_equal_across_reconfigs():
    made = [secret_free_environ_logging(ShellCommand(command=["run"],
                                                     env=CapabilityEnvironment([RABBIT])))
            for _ in range(2)]
    assert made[0] == made[1]
    assert isinstance(made[0].buildStep().logEnviron, LogEnvironUnlessSecret)
