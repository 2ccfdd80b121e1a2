"""BuildoutsConfigurator.populate on the sample master directory (SPEC 1, 2, 9)."""

from __future__ import annotations

import shutil

import pytest
from buildbot.process.properties import Secret

from buildbot_odoo import BuildoutsConfigurator, ConfigError, configure_from_buildouts
from buildbot_odoo.master.builders import PriorityNextWorker
from buildbot_odoo.master.steps.capability import SetCapabilityProperties

from ..conftest import DATA


@pytest.fixture
def master_dir(tmp_path):
    target = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", target)
    return target


def populate(master_dir, config=None, **kwargs):
    config = {} if config is None else config
    conf = BuildoutsConfigurator(master_dir, **kwargs)
    conf.add_capability_environ("rabbitmq", {"version_prop": "rabbitmq_version",
                                             "environ": {"RMQ_BASE_URI": "%(cap(base_uri):-)s"}})
    conf.populate(config)
    return conf, config


def test_populate_appends_workers_and_builders(master_dir):
    mine = object()
    _, config = populate(master_dir, {"builders": [mine], "workers": []})
    assert config["builders"][0] is mine
    names = sorted(b.name for b in config["builders"][1:])
    assert names == ["base-pg15", "base-pg18", "queue-pg15", "sale-pg15", "sale-pg18", "ui"]
    by_name = {b.name: b for b in config["builders"][1:]}
    assert sorted(by_name["base-pg15"].workernames) == ["alpha", "beta"]
    assert by_name["base-pg18"].workernames == ["alpha"]
    assert by_name["queue-pg15"].workernames == ["beta"]
    assert by_name["ui"].workernames == ["gamma"]
    # build_requires: the requirement lines, a builder property as in anybox.buildbot.odoo
    assert by_name["ui"].properties == {"pg_version": "not-used",
                                        "build_requires": ["selenium-server"]}
    assert by_name["sale-pg18"].properties == {"pg_version": "18"}
    assert by_name["sale-pg18"].tags == ["odoo"]
    assert isinstance(by_name["sale-pg18"].nextWorker, PriorityNextWorker)
    for key in ("schedulers", "change_source"):
        assert isinstance(config[key], list)


def test_reserved_worker_takes_a_build_only_when_it_requires_the_capability(master_dir):
    # gamma alone has postgresql 9.2devel, but it is build-only-if-requires selenium-server:
    # sale-legacy does not require it, so it gets no builder -- until the manifest says so.
    conf, config = populate(master_dir)
    assert "sale-legacy-pg9.2devel" not in [b.name for b in config["builders"]]
    assert "build-only-if-requires: gamma" in {
        u.build.name: u.reason for u in conf.plan.dispatch.unassigned}["sale-legacy"]
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "build-for = postgresql < 10",
        "build-for = postgresql < 10\nbuild-requires = selenium-server"))
    _, config = populate(master_dir)
    legacy = {b.name: b for b in config["builders"]}["sale-legacy-pg9.2devel"]
    assert legacy.workernames == ["gamma"]


def test_workers_properties_without_password(master_dir):
    _, config = populate(master_dir)
    workers = {w.name: w for w in config["workers"]}
    assert sorted(workers) == ["alpha", "beta", "gamma"]
    alpha = workers["alpha"]
    props = alpha.properties.asDict()
    assert props["capability"][0]["postgresql"]["18"] == {
        "port": "5434", "host": "/tmp/pg18", "bin": "/opt/pg18/bin", "lib": "/opt/pg18/lib"}
    assert props["db_prefix"][0] == "sample"
    assert "alpha-secret" not in repr(props)
    assert alpha.max_builds == 2
    assert workers["beta"].notify_on_missing == ["ops@example.com", "dev@example.com"]
    assert workers["beta"].properties.getProperty("arch") == "amd64"


def test_secret_worker_password(master_dir):
    text = (master_dir / "workers.cfg").read_text().replace(
        "password = alpha-secret", "password = secret:alpha_pw")
    (master_dir / "workers.cfg").write_text(text)
    _, config = populate(master_dir)
    alpha = next(w for w in config["workers"] if w.name == "alpha")
    assert isinstance(alpha.password, Secret) and alpha.password.secret_name == "alpha_pw"


