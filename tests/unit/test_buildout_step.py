"""The buildout step, driven by Buildbot's own step test helpers, on real buildout outputs.

The outputs are those of ``tests/unit/data/buildout_logs`` (see its README):
the worker's part is played by ``ExpectShell``, streaming them as the
worker streams a command's stdout and stderr.
"""

from __future__ import annotations

from pathlib import Path

from buildbot.process.results import FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.master.steps.buildout import BuildoutStep

DATA = Path(__file__).parent / "data" / "buildout_logs"
COMMAND = ["/srv/w/b/venv/bin/buildout", "-c", "odoo.cfg"]
LDAP = ("python-ldap 3.4.0 did not build: lber.h: No such file or directory "
        "(Debian package: libldap2-dev)")


def output(name: str) -> str:
    return (DATA / name).read_text()


class BuildoutStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _buildout(self, name: str, exit_code: int, stream: str = "stderr"):
        self.setup_step(BuildoutStep(command=COMMAND))
        expected = ExpectShell(workdir="wkdir", command=COMMAND)
        getattr(expected, stream)(output(name))
        self.expect_commands(expected.exit(exit_code))

    @defer.inlineCallbacks
    def test_a_distribution_that_did_not_build_is_the_summary(self):
        self._buildout("python-ldap-no-headers.txt", 1)
        self.expect_outcome(result=FAILURE, state_string=LDAP)
        self.expect_result_summary({"step": LDAP})
        self.expect_build_result_summary({"step": LDAP, "build": LDAP})
        self.expect_log_file_stderr("stdio", output("python-ldap-no-headers.txt"))
        self.expect_log_file("problem", f"""{LDAP}

From the output:
Getting distribution for 'python-ldap==3.4.0'.
\u00d7 Building wheel for python-ldap (pyproject.toml) did not run successfully.
Modules/common.h:15:10: fatal error: lber.h: No such file or directory
While:
  Installing tools
  Getting distribution for 'python-ldap==3.4.0'
""")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_the_output_is_read_from_stdout_too(self):
        self._buildout("not-found-offline.txt", 1, stream="stdout")
        summary = "distribution not found: buildbot-odoo-no-such-distribution"
        self.expect_outcome(result=FAILURE, state_string=summary)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_git_error_is_the_summary(self):
        self._buildout("git-no-such-repository.txt", 1)
        summary = ("git ls-remote failed (part odoo): fatal: '/tmp/bl/no-such-odoo.git' does "
                   "not appear to be a git repository")
        self.expect_outcome(result=FAILURE, state_string=summary)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_successful_buildout_keeps_its_summary_and_has_no_problem_log(self):
        self._buildout("standin-success.txt", 0)
        self.expect_outcome(result=SUCCESS, state_string="buildout")
        yield self.run_step()
        self.assertNotIn("problem", self.get_nth_step(0).logs)

    @defer.inlineCallbacks
    def test_a_failure_the_output_does_not_explain_keeps_buildbots_summary(self):
        self._buildout("standin-success.txt", -1)  # killed at its end, say
        self.expect_outcome(result=FAILURE, state_string="buildout (failure)")
        yield self.run_step()
        self.assertNotIn("problem", self.get_nth_step(0).logs)

    @defer.inlineCallbacks
    def test_a_problem_read_from_a_successful_run_is_not_told(self):
        """Download errors and such in a run that succeeded (found elsewhere) are no reason."""
        self._buildout("index-unreachable.txt", 0)
        self.expect_outcome(result=SUCCESS, state_string="buildout")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_secret_is_not_shown(self):
        self.setup_step(BuildoutStep(command=COMMAND))
        self.build.properties.useSecret("tok3n", "git-token")
        text = output("git-unreachable-url.txt").replace("127.0.0.1:9/", "tok3n.example.com/")
        self.expect_commands(ExpectShell(workdir="wkdir", command=COMMAND).stderr(text).exit(1))
        summary = ("git ls-remote failed (part odoo): fatal: unable to access "
                   "'http://<git-token>.example.com/odoo.git/': Failed to connect to "
                   "127.0.0.1 port 9 after 0 ms: Couldn't connect to server")
        self.expect_outcome(result=FAILURE, state_string=summary)
        self.expect_log_file("problem", f"""{summary}

From the output:
call ['git', 'ls-remote', 'origin', '17.0']
fatal: unable to access 'http://<git-token>.example.com/odoo.git/': Failed to connect to \
127.0.0.1 port 9 after 0 ms: Couldn't connect to server
While:
  Installing odoo
subprocess.CalledProcessError: Command '['git', 'ls-remote', 'origin', '17.0']' returned \
non-zero exit status 128.
""")
        yield self.run_step()

    def test_no_report_is_made_before_the_step_runs(self):
        """The configuration makes steps, not reports: each run makes its own."""
        step = BuildoutStep(command=COMMAND)
        assert step.report is None
