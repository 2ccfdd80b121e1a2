"""The scheduling edge: Buildbot pollers and schedulers made from the watch model (SPEC 7)."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest
from buildbot.changes.gitpoller import GitPoller
from buildbot.changes.hgpoller import HgPoller
from buildbot.schedulers.basic import SingleBranchScheduler
from buildbot.schedulers.forcesched import ForceScheduler, ValidationErrorCollector

from buildbot_odoo import BuildoutsConfigurator, ConfigError
from buildbot_odoo.master.scheduling import FORCE_SCHEDULER, WatchedBranchesFilter

GIT = "https://git.example.org/team/addons.git"
HG = "https://hg.example.org/hgaddons"
MANIFEST = f"""
[addons-17]
watch = git {GIT} 17.0

[sale]
inherit = addons-17
buildout = standalone b.cfg
build-for = postgresql >= 15
watch = git {GIT} 17.0
        hg {HG} stable
tree-stable-timer = 30

[stock]
buildout = standalone b.cfg
watch = git https://mirror.example.org/addons.git main

[quiet]
buildout = standalone b.cfg
watch =
"""


@pytest.fixture
def master_dir(tmp_path):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(MANIFEST))
    (tmp_path / "workers.cfg").write_text(
        "[w]\npassword = x\ncapability = postgresql 15\n  postgresql 16\n")
    return tmp_path


def populate(master_dir, **attributes):
    conf = BuildoutsConfigurator(master_dir)
    for name, value in attributes.items():
        setattr(conf, name, value)
    config: dict = {}
    conf.populate(config)
    return conf, config


def change(repository: str, branch: str):
    return SimpleNamespace(repository=repository, branch=branch)


def test_one_buildbot_poller_per_distinct_branch(master_dir):
    _, config = populate(master_dir, poll_interval=42, vcs_master_url_rewrite_rules=[
        ("https://mirror.example.org/", "https://git.example.org/team/")])
    pollers = {p.name: p for p in config["change_source"]}
    assert sorted(pollers) == [f"git {GIT} 17.0", f"git {GIT} main", f"hg {HG} stable"]
    git17, gitmain, hg = (pollers[f"git {GIT} 17.0"], pollers[f"git {GIT} main"],
                          pollers[f"hg {HG} stable"])
    assert isinstance(git17, GitPoller) and isinstance(hg, HgPoller)
    config_of = {name: dict(p._config_kwargs, repourl=(p._config_args or [None])[0]
                            or p._config_kwargs.get("repourl"))
                 for name, p in pollers.items()}
    for kwargs in config_of.values():
        assert kwargs["pollInterval"] == 42 and kwargs["pollAtLaunch"] is True
    workdirs = [kwargs["workdir"] for kwargs in config_of.values()]
    assert len(set(workdirs)) == 3 and all(w.startswith("pollers/") for w in workdirs)
    git17, gitmain, hg = (config_of[git17.name], config_of[gitmain.name], config_of[hg.name])
    assert git17["branches"] == ["17.0"] and gitmain["branches"] == ["main"]
    assert hg["branches"] == ["stable"] and hg["repourl"] == HG
    assert gitmain["repourl"] == GIT  # polled at the rewritten URL
    assert git17["project"] == "addons"


def test_one_scheduler_per_watching_build_and_the_force_scheduler(master_dir):
    _, config = populate(master_dir, tree_stable_timer=5)
    schedulers = {s.name: s for s in config["schedulers"]}
    assert sorted(schedulers) == ["buildbot-odoo-force", "watch-sale", "watch-stock"]
    sale = schedulers["watch-sale"]
    assert isinstance(sale, SingleBranchScheduler)
    assert sale.builderNames == ["sale-pg15", "sale-pg16"]
    assert sale._config_kwargs["treeStableTimer"] == 30
    assert schedulers["watch-stock"]._config_kwargs["treeStableTimer"] == 5
    force = schedulers["buildbot-odoo-force"]
    assert isinstance(force, ForceScheduler)
    assert sorted(force.builderNames) == ["quiet", "sale-pg15", "sale-pg16", "stock"]
    assert force._config_kwargs["reason"].name == "reason"


def test_filter_accepts_exactly_the_watched_pairs(master_dir):
    _, config = populate(master_dir)
    sale = next(s for s in config["schedulers"] if s.name == "watch-sale")
    accepts = sale._config_kwargs["change_filter"].filter_change
    assert accepts(change(GIT, "17.0")) and accepts(change(HG, "stable"))
    assert not accepts(change(GIT, "stable"))   # a watched repository, another branch
    assert not accepts(change(HG, "17.0"))
    assert not accepts(change(GIT, "main"))
    assert not accepts(change("https://elsewhere/addons.git", "17.0"))


def test_filters_compare_by_value_so_reconfigs_keep_schedulers():
    one = WatchedBranchesFilter([("a", "main"), ("b", "17.0")])
    assert one == WatchedBranchesFilter([("b", "17.0"), ("a", "main")])
    assert one != WatchedBranchesFilter([("a", "main")])
    assert "a main" in repr(one)


def test_change_filter_for_a_watch_only_section(master_dir):
    conf, _ = populate(master_dir)
    accepts = conf.change_filter("addons-17").filter_change
    assert accepts(change(GIT, "17.0")) and not accepts(change(GIT, "main"))
    with pytest.raises(KeyError, match="quiet"):
        conf.change_filter("quiet")


def test_change_filter_before_populate_says_so(master_dir):
    with pytest.raises(RuntimeError, match="populate"):
        BuildoutsConfigurator(master_dir).change_filter("addons-17")


@pytest.mark.parametrize("interval", [0, -5, "300", 2.5, True, 10 ** 27, 604801])
def test_bad_poll_interval_is_a_config_error_and_config_is_untouched(master_dir, interval):
    config = {"schedulers": ["mine"]}
    conf = BuildoutsConfigurator(master_dir)
    conf.poll_interval = interval
    with pytest.raises(ConfigError, match=r"master\.cfg: poll_interval: .* is not a number "
                       r"of seconds \(a whole number, from 1 to 604800; -1: no polling\)"):
        conf.populate(config)
    assert config == {"schedulers": ["mine"]}


def test_bad_rewrite_rules_are_reported_by_load_for_the_cli(master_dir):
    conf = BuildoutsConfigurator(master_dir)
    conf.vcs_master_url_rewrite_rules = [("https://x/",)]
    plan = conf.load()
    assert [str(p) for p in plan.problems.errors] == [
        "master.cfg: vcs_master_url_rewrite_rules: rule 1 ('https://x/',): is not a "
        "(prefix, replacement) pair of strings"]
    with pytest.raises(ConfigError):
        conf.populate({})


def test_no_builder_no_scheduler_no_poller(tmp_path):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text("")
    (tmp_path / "workers.cfg").write_text("[w]\npassword = x\n")
    _, config = populate(tmp_path)
    assert config["schedulers"] == [] and config["change_source"] == []


def test_force_asks_for_the_properties_hgtag_and_archive_buildouts_need(master_dir):
    # without a field, nobody could force an hgtag or archive build: their first
    # step stops for want of the property naming the tag or the archive
    _, config = populate(master_dir)
    force = next(s for s in config["schedulers"] if s.name == FORCE_SCHEDULER)
    assert not force._config_kwargs.get("properties")
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + textwrap.dedent("""
        [release]
        buildout = hgtag https://hg.example.org/deploy release.cfg

        [from-package]
        buildout = archive pkg_dir pkg_name b.cfg
        archive.root-dir = packages
        """))
    _, config = populate(master_dir)
    force = next(s for s in config["schedulers"] if s.name == FORCE_SCHEDULER)
    fields = {p.name: p for p in force._config_kwargs["properties"]}
    assert sorted(fields) == ["buildout-tag", "pkg_dir", "pkg_name"]
    assert all(not p.required and p.default == "" for p in fields.values())
    assert {"release", "from-package", "stock"} <= set(force.builderNames)
    # what the force form (or POST /api/v2/forceschedulers/buildbot-odoo-force) sends becomes
    # the property
    force.reconfigService(*force._config_args, **force._config_kwargs)  # as the master does
    gathered = force.gatherPropertiesAndChanges(
        ValidationErrorCollector(), **{"buildout-tag": ["1.4.2"], "pkg_name": ["sale-3"]})
    properties = gathered.result[0]
    assert properties.getProperty("buildout-tag") == "1.4.2"
    assert properties.getProperty("pkg_name") == "sale-3"
