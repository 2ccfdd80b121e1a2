"""The examples of docs/worker-setup.md (the seed's worker-setup.rst, updated) work as written.

Each fenced block of the document tagged ``ini workers.cfg``, ``ini MANIFEST.cfg``
or ``python master.cfg`` is read here: the workers.cfg fragments parse without a
single problem, they dispatch the manifest fragments as the document says, and
the RabbitMQ snippet, run as a master.cfg, gives the builds the environment the
document promises.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from buildbot.process.properties import Properties
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.capability.resolve import resolve
from buildbot_odoo.capability.templates import property_name
from buildbot_odoo.capability.versions import Version
from buildbot_odoo.cli import main
from buildbot_odoo.config.workers import load_workers
from buildbot_odoo.errors import Problems
from buildbot_odoo.master.factory import capability_uses
from buildbot_odoo.master.steps.capability import CapabilityEnvironment, SetCapabilityProperties
from buildbot_odoo.planning import make_plan

DOC = Path(__file__).resolve().parents[2] / "docs" / "worker-setup.md"
_BLOCK = re.compile(r"^```(?P<lang>\w+) (?P<kind>\S+)\n(?P<body>.*?)^```$", re.M | re.S)


def blocks(kind: str) -> list[str]:
    found = [m["body"] for m in _BLOCK.finditer(DOC.read_text()) if m["kind"] == kind]
    assert found, f"no '{kind}' example in {DOC}"
    return found


def write_master(directory: Path) -> Path:
    """A master directory holding every example of the document."""
    (directory / "buildouts").mkdir(parents=True)
    (directory / "workers.cfg").write_text("\n".join(blocks("workers.cfg")))
    (directory / "buildouts" / "MANIFEST.cfg").write_text("\n".join(blocks("MANIFEST.cfg")))
    for name in ("private.cfg", "queue.cfg"):
        (directory / "buildouts" / name).write_text("[buildout]\nparts =\n")
    (directory / "master.cfg").write_text(blocks("master.cfg")[0])
    return directory


def unexpected(problems) -> list[str]:
    """Every problem but the warning the seed's RabbitMQ example gets, deliberately:
    ``base_uri=amqp://guest:guest@...`` is a URL's password in a build property."""
    return [str(p) for p in problems
            if not (p.severity == "warning" and "base_uri=amqp://guest:<hidden>@" in p.message
                    and "base_uri-secret=NAME" in p.message)]


def test_every_workers_fragment_parses_without_a_problem(tmp_path):
    warned = 0
    for index, text in enumerate(blocks("workers.cfg")):
        path = tmp_path / f"workers{index}.cfg"
        path.write_text(text)
        problems = Problems()
        assert load_workers(path, problems), text
        assert unexpected(problems) == []
        warned += len(list(problems))
    assert warned == 1  # the RabbitMQ example, and nothing else


def test_seed_capability_lines_as_written(tmp_path):
    text = blocks("workers.cfg")[0]
    assert "\n\t" in text, "the seed's example indents some lines with a tab"
    path = tmp_path / "workers.cfg"
    path.write_text(text)
    (worker,) = load_workers(path, Problems())
    assert worker.capability_property() == {
        "postgresql": {"8.4": {}, "9.1": {"port": "5433"}},
        "private-bzr+ssh-access": {None: {}},
        "selenium-server": {"2.3": {}},
    }


def test_postgresql_examples_declare_their_cluster(tmp_path):
    path = tmp_path / "workers.cfg"
    path.write_text("\n".join(blocks("workers.cfg")))
    workers = {w.name: w for w in load_workers(path, Problems())}
    (devel,) = [d for d in workers["pg-host"].declarations("postgresql")
                if d.version == Version("9.2-devel")]
    assert str(devel.version) == "9.2devel"
    assert devel.options == {"bin": "/opt/postgresql/bin", "lib": "/opt/postgresql/lib",
                             "port": "5434"}
    (socket,) = workers["pg-host-socket"].declarations("postgresql")
    assert socket.options["host"] == "/opt/postgresql/run"


