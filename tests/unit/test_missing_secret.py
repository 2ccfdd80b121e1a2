"""A secret the build needs and the providers do not have: one line, in the capability step.

Without it, the first step rendering the environment raised Buildbot's
``KeyError: secret key ... is not found in any provider`` inside a
``FirstError``, and the build ended in an exception with a traceback.
"""

from __future__ import annotations

from buildbot.process.results import FAILURE, SUCCESS
from buildbot.secrets.providers.file import SecretInAFile
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import validate_definition
from buildbot_odoo.capability.resolve import CapabilityUse
from buildbot_odoo.capability.versions import Version
from buildbot_odoo.master.steps.capability import SetCapabilityProperties
from buildbot_odoo.master.steps.secret_lookup import describe_provider

RABBIT = validate_definition("rabbitmq", {"environ": {"RMQ_BASE_URI": "%(cap(base_uri):-)s"}})
PG = validate_definition("postgresql", {
    "environ": {"PGPORT": "%(cap(port):-)s"},
    "secret_files": {"PGPASSFILE": {"option": "password-secret", "format": "pgpass"}}})


class MissingSecretTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step(with_secrets={"rmq-uri": "amqp://u:p@h/"})

    def _step(self, capabilities: dict, *uses: CapabilityUse):
        self.setup_step(SetCapabilityProperties(list(uses), {"rabbitmq": RABBIT,
                                                             "postgresql": PG}))
        self.build.setProperty("capability", capabilities, "Worker")
        self.build.setProperty("workername", "w1", "Worker")

    @defer.inlineCallbacks
    def test_a_missing_secret_fails_the_step_naming_it_and_the_provider(self):
        self._step({"rabbitmq": {"3.12": {"base_uri-secret": "rmq-typo"}}},
                   CapabilityUse("rabbitmq", Version("3.12")))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "secret 'rmq-typo' (rabbitmq option base_uri-secret of worker w1) is not in the "
            "master's secrets: asked FakeSecretStorage")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_missing_password_file_secret_too(self):
        self._step({"postgresql": {"16": {"port": "5432", "password-secret": "pg16"}}},
                   CapabilityUse("postgresql", Version("16")))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "secret 'pg16' (postgresql option password-secret of worker w1) is not in the "
            "master's secrets: asked FakeSecretStorage")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_secrets_that_are_there_pass(self):
        self._step({"rabbitmq": {"3.12": {"base_uri-secret": "rmq-uri"}}},
                   CapabilityUse("rabbitmq", Version("3.12")))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_secret_nothing_reads_is_not_needed(self):
        # check warns about it; the build does not read it, so it does not stop on it
        self._step({"rabbitmq": {"3.12": {"uri-secret": "rmq-typo"}}},
                   CapabilityUse("rabbitmq", Version("3.12")))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()


def test_the_file_provider_is_shown_with_its_directory(tmp_path):
    provider = SecretInAFile(dirname=str(tmp_path))
    assert describe_provider(provider) == f"SecretInAFile({tmp_path})"
