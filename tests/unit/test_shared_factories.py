"""A build's builders share one factory; what differs reaches the steps at build time (issue 16).

On the sample master directory: ``base`` and ``sale`` are split by
PostgreSQL (15 and 18: two builders each), ``queue`` and ``ui`` have one
builder each.
"""

from __future__ import annotations

import shutil

import pytest
from buildbot.process.properties import Properties

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.reports import odoo_log

from ..conftest import DATA


@pytest.fixture
def master_dir(tmp_path):
    target = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", target)
    return target


def populate(master_dir, **subfactories):
    conf = BuildoutsConfigurator(master_dir)
    conf.add_capability_environ("rabbitmq", {"version_prop": "rabbitmq_version",
                                             "environ": {"RMQ_BASE_URI": "%(cap(base_uri):-)s"}})
    conf.post_buildout_steps.update(subfactories)
    config: dict = {}
    conf.populate(config)
    return conf, {b.name: b for b in config["builders"]}


def step_named(builder, name: str):
    return next(s for s in builder.factory.steps if s.kwargs.get("name") == name)


def use_subfactory(master_dir, name: str, build: str = "sale") -> None:
    """The build lists ``name`` among its post-buildout-steps."""
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        f"[{build}]\n", f"[{build}]\npost-buildout-steps = install-modules-test {name}\n"))


def test_a_builds_builders_share_one_factory(master_dir):
    _, builders = populate(master_dir)
    assert builders["base-pg15"].factory is builders["base-pg18"].factory
    assert builders["sale-pg15"].factory is builders["sale-pg18"].factory
    factories = {id(b.factory) for b in builders.values()}
    assert len(factories) == 4  # base, sale, queue, ui
    # what differs is each builder's own: its properties, given to its builds
    assert builders["sale-pg15"].properties["pg_version"] == "15"
    assert builders["sale-pg18"].properties["pg_version"] == "18"


def test_the_shared_testing_db_step_names_each_builders_database(master_dir):
    _, builders = populate(master_dir)
    step = step_named(builders["sale-pg15"], "testing-database")
    assert step is step_named(builders["sale-pg18"], "testing-database")
    value = step.kwargs["value"]
    for builder in ("sale-pg15", "sale-pg18"):
        props = Properties(db_prefix="sample", buildername=builder)
        assert props.render(value).result == f"sample-{builder}"


def test_subfactories_are_called_once_per_build(master_dir):
    calls = []

    def probe(configurator, options, buildout_path, environ):
        calls.append((options.build.name, options.plan.build.name,
                      sorted(b.name for b in options.plan.builders)))
        return []

    use_subfactory(master_dir, "probe")
    _, builders = populate(master_dir, probe=probe)
    assert calls == [("sale", "sale", ["sale-pg15", "sale-pg18"])]
    assert builders["sale-pg15"].factory is builders["sale-pg18"].factory


def test_no_log_analyser_is_made_when_the_configuration_loads(master_dir, monkeypatch):
    made = []
    original = odoo_log.OdooLogAnalyzer.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(odoo_log.OdooLogAnalyzer, "__init__", counting)
    _, builders = populate(master_dir)
    assert any(s.kwargs.get("name") == "odoo-tests" for s in builders["sale-pg15"].factory.steps)
    assert made == []


def test_a_subfactory_reading_a_builders_name_still_gets_each_builders(master_dir):
    # written when each builder had a factory of its own: it still gets its own builder's
    # name, at the price of a factory per builder, and a warning naming the reader
    def per_builder(configurator, options, buildout_path, environ):
        from buildbot.plugins import steps
        return [steps.ShellCommand(command=["echo", options.plan.name], name="echo")]

    use_subfactory(master_dir, "per-builder")
    conf, builders = populate(master_dir, **{"per-builder": per_builder})
    for name in ("sale-pg15", "sale-pg18"):
        assert step_named(builders[name], "echo").kwargs["command"] == ["echo", name]
    assert builders["sale-pg15"].factory is not builders["sale-pg18"].factory
    assert builders["base-pg15"].factory is builders["base-pg18"].factory  # not listing it
    [warning] = [p for p in conf.plan.problems if "own value" in p.message]
    assert not warning.is_error and warning.section == "sale"
    assert "options.plan.name by " in warning.message
    assert "per_builder" in warning.message
    assert "each of the 2 builders of the build gets a factory of its own" in warning.message


def test_reading_what_every_builder_shares_keeps_one_factory(master_dir):
    def shared(configurator, options, buildout_path, environ):
        from buildbot.plugins import steps
        words = [options.build.name, *sorted(options.plan.not_used),
                 *options.plan.used_capabilities(), *options.plan.split_by]
        return [steps.ShellCommand(command=["echo", *words], name="echo")]

    use_subfactory(master_dir, "shared")
    conf, builders = populate(master_dir, shared=shared)
    assert builders["sale-pg15"].factory is builders["sale-pg18"].factory
    assert step_named(builders["sale-pg15"], "echo").kwargs["command"] == [
        "echo", "sale", "postgresql", "postgresql"]
    assert not [p for p in conf.plan.problems if "own value" in p.message]


def test_a_build_with_one_builder_reading_its_name_is_not_warned_about(master_dir):
    def per_builder(configurator, options, buildout_path, environ):
        from buildbot.plugins import steps
        return [steps.ShellCommand(command=["echo", options.plan.name], name="echo")]

    use_subfactory(master_dir, "per-builder", build="queue")
    conf, builders = populate(master_dir, **{"per-builder": per_builder})
    assert step_named(builders["queue-pg15"], "echo").kwargs["command"] == [
        "echo", "queue-pg15"]
    assert not [p for p in conf.plan.problems if "own value" in p.message]