def test_password_secret_adds_the_secret_file_steps_where_used(master_dir):
    workers = master_dir / "workers.cfg"
    workers.write_text(workers.read_text().replace(
        "lib=/opt/pg18/lib", "lib=/opt/pg18/lib user=ci password-secret=pg18-ci"))
    _, config = populate(master_dir)
    builders = {b.name: b for b in config["builders"]}
    names = {b.name: [f.kwargs.get("name") or f.step_class.name for f in b.factory.steps]
             for b in config["builders"]}
    for builder in ("base-pg18", "sale-pg18"):  # alpha's pg18 line names a secret
        steps = names[builder]
        assert steps[steps.index("capabilities") + 1] == "capability-secrets", steps
        # removed last: the final clean-ups (drop-testing-database) need the password
        assert steps[-2:] == ["drop-testing-database", "remove-capability-secrets"], steps
        remove = builders[builder].factory.steps[-1]
        assert remove.kwargs["alwaysRun"] is True
        # the build's pg15 builder shares the factory: there the steps skip themselves,
        # hidden, as on any worker of the builder whose capability line names no secret
        sibling = builders[builder.replace("pg18", "pg15")]
        assert sibling.factory is builders[builder].factory
        write = sibling.factory.steps[steps.index("capability-secrets")]
        assert write.kwargs["hideStepIf"] and write.kwargs["doStepIf"]
    for builder in ("queue-pg15", "ui"):  # no secret for their builds
        assert not {"capability-secrets", "remove-capability-secrets"} & set(names[builder])


def test_factory_resolves_capabilities(master_dir):
    _, config = populate(master_dir)
    queue = next(b for b in config["builders"] if b.name == "queue-pg15")
    step = next(s for s in queue.factory.steps if s.step_class is SetCapabilityProperties)
    uses = step.kwargs.get("uses") or step.args[0]
    # postgresql: the version of the builder running the build, 15 for this one
    assert [(u.name, u.from_builder, str(u.requirement or "")) for u in uses] == [
        ("postgresql", True, ""), ("rabbitmq", False, "rabbitmq >= 2.8")]
    assert queue.properties["pg_version"] == "15"


def test_errors_leave_config_untouched(master_dir):
    (master_dir / "workers.cfg").write_text("[w]\ncapability = postgresql x.y\n")
    config = {"builders": ["mine"]}
    with pytest.raises(ConfigError) as info:
        populate(master_dir, config)
    text = str(info.value)
    assert "workers.cfg:1: w: missing required option 'password'" in text
    assert "workers.cfg:2: w: capability:" in text and "'x.y'" in text
    assert config == {"builders": ["mine"]}


def test_bad_capability_definition_is_a_config_error(master_dir):
    conf = BuildoutsConfigurator(master_dir)
    with pytest.raises(ConfigError, match="RMQ"):
        conf.add_capability_environ("rabbitmq", {"environ": {"RMQ": "100%"}})


def test_configure_from_buildouts_and_custom_paths(master_dir):
    (master_dir / "buildouts" / "MANIFEST.cfg").rename(master_dir / "builds.cfg")
    (master_dir / "buildouts" / "sample.cfg").rename(master_dir / "sample.cfg")
    config = {}
    conf = configure_from_buildouts(master_dir, config, manifest_paths=["builds.cfg"],
                                    workers_path=master_dir / "workers.cfg")
    assert conf.plan is not None
    # rabbitmq has no definition here: the default one names it after itself
    assert "queue-pg15" in [b.name for b in config["builders"]]


class FakeWFB:
    def __init__(self, name):
        self.worker = type("W", (), {"workername": name})()


def test_priority_next_worker():
    chooser = PriorityNextWorker({"a": 1.0, "b": 5.0, "c": 5.0})
    workers = [FakeWFB("a"), FakeWFB("b"), FakeWFB("c")]
    picked = {chooser(None, workers, None).worker.workername for _ in range(50)}
    assert picked == {"b", "c"}
    assert chooser(None, [FakeWFB("a")], None).worker.workername == "a"
    assert chooser(None, [], None) is None


