"""The capability step and environment, with Buildbot's own step test helpers."""

from __future__ import annotations

from buildbot.process import remotetransfer
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import (
    ExpectDownloadFile,
    ExpectRemoteRef,
    ExpectRmfile,
    TestBuildStepMixin,
)
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import (
    builtin_capabilities,
    validate_definition,
    validate_definitions,
)
from buildbot_odoo.capability.resolve import CapabilityUse
from buildbot_odoo.capability.versions import Version, VersionFilter
from buildbot_odoo.master.steps.capability import (
    CapabilityEnvironment,
    CapabilitySecretFiles,
    SetCapabilityProperties,
    secret_file_steps,
)

DEFS = validate_definitions(builtin_capabilities())
WORKER_CAPS = {
    "postgresql": {
        "15": {"port": "5433", "bin": "/usr/lib/postgresql/15/bin"},
        "18": {"port": "5434", "host": "/run/pg18", "bin": "/opt/pg18/bin",
               "lib": "/opt/pg18/lib", "user": "ci", "password-secret": "pg18pass"},
    },
    "rabbitmq": {"2.8.4": {"base_uri": "amqp://localhost/"}},
}


class CapabilityStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step(with_secrets={"pg18pass": "s3cr3t"})

    def _step(self, *uses):
        step = self.setup_step(SetCapabilityProperties(list(uses), DEFS))
        self.build.setProperty("capability", WORKER_CAPS, "Worker")
        self.build.setProperty("workername", "alpha", "Worker")
        return step

    @defer.inlineCallbacks
    def test_fixed_version_sets_cap_properties(self):
        self._step(CapabilityUse("postgresql", Version("18")))
        self.expect_outcome(result=SUCCESS)
        self.expect_property("pg_version", "18", "Capability")
        self.expect_property("cap_postgresql_port", "5434", "Capability")
        self.expect_property("cap_postgresql_password_secret", "pg18pass", "Capability")
        self.expect_result_summary({"step": "postgresql 18"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_requirement_with_one_match(self):
        self._step(CapabilityUse("rabbitmq", requirement=VersionFilter.parse("rabbitmq >= 2")))
        self.expect_outcome(result=SUCCESS)
        self.expect_property("cap_rabbitmq_base_uri", "amqp://localhost/", "Capability")
        self.expect_property("rabbitmq_version", "2.8.4", "Capability")
        yield self.run_step()

    def _shared_step(self, builder: str, own_properties: dict):
        """The step of a factory shared by a build's builders, run by ``builder``."""
        step = self._step(CapabilityUse("postgresql", from_builder=True),
                          CapabilityUse("rabbitmq", requirement=None))
        self.build.builder.name = builder
        self.build.builder.config.properties = own_properties
        return step

    @defer.inlineCallbacks
    def test_shared_step_takes_the_version_of_the_builder_running_the_build(self):
        self._shared_step("sale-pg18", {"pg_version": "18"})
        self.expect_outcome(result=SUCCESS)
        self.expect_property("pg_version", "18", "Capability")
        self.expect_property("cap_postgresql_port", "5434", "Capability")
        self.expect_result_summary({"step": "postgresql 18, rabbitmq 2.8.4"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_shared_step_serves_each_builder_its_own_version(self):
        self._shared_step("sale-pg15", {"pg_version": "15"})
        self.expect_outcome(result=SUCCESS)
        self.expect_property("pg_version", "15", "Capability")
        self.expect_property("cap_postgresql_port", "5433", "Capability")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_worker_property_cannot_change_the_builders_version(self):
        # worker properties come after the builder's: pg_version=18 in workers.cfg must not
        # make a pg15 builder use, and drop databases on, the worker's PostgreSQL 18
        self._shared_step("sale-pg15", {"pg_version": "15"})
        self.build.setProperty("pg_version", "18", "Worker")
        self.expect_outcome(result=SUCCESS)
        self.expect_property("cap_postgresql_port", "5433", "Capability")
        self.expect_property("pg_version", "15", "Capability")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_shared_step_on_a_builder_without_version_fails_saying_so(self):
        self._shared_step("sale", {})
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "builder sale has no property 'pg_version': its builds are split by postgresql, "
            "and it names no version")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_ambiguous_version_fails_with_a_clear_message(self):
        self._step(CapabilityUse("postgresql",
                                 requirement=VersionFilter.parse("postgresql >= 12")))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "worker alpha has several postgresql versions matching (15, 18) and the build is "
            "not split by postgresql: add a build-for line or narrow the requirement")})
        yield self.run_step()


class CapabilityEnvironmentTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step(with_secrets={"pg18pass": "s3cr3t"})

    @defer.inlineCallbacks
    def render(self, definitions, properties, worker_environ=None, renderable=None):
        self.setup_step(SetCapabilityProperties([], DEFS))
        build = self.build
        build.workerforbuilder.worker.worker_environ = worker_environ or {"PATH": "/usr/bin"}
        props = Properties()
        props.build = build
        props.master = self.master
        build.getProperties = lambda: props
        props.setProperty("builddir", "/srv/worker/sale-pg18", "Worker")
        for name, value in properties.items():
            props.setProperty(name, value, "test")
        env = yield props.render(renderable or CapabilityEnvironment(definitions))
        return env, props

    @defer.inlineCallbacks
    def test_postgresql_environment_and_password_file(self):
        env, props = yield self.render([DEFS["postgresql"]], {
            "cap_postgresql_port": "5434", "cap_postgresql_host": "/run/pg18",
            "cap_postgresql_bin": "/opt/pg18/bin", "cap_postgresql_lib": "/opt/pg18/lib",
            "cap_postgresql_user": "ci", "cap_postgresql_password_secret": "pg18pass"},
            worker_environ={"PATH": "/usr/bin"})
        self.assertEqual(env, {
            "PGPORT": "5434", "PGHOST": "/run/pg18", "PGUSER": "ci",
            "PATH": ["/opt/pg18/bin", "${PATH}"],
            "LD_LIBRARY_PATH": ["/opt/pg18/lib"],  # the worker has none: no empty entry
            # the password is in a file: buildbot-worker writes environments to its log
            "PGPASSFILE": "/srv/worker/sale-pg18/.capability-secrets/postgresql-PGPASSFILE",
        })
        self.assertNotIn("s3cr3t", str(props.asDict()) + str(env))

    @defer.inlineCallbacks
    def test_secret_files_render_their_content_and_redact_the_secret(self):
        props_set = {"cap_postgresql_password_secret": "pg18pass"}
        files, props = yield self.render([], props_set, renderable=CapabilitySecretFiles(
            [DEFS["postgresql"]]))
        path = "/srv/worker/sale-pg18/.capability-secrets/postgresql-PGPASSFILE"
        self.assertEqual(files, [(path, "*:*:*:*:s3cr3t\n")])
        # rendering the secret recorded it: the master writes <name> for it in logs
        self.assertEqual(props.cleanupTextFromSecrets("PGPASSWORD=s3cr3t"),
                         "PGPASSWORD=<pg18pass>")
        paths, _ = yield self.render([], props_set, renderable=CapabilitySecretFiles(
            [DEFS["postgresql"]], content=False))
        self.assertEqual(paths, [(path, None)])
        none, _ = yield self.render([], {"cap_postgresql_port": "5433"},
                                    renderable=CapabilitySecretFiles([DEFS["postgresql"]]))
        self.assertEqual(none, [])

    @defer.inlineCallbacks
    def test_secret_environ_of_a_custom_capability_gives_the_value(self):
        rabbit = validate_definition("rabbitmq", {"secret_environ": {"RMQ_PASSWORD": "pw"}})
        env, props = yield self.render([rabbit], {"cap_rabbitmq_pw": "pg18pass"})
        self.assertEqual(env, {"RMQ_PASSWORD": "s3cr3t"})
        self.assertNotIn("s3cr3t", str(props.asDict()))

    @defer.inlineCallbacks
    def test_empty_values_add_nothing(self):
        env, _ = yield self.render([DEFS["postgresql"]], {"cap_postgresql_port": "5433"})
        self.assertEqual(env, {"PGPORT": "5433"})

    @defer.inlineCallbacks
    def test_custom_capability_and_default(self):
        rabbit = validate_definition("rabbitmq", {"environ": {
            "RMQ_BASE_URI": "%(cap(base_uri):-)s", "AMQP_CTL_SUDO": "%(cap(sudo):-TRUE)s",
            "BRANCH": "%(branch:-main)s"}})
        env, _ = yield self.render([rabbit], {"cap_rabbitmq_base_uri": "amqp://h/"})
        self.assertEqual(env, {"RMQ_BASE_URI": "amqp://h/", "AMQP_CTL_SUDO": "TRUE",
                               "BRANCH": "main"})

    @defer.inlineCallbacks
    def test_several_capabilities_prepend_in_order(self):
        env, _ = yield self.render([DEFS["postgresql"], DEFS["python"]], {
            "cap_postgresql_bin": "/pg/bin", "cap_python_bin": "/py/bin:/py/scripts"})
        self.assertEqual(env["PATH"], ["/pg/bin", "/py/bin", "/py/scripts", "${PATH}"])