def doc_plan(master: Path):
    capabilities = {**builtin_capabilities(), "rabbitmq": {"version_prop": "rabbitmq_version"}}
    plan = make_plan(master, ["buildouts/MANIFEST.cfg"], "workers.cfg", capabilities,
                     ["install-modules-test"])
    assert unexpected(plan.problems) == []
    return {b.name: sorted(b.workers) for b in plan.dispatch.builders}


def test_examples_dispatch_as_the_document_says(tmp_path):
    assert doc_plan(write_master(tmp_path)) == {
        # build-requires=private-bzr+ssh-access: the only worker declaring it
        "private-addons": ["my-worker"],
        # build-for = postgresql >= 9.1 and build-requires = rabbitmq >= 2.8
        "queue-jobs-pg15": ["rabbit-host"],
    }


def test_reserved_worker_takes_only_builds_requiring_its_capability(tmp_path):
    master = write_master(tmp_path)
    with (master / "buildouts" / "MANIFEST.cfg").open("a") as manifest:
        manifest.write("\n[ui-tests]\nbuildout = standalone private.cfg\n"
                       "build-for = postgresql >= 9.1\nbuild-requires = selenium\n"
                       "\n[any-pg]\nbuildout = standalone private.cfg\n"
                       "build-for = postgresql >= 9.1\n")
    builders = doc_plan(master)
    assert builders["ui-tests-pg15"] == ["myworker"]
    # myworker has PostgreSQL 15 too, but takes only builds requiring selenium
    assert {name: workers for name, workers in builders.items()
            if name.startswith("any-pg")} == {
        "any-pg-pg9.1": ["my-worker", "pg-host"],
        "any-pg-pg9.2devel": ["pg-host", "pg-host-socket"],
        "any-pg-pg15": ["rabbit-host"],
    }


def test_the_seed_shorthand_without_equal_sign_is_reported(tmp_path, capsys):
    master = write_master(tmp_path)
    (master / "workers.cfg").write_text(
        "[pg-host]\npassword = x\ncapability postgresql 9.1 port=5433\n")
    assert main(["check", str(master)]) == 1
    assert ("workers.cfg:3: pg-host: 'capability postgresql 9.1 port' is not an option nor a "
            "property name (did you mean 'capability = postgresql 9.1 port=5433'?)"
            in capsys.readouterr().out.splitlines())


def test_whole_example_master_passes_check(tmp_path, capsys):
    assert main(["check", str(write_master(tmp_path))]) == 0, capsys.readouterr().out


class RabbitMQSnippetTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """The corrected RabbitMQ snippet, run as the master.cfg it is."""

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.master_dir = write_master(tmp_path)

    def run_master_cfg(self) -> dict:
        namespace = {"basedir": str(self.master_dir)}
        exec(compile(blocks("master.cfg")[0], "master.cfg", "exec"), namespace)
        return namespace

    @defer.inlineCallbacks
    def test_rabbitmq_capability_reaches_the_environment(self):
        namespace = self.run_master_cfg()
        conf, config = namespace["abo_conf"], namespace["BuildmasterConfig"]
        assert "queue-jobs-pg15" in [b.name for b in config["builders"]]
        (builder,) = [b for b in conf.plan.dispatch.builders if b.name == "queue-jobs-pg15"]
        (worker,) = [w for w in conf.plan.workers if w.name == "rabbit-host"]
        props = Properties()
        for use in capability_uses(builder):  # what the capabilities step sets on rabbit-host
            resolved = resolve(worker.capability_property(), use)
            for option, value in resolved.options.items():
                props.setProperty(property_name(use.name, option), value, "Capability")
        self.setup_step(SetCapabilityProperties([], {}))  # gives the test a build
        props.build = self.build
        props.master = self.master
        self.build.workerforbuilder.worker.worker_environ = {"PATH": "/usr/bin"}
        definitions = [conf.plan.definitions["rabbitmq"]]
        env = yield props.render(CapabilityEnvironment(definitions))
        self.assertEqual(env, {"RMQ_BASE_URI": "amqp://guest:guest@localhost:5672/",
                               "RMQ_BINARY": "rabbitmqctl", "AMQP_CTL_SUDO": "True"})