def test_populate_reports_the_factory_problems_of_every_build_at_once(master_dir):
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[sale]\n", "[sale]\ndb-steps = pg_remote_copy\n").replace(
        "[queue]\n", "[queue]\ndb-steps = pg_remote_copy\n"))
    config: dict = {}
    with pytest.raises(ConfigError) as raised:
        populate(master_dir, config)
    assert [(p.section, p.option) for p in raised.value.problems] == [
        ("sale", "pg_remote_copy.arguments"), ("queue", "pg_remote_copy.arguments")]
    assert config == {}


def test_collecting_mode_records_the_configurator_instead_of_raising(master_dir):
    from buildbot_odoo.master.configurator import collecting_configurators

    (master_dir / "workers.cfg").write_text("[a]\nmax_builds = 0\n")
    config: dict = {}
    with collecting_configurators() as found:
        conf = BuildoutsConfigurator(master_dir)
        conf.populate(config)
    assert found == [conf] and config == {}
    assert [p.message for p in conf.plan.problems.errors] == [
        "missing required option 'password'", "'0' is out of range: from 1 to 1000"]
    with pytest.raises(ConfigError):  # outside the block: the usual refusal
        conf.populate(config)


def test_populate_keeps_the_users_tuples_and_single_change_source(master_dir):
    # Buildbot accepts a tuple for each of these lists, and one change source alone
    mine_worker, mine_builder, mine_scheduler, mine_poller = (object() for _ in range(4))
    config = {"workers": (mine_worker,), "builders": (mine_builder,),
              "schedulers": (mine_scheduler,), "change_source": mine_poller}
    populate(master_dir, config)
    assert config["workers"][0] is mine_worker and len(config["workers"]) == 4
    assert config["builders"][0] is mine_builder and len(config["builders"]) == 7
    assert config["schedulers"][0] is mine_scheduler and len(config["schedulers"]) > 1
    assert config["change_source"][0] is mine_poller
    for key in ("workers", "builders", "schedulers", "change_source"):
        assert isinstance(config[key], list)
        assert not any(isinstance(item, tuple) for item in config[key])


def test_one_manifest_path_given_as_a_string_is_one_path(master_dir):
    # manifest_paths="buildouts/MANIFEST.cfg" must not be read as 22 one-letter files
    _, by_tuple = populate(master_dir)
    conf, by_string = populate(master_dir, manifest_paths="buildouts/MANIFEST.cfg")
    assert not conf.plan.problems.errors
    assert [b.name for b in by_string["builders"]] == [b.name for b in by_tuple["builders"]]
    conf, by_path = populate(master_dir, manifest_paths=master_dir / "buildouts" / "MANIFEST.cfg")
    assert [b.name for b in by_path["builders"]] == [b.name for b in by_tuple["builders"]]


def test_populate_refuses_names_already_taken_in_the_users_config(master_dir):
    # Buildbot would refuse these duplicates itself, naming neither file nor line
    from buildbot.config import BuilderConfig
    from buildbot.plugins import schedulers, util, worker

    factory = util.BuildFactory()
    config = {"workers": [worker.Worker("alpha", "pw")],
              "builders": [BuilderConfig(name="sale-pg15", workernames=["alpha"],
                                         factory=factory),
                           BuilderConfig(name="mine", builddir="base-pg15",
                                         workernames=["alpha"], factory=factory)],
              # a 'force' of the user's own is fine (anybox.buildbot.odoo's sample had one);
              # ours again is a second configurator
              "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["x"]),
                             schedulers.ForceScheduler(name="buildbot-odoo-force",
                                                       builderNames=["x"])]}
    before = {key: list(value) for key, value in config.items()}
    with pytest.raises(ConfigError) as raised:
        populate(master_dir, config)
    assert [str(p) for p in raised.value.problems] == [
        "workers.cfg:4: alpha: worker name 'alpha' is already used by a worker in "
        "c['workers'] (master.cfg)",
        "buildouts/MANIFEST.cfg:4: base: builder 'base-pg15' would share the directory "
        "'base-pg15' with builder 'mine' of c['builders'] (master.cfg)",
        "buildouts/MANIFEST.cfg:8: sale: builder name 'sale-pg15' is already used by a "
        "builder in c['builders'] (master.cfg)",
        "master.cfg: scheduler name 'buildbot-odoo-force' is already used by a scheduler in "
        "c['schedulers'] (a second configurator? give one configurator every manifest: "
        "manifest_paths takes several)",
    ]
    assert config == before


