"""anybox.buildbot.odoo's Python API, its poll intervals, and what its master.cfg did."""

from __future__ import annotations

import textwrap

import pytest

from buildbot_odoo import BuildoutsConfigurator, ConfigError, configure_from_buildouts
from buildbot_odoo.cli import load_directory

GIT = "https://git.example.org/team/addons.git"
HG = "https://hg.example.org/hgaddons"
MANIFEST = f"""
[sale]
buildout = standalone b.cfg
build-for = postgresql >= 15
watch = git {GIT} 17.0
        git {GIT} main
        hg {HG} stable
auto-watch = true
"""


@pytest.fixture
def master_dir(tmp_path):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(MANIFEST))
    (tmp_path / "workers.cfg").write_text("[w]\npassword = x\ncapability = postgresql 15\n")
    return tmp_path


def line_of(text: str) -> int:
    """The line of this test file calling with ``text`` (where the warning must point)."""
    import inspect

    source, start = inspect.getsourcelines(inspect.currentframe().f_back.f_code)
    return start + next(i for i, line in enumerate(source) if text in line)


def test_the_originals_constructor_form_and_populate_without_argument(master_dir):
    config: dict = {}
    conf = BuildoutsConfigurator(master_dir, config, manifest_paths=("buildouts/MANIFEST.cfg",),
                                 workers_path="workers.cfg", poll_interval=60,
                                 capabilities=None)
    conf.populate()
    assert [b.name for b in config["builders"]] == ["sale-pg15"]
    assert conf.poll_interval == 60
    assert {p._config_kwargs["pollInterval"] for p in config["change_source"]} == {60}
    (warning,) = conf.plan.problems.warnings
    assert warning.file == __file__
    assert warning.line == line_of("conf = BuildoutsConfigurator(master_dir, config,")
    assert "write BuildoutsConfigurator(basedir, ...) then populate(BuildmasterConfig)" in \
        warning.message


def test_positional_forms(master_dir):
    config: dict = {}
    old = BuildoutsConfigurator(master_dir, config, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                                120)
    assert (old.manifest_paths, old.workers_path, old.poll_interval) == (
        ["buildouts/MANIFEST.cfg"], "workers.cfg", 120)
    new = BuildoutsConfigurator(master_dir, "buildouts/MANIFEST.cfg", "workers.cfg")
    assert new.manifest_paths == ["buildouts/MANIFEST.cfg"] and new._config is None
    with pytest.raises(TypeError, match="multiple values for 'manifest_paths'"):
        BuildoutsConfigurator(master_dir, ["a.cfg"], manifest_paths=["b.cfg"])
    with pytest.raises(TypeError, match="populate\\(\\) needs the BuildmasterConfig"):
        new.populate()


def test_slaves_path_and_slaves_cfg(master_dir):
    (master_dir / "workers.cfg").rename(master_dir / "fleet.cfg")
    config: dict = {}
    conf = BuildoutsConfigurator(master_dir, slaves_path="fleet.cfg")
    conf.populate(config)
    assert [w.workername for w in config["workers"]] == ["w"]
    assert "write workers_path=" in conf.plan.problems.warnings[0].message
    (master_dir / "fleet.cfg").rename(master_dir / "slaves.cfg")
    conf = BuildoutsConfigurator(master_dir)
    conf.populate({})
    (warning,) = conf.plan.problems.warnings
    assert (warning.file, warning.is_error) == ("slaves.cfg", False)
    assert "rename it workers.cfg" in warning.message


def test_configure_from_buildouts_takes_the_originals_keywords(master_dir):
    config: dict = {}
    conf = configure_from_buildouts(
        master_dir, config, capabilities={"postgresql": {"version_prop": "pg", "abbrev": "pg"}},
        poll_interval=-1)
    assert [b.name for b in config["builders"]] == ["sale-pg15"]
    assert config["change_source"] == []  # -1: no polling
    assert not conf.plan.problems.warnings
    (master_dir / "master.cfg").write_text("# the original accepted this file's path\n")
    conf = configure_from_buildouts(master_dir / "master.cfg", {})
    assert conf.basedir == master_dir
    (warning,) = conf.plan.problems.warnings
    assert warning.line == line_of('conf = configure_from_buildouts(master_dir / "master.cfg"')
    assert "the path of master.cfg given for the master directory" in warning.message


def test_poll_interval_callable_is_asked_per_repository(master_dir):
    asked = []

    def poll_interval(vcs=None, url=None, minor_specs=None):
        asked.append((vcs, url, sorted(minor_specs)))
        return {"git": 3600, "hg": -1}[vcs]

    config: dict = {}
    BuildoutsConfigurator(master_dir, poll_interval=poll_interval).populate(config)
    assert sorted(asked) == [("git", GIT, [("17.0",), ("main",)]), ("hg", HG, [("stable",)])]
    pollers = {p.name: p._config_kwargs["pollInterval"] for p in config["change_source"]}
    assert pollers == {f"git {GIT} 17.0": 3600, f"git {GIT} main": 3600}  # no hg poller
    # the build is still scheduled by changes on the unpolled branch (a change hook)
    (scheduler,) = [s for s in config["schedulers"] if s.name == "watch-sale"]
    assert scheduler._config_kwargs["change_filter"].match.accepts(HG, "stable")


def test_poll_interval_callable_with_other_parameter_names(master_dir):
    config: dict = {}
    conf = BuildoutsConfigurator(master_dir)
    conf.poll_interval = lambda kind, where, branch_specs: 90 if kind == "git" else 45
    conf.populate(config)
    assert {p.name: p._config_kwargs["pollInterval"] for p in config["change_source"]} == {
        f"git {GIT} 17.0": 90, f"git {GIT} main": 90, f"hg {HG} stable": 45}


@pytest.mark.parametrize(("value", "message"), [
    (0, "0 is not a number of seconds (a whole number, from 1 to 604800; -1: no polling)"),
    (lambda **_: "soon", f"'soon' for git {GIT} is not a number of seconds"),
    (lambda **_: 1 / 0, f"calling it for git {GIT} raised ZeroDivisionError"),
])
def test_bad_poll_intervals_are_located_errors(master_dir, value, message):
    conf = BuildoutsConfigurator(master_dir)
    conf.poll_interval = value
    with pytest.raises(ConfigError) as raised:
        conf.populate({})
    assert f"master.cfg: poll_interval: {message}" in str(raised.value)


def test_watch_directory_is_made_by_the_master_not_by_check(master_dir):
    (master_dir / "master.cfg").write_text(
        "from buildbot_odoo import BuildoutsConfigurator\nc = BuildmasterConfig = {}\n"
        "BuildoutsConfigurator(basedir).populate(c)\n")
    loaded = load_directory(master_dir)
    assert not [p for p in loaded.all_problems() if p.is_error]
    assert not (master_dir / "watch").exists()
    BuildoutsConfigurator(master_dir).populate({})
    assert (master_dir / "watch").is_dir()
