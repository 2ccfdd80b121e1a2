"""End to end: a custom capability option given by a Buildbot secret's name (SPEC 4).

The seed's RabbitMQ example puts the broker's URL, password included, in a
capability option: ``base_uri=amqp://guest:guest@localhost:5672/``, which would
become the build property ``cap_rabbitmq_base_uri``, readable by anyone through
the REST API.  Here the worker says ``base_uri-secret=rmq-uri`` instead, and
the master's secrets provider (Buildbot's ``SecretInAFile``) holds the URL.

A real master and worker run a build of the stand-in whose own step (a
subfactory of master.cfg, ``env=environ``) writes the ``RMQ_BASE_URI`` it got
to a file and prints it.  The file holds the secret's value: the environment
variable got it on the worker.  The REST API has the secret's *name* as a
property, never the value, nor does anything else the master serves (build,
steps, properties, every log); the step's log and its stdio header show
``<rmq-uri>`` where the value was: the master redacted it, as it does for any
secret rendered through ``util.Secret``.  buildbot-worker writes a command's
environment in clear in its own twistd.log when the step logs it: the steps
whose environment holds the secret do not (``logEnviron`` off), so the
worker's log has no trace of the value either.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from buildbot.process.results import SUCCESS

from tests.support.buildbot_processes import FinishedBuild, Site, standin_site
from tests.support.postgres import PgServer

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

SECRET = "rmq-uri"

#: after the test master's header: secrets from files, the seed's rabbitmq definition and
#: a step showing what the build's commands get
MASTER_CFG = '''\
import os

from buildbot.plugins import secrets, steps

from buildbot_odoo import BuildoutsConfigurator

SEEN = {seen!r}
SHOW = ("import os, sys; uri = os.environ['RMQ_BASE_URI']; "
        "open(sys.argv[1], 'w').write(uri); print('got', uri)")


def show_rmq(configurator, options, buildout_path, environ):
    """TEST ONLY: what the build's commands get as RMQ_BASE_URI."""
    return [steps.ShellCommand(name="show-rmq", command=["python3", "-c", SHOW, SEEN],
                               env=environ, haltOnFailure=True)]


c["secretsProviders"] = [secrets.SecretInAFile(dirname=os.path.join(basedir, "secrets"))]
conf = BuildoutsConfigurator(basedir)
conf.add_capability_environ("rabbitmq", dict(
    version_prop="rabbitmq_version",
    environ={{"RMQ_BASE_URI": "%(cap(base_uri):-)s", "RMQ_BINARY": "%(cap(binary):-)s"}}))
conf.post_buildout_steps["show-rmq"] = show_rmq
conf.populate(c)
'''

MANIFEST_CFG = """\
[queue]
buildout = standalone standin.cfg
build-for = postgresql >= 12
build-requires = rabbitmq >= 3
post-buildout-steps = show-rmq
"""


@pytest.fixture(scope="module")
def broker_uri() -> str:
    """A random password: any occurrence of the URL anywhere is a leak, never a coincidence."""
    return f"amqp://ci:{secrets.token_urlsafe(24)}@127.0.0.1:5672/ci"


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rmq-seen") / "RMQ_BASE_URI"


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer, broker_uri: str, seen: Path):
    root = tmp_path_factory.mktemp("capability-secrets")
    capability = (f"{pg_server.capability_line()}\n"
                  f"             rabbitmq 3.12 base_uri-secret={SECRET} binary=rabbitmqctl")
    made = standin_site(root, pg_server, MASTER_CFG.format(seen=str(seen)), MANIFEST_CFG,
                        capability=capability)
    directory = made.master.directory / "secrets"
    directory.mkdir(mode=0o700)
    (directory / SECRET).write_text(broker_uri)
    (directory / SECRET).chmod(0o600)  # SecretInAFile refuses files others may read
    with made:
        yield made


@pytest.fixture(scope="module")
def build(site: Site) -> FinishedBuild:
    (builder,) = [b["name"] for b in site.api.builders() if b["name"].startswith("queue-")]
    return site.api.build(builder)


def test_the_command_gets_the_secret_value(build: FinishedBuild, seen: Path, broker_uri: str):
    assert build.result == SUCCESS, build.explain()
    assert build.step("show-rmq")["results"] == SUCCESS, build.explain()
    assert seen.read_text() == broker_uri


def test_the_step_log_shows_it_redacted(build: FinishedBuild, broker_uri: str):
    log = build.log("show-rmq")
    assert f"got <{SECRET}>" in log.splitlines(), log
    # the stdio header names the command, not the environment holding the secret
    assert " argv: " in log and "RMQ_BASE_URI=" not in log and "RMQ_BINARY=" not in log, log
    assert broker_uri not in log


def test_the_workers_own_log_has_no_trace_of_it(site: Site, build: FinishedBuild,
                                               broker_uri: str):
    worker_log = (site.workers[0].directory / "twistd.log").read_text(errors="replace")
    assert " argv: " in worker_log  # the worker did log the build's commands
    assert "show-rmq" in {s["name"] for s in build.steps}
    password = broker_uri.split(":")[2].split("@")[0]
    assert password not in worker_log


def test_properties_hold_the_secret_name_never_its_value(build: FinishedBuild,
                                                         broker_uri: str):
    assert build.properties["cap_rabbitmq_base_uri_secret"] == SECRET
    assert build.properties["rabbitmq_version"] == "3.12"
    assert "cap_rabbitmq_base_uri" not in build.properties
    assert broker_uri not in json.dumps(build.properties)


def test_the_value_appears_nowhere_the_master_serves(site: Site, build: FinishedBuild,
                                                    broker_uri: str):
    api = site.api
    buildid = build.data["buildid"]
    texts = {path: json.dumps(api.get(path))
             for path in ("/workers", "/builders", "/buildrequests", "/buildsets",
                          f"/builds/{buildid}", f"/builds/{buildid}/properties",
                          f"/builds/{buildid}/steps")}
    for step in api.steps(buildid):
        for log in api.get(f"/steps/{step['stepid']}/logs")["logs"]:
            texts[f"step {step['name']} log {log['name']}"] = api.raw(f"/logs/{log['logid']}/raw")
    texts["master twistd.log"] = site.master.log.read_text(errors="replace")
    assert "step show-rmq log stdio" in texts and "step capabilities log capabilities" in texts
    password = broker_uri.split(":")[2].split("@")[0]
    assert [where for where, text in texts.items() if password in text] == []