def test_a_second_configurator_on_other_files_is_refused_cleanly(master_dir):
    config: dict = {}
    populate(master_dir, config)
    with pytest.raises(ConfigError, match="scheduler name 'buildbot-odoo-force' is already used"):
        populate(master_dir, config)


def test_odoo_steps_on_a_build_without_database_are_refused(master_dir):
    # 'ui' says postgresql not-used: Odoo's -d would get no database ('-d None')
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "post-buildout-steps = pytest\n",
        "post-buildout-steps = install-modules-test pytest update-modules\n"))
    with pytest.raises(ConfigError) as raised:
        populate(master_dir)
    assert [str(p) for p in raised.value.problems] == [
        "buildouts/MANIFEST.cfg:24: ui: post-buildout-steps: install-modules-test, "
        "update-modules run Odoo on the testing database, and build-for says postgresql "
        "not-used (no database is made): list only steps that need no database (the "
        "default, install-modules-test, needs one), or build for postgresql"]


def test_the_default_odoo_step_on_a_build_without_database_is_refused(master_dir):
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace("post-buildout-steps = pytest\n", ""))
    with pytest.raises(ConfigError) as raised:
        populate(master_dir)
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.section, problem.option) == (
        "buildouts/MANIFEST.cfg", 20, "ui", "post-buildout-steps")
    assert problem.message.startswith("install-modules-test runs Odoo on the testing database")


def test_database_options_on_a_build_without_database_are_warned_about(master_dir):
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "build-for = postgresql not-used\n",
        "build-for = postgresql not-used\ndb_template = template0\ndb-steps = pg_remote_copy\n"
        "pg_remote_copy.arguments = prod\n"))
    conf = BuildoutsConfigurator(master_dir)
    plan = conf.load()
    why = "is ignored: build-for says postgresql not-used, so no testing database is made"
    assert [str(p) for p in plan.problems if p.section == "ui"] == [
        f"buildouts/MANIFEST.cfg:23: ui: db_template: warning: {why}",
        f"buildouts/MANIFEST.cfg:24: ui: db-steps: warning: {why}",
        f"buildouts/MANIFEST.cfg:25: ui: pg_remote_copy.arguments: warning: {why}",
    ]


def test_populate_raises_our_config_error_as_buildbots_own(master_dir):
    from buildbot.config.errors import ConfigErrors

    (master_dir / "workers.cfg").write_text("[w]\ncapability = postgresql x.y\n")
    with pytest.raises(ConfigErrors) as raised:
        populate(master_dir)
    assert isinstance(raised.value, ConfigError)
    assert raised.value.errors == [str(p) for p in raised.value.problems]
    assert raised.value.errors[0] == "workers.cfg:1: w: missing required option 'password'"
    with pytest.raises(ConfigErrors):
        BuildoutsConfigurator(master_dir).add_capability_environ("x", {"environ": {"A B": "1"}})


def test_a_misspelled_configurator_setting_is_warned_about(master_dir):
    # conf.tree_stabel_timer = 60 would otherwise be ignored without a word
    conf = BuildoutsConfigurator(master_dir)
    conf.tree_stabel_timer = 60
    conf.pollinterval = 10
    conf.my_own_data = {"used by": "my subfactory"}
    plan = conf.load()
    assert [str(p) for p in plan.problems if p.file == "master.cfg"] == [
        "master.cfg: pollinterval: warning: not a setting of BuildoutsConfigurator, so it "
        "changes nothing: did you mean 'poll_interval'?",
        "master.cfg: tree_stabel_timer: warning: not a setting of BuildoutsConfigurator, so "
        "it changes nothing: did you mean 'tree_stable_timer'?",
    ]