RABBIT = validate_definition("rabbitmq", {"environ": {
    "RMQ_BASE_URI": "%(cap(base_uri):-amqp://localhost/)s",
    "RMQ_TLS": "%(cap(base_uri):?|secured|plain)s",
    "RMQ_BINARY": "%(cap(binary):-rabbitmqctl)s",
    "PATH": "%(cap(bin):-)s"}})
RMQ_URI = "amqp://ci:s3cr3t@mq.example.com:5672/"


class OptionsBySecretTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """``base_uri-secret=rmq-uri`` on a worker: the templates reading cap(base_uri) get the
    secret's value, rendered by Buildbot's Secret (so redacted), and no property holds it."""

    render = CapabilityEnvironmentTests.render

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step(with_secrets={"rmq-uri": RMQ_URI})

    @defer.inlineCallbacks
    def test_the_template_gets_the_secret_value_and_no_property_holds_it(self):
        env, props = yield self.render([RABBIT], {"cap_rabbitmq_base_uri_secret": "rmq-uri",
                                                  "cap_rabbitmq_binary": "/opt/rmq/ctl"})
        self.assertEqual(env, {"RMQ_BASE_URI": RMQ_URI, "RMQ_TLS": "secured",
                               "RMQ_BINARY": "/opt/rmq/ctl"})
        self.assertNotIn("s3cr3t", str(props.asDict()))
        # rendered through Buildbot's Secret: the master writes <rmq-uri> in logs for it
        self.assertEqual(props.cleanupTextFromSecrets(f"RMQ_BASE_URI={RMQ_URI}"),
                         "RMQ_BASE_URI=<rmq-uri>")

    @defer.inlineCallbacks
    def test_one_variable_of_the_mapping_gets_the_secret_too(self):
        value, props = yield self.render(
            [RABBIT], {"cap_rabbitmq_base_uri_secret": "rmq-uri"},
            renderable=CapabilityEnvironment([RABBIT])["RMQ_BASE_URI"])
        self.assertEqual(value, RMQ_URI)
        self.assertEqual(props.cleanupTextFromSecrets(RMQ_URI), "<rmq-uri>")

    @defer.inlineCallbacks
    def test_without_the_secret_option_the_plain_option_and_default_apply(self):
        env, props = yield self.render([RABBIT], {"cap_rabbitmq_base_uri": "amqp://mq/"})
        self.assertEqual(env["RMQ_BASE_URI"], "amqp://mq/")
        self.assertEqual(props.cleanupTextFromSecrets(RMQ_URI), RMQ_URI)  # no secret read
        env, _ = yield self.render([RABBIT], {})
        self.assertEqual((env["RMQ_BASE_URI"], env["RMQ_TLS"]), ("amqp://localhost/", "plain"))

    @defer.inlineCallbacks
    def test_a_missing_secret_is_buildbots_error_naming_it(self):
        # Interpolate gathers its parts: Buildbot's KeyError comes wrapped in a FirstError
        with self.assertRaises(Exception) as raised:
            yield self.render([RABBIT], {"cap_rabbitmq_base_uri_secret": "rmq-typo"})
        self.assertIn("secret key rmq-typo is not found in any provider", str(raised.exception))

    @defer.inlineCallbacks
    def test_a_search_path_never_comes_from_a_secret(self):
        env, _ = yield self.render([RABBIT], {"cap_rabbitmq_bin_secret": "rmq-uri"})
        self.assertNotIn("PATH", env)
        self.assertNotIn("s3cr3t", str(env))

    @defer.inlineCallbacks
    def test_the_capability_step_sets_the_secret_name_only(self):
        step = self.setup_step(SetCapabilityProperties(
            [CapabilityUse("rabbitmq", Version("3.12"))], {"rabbitmq": RABBIT}))
        self.build.setProperty("capability", {"rabbitmq": {"3.12": {
            "base_uri-secret": "rmq-uri", "binary": "rabbitmqctl"}}}, "Worker")
        self.expect_outcome(result=SUCCESS)
        self.expect_property("cap_rabbitmq_base_uri_secret", "rmq-uri", "Capability")
        self.expect_log_file("capabilities", "rabbitmq_version = 3.12\n"
                             "cap_rabbitmq_base_uri_secret = rmq-uri\n"
                             "cap_rabbitmq_binary = rabbitmqctl\n")
        yield self.run_step()
        self.assertNotIn("cap_rabbitmq_base_uri", step.build.getProperties().asDict())


class SecretFileStepsTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """Buildbot's own secret-file steps, given the capability's files."""

    PATH = "/srv/worker/sale-pg18/.capability-secrets/postgresql-PGPASSFILE"

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step(with_secrets={"pg18pass": "s3:cr3t"})

    def _step(self, which: int, password_secret: str | None = "pg18pass"):
        step = self.setup_step(secret_file_steps([DEFS["postgresql"]])[which][0])
        self.build.setProperty("builddir", "/srv/worker/sale-pg18", "Worker")
        self.build.setProperty("cap_postgresql_port", "5434", "Capability")
        if password_secret:
            self.build.setProperty("cap_postgresql_password_secret", password_secret,
                                   "Capability")
        return step

    @defer.inlineCallbacks
    def test_writes_the_password_file_private(self):
        self._step(0)
        written = []
        self.expect_commands(
            ExpectDownloadFile(workerdest=self.PATH, workdir="wkdir", mode=0o600,
                               blocksize=32 * 1024, maxsize=None,
                               reader=ExpectRemoteRef(remotetransfer.StringFileReader))
            .download_string(written.append, size=1000)
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="secret files")
        yield self.run_step()
        self.assertEqual(written, [b"*:*:*:*:s3\\:cr3t\n"])

    @defer.inlineCallbacks
    def test_removes_the_password_file_whatever_happened(self):
        step = self._step(1)
        self.assertTrue(step.alwaysRun)
        self.expect_commands(ExpectRmfile(path=self.PATH, log_environ=False).exit(0))
        self.expect_outcome(result=SUCCESS, state_string="secret files removed")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_skipped_and_hidden_without_a_password_secret(self):
        self._step(0, password_secret=None)
        self.expect_outcome(result=SKIPPED)
        self.expect_hidden(True)
        yield self.run_step()
