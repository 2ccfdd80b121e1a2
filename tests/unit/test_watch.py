"""The watch model: rewrite rules, distinct pollers, per-build filters, auto-watch files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from buildbot_odoo.errors import Problems
from buildbot_odoo.planning import Plan, make_plan
from buildbot_odoo.watching import files
from buildbot_odoo.watching.files import MALFORMED, MERGED, PENDING, STALE, watch_file
from buildbot_odoo.watching.plan import PolledBranch, RewriteRules, scheduler_name

WORKERS = """
[w15]
password = x
capability = postgresql 15
[w16]
password = y
capability = postgresql 16
"""
ADDONS = "https://git.example.org/team/addons.git"


def plan_for(tmp_path: Path, manifest: str, rules=(), timer=600,
             watch_files: dict[str, object] | None = None) -> Plan:
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest).lstrip())
    (tmp_path / "workers.cfg").write_text(WORKERS)
    for name, content in (watch_files or {}).items():
        path = watch_file(tmp_path, name)
        path.parent.mkdir(exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), BUILTIN_POST_BUILDOUT_STEPS,
                     rewrite_rules=rules, tree_stable_timer=timer)


def messages(plan: Plan, errors: bool = False) -> list[str]:
    return [str(p) for p in (plan.problems.errors if errors else plan.problems.warnings)]


# --- rewrite rules


def test_longest_prefix_wins_whatever_the_order_and_applies_once():
    rules = RewriteRules([("https://", "file:///srv/all/"),
                          ("https://github.com/odoo/", "https://github.com/mirror/"),
                          ("https://github.com/", "ssh://mirror/gh/")])
    assert rules.rewrite("https://github.com/odoo/odoo.git") == "https://github.com/mirror/odoo.git"
    assert rules.rewrite("https://github.com/oca/web") == "ssh://mirror/gh/oca/web"
    assert rules.rewrite("https://hg.example.org/r") == "file:///srv/all/hg.example.org/r"
    assert rules.rewrite("git@github.com:odoo/odoo.git") == "git@github.com:odoo/odoo.git"


@pytest.mark.parametrize(("raw", "needle"), [
    ("https://a -> b", "must be a list of (prefix, replacement) pairs"),
    ({"https://a": "b"}, "must be a list of (prefix, replacement) pairs"),
    ([("https://a",)], "rule 1 ('https://a',): is not a (prefix, replacement) pair"),
    ([("https://a", 3)], "is not a (prefix, replacement) pair of strings"),
    ([("", "file:///x")], "neither the prefix nor the replacement may be empty"),
    ([("https://a b", "c")], "cannot contain white space"),
    ([("https://a/", "x/"), ("https://a/", "y/")],
     "rule 2 ('https://a/', 'y/'): prefix 'https://a/' already has a rule (to 'x/')"),
])
def test_bad_rewrite_rules_are_errors_naming_the_rule(raw, needle):
    problems = Problems()
    RewriteRules.parse(raw, problems)
    (error,) = problems.errors
    assert needle in error.message
    assert str(error).startswith("master.cfg: vcs_master_url_rewrite_rules: ")


def test_bad_default_timer_is_an_error(tmp_path):
    plan = plan_for(tmp_path, "[a]\nbuildout = standalone b.cfg\n", timer="10 minutes")
    assert messages(plan, errors=True) == [
        "master.cfg: tree_stable_timer: '10 minutes' is not a number of seconds "
        "(a whole number, from 0 to 604800)"]


# --- pollers and schedules


MANIFEST = f"""
[sale]
buildout = git https://git.example.org/team/deploy.git 17.0 buildout.cfg
build-for = postgresql >= 15
watch = git {ADDONS} 17.0
        hg https://hg.example.org/hgaddons
tree-stable-timer = 30

[stock]
buildout = standalone b.cfg
watch = git {ADDONS} refs/heads/17.0
        git {ADDONS} main

[quiet]
buildout = git https://git.example.org/team/deploy.git 17.0 buildout.cfg
watch =

[forced-only]
buildout = standalone b.cfg
"""


def test_one_poller_per_distinct_branch_and_a_schedule_per_watching_build(tmp_path):
    plan = plan_for(tmp_path, MANIFEST, timer=120)
    assert not plan.problems.errors and not plan.problems.warnings
    watch = plan.watch
    assert watch.pollers == [
        PolledBranch("git", ADDONS, "17.0"),
        PolledBranch("git", ADDONS, "main"),
        PolledBranch("git", "https://git.example.org/team/deploy.git", "17.0"),
        PolledBranch("hg", "https://hg.example.org/hgaddons", "default"),
    ]
    schedules = {s.build: s for s in watch.schedules}
    assert sorted(schedules) == ["sale", "stock"]
    sale = schedules["sale"]
    assert sale.builder_names == ["sale-pg15", "sale-pg16"]
    assert sale.tree_stable_timer == 30 and sale.scheduler_name == "watch-sale"
    assert {b.repository for b in sale.branches} == {
        (ADDONS, "17.0"), ("https://hg.example.org/hgaddons", "default"),
        ("https://git.example.org/team/deploy.git", "17.0")}
    stock = schedules["stock"]
    assert stock.tree_stable_timer == 120  # the configurator's default
    assert {b.repository for b in stock.branches} == {(ADDONS, "17.0"), (ADDONS, "main")}
    assert watch.unwatched == ["quiet", "forced-only"]


def test_poller_names_and_workdirs_are_distinct_and_stable(tmp_path):
    first = plan_for(tmp_path, MANIFEST).watch.pollers
    again = plan_for(tmp_path, MANIFEST).watch.pollers
    assert [p.name for p in first] == [p.name for p in again]
    assert [p.workdir for p in first] == [p.workdir for p in again]
    assert len({p.name for p in first}) == len({p.workdir for p in first}) == len(first)
    assert first[0].name == f"git {ADDONS} 17.0"
    assert first[0].workdir.startswith("pollers/git-") and first[0].project == "addons"


def test_rewritten_urls_are_polled_and_filtered_and_merge_pollers(tmp_path):
    mirror = "file:///srv/mirrors/"
    manifest = f"""
        [a]
        buildout = standalone b.cfg
        watch = git {ADDONS} 17.0
        [b]
        buildout = standalone b.cfg
        watch = git {mirror}addons.git 17.0
        """
    plan = plan_for(tmp_path, manifest, rules=[("https://git.example.org/team/", mirror)])
    polled = PolledBranch("git", f"{mirror}addons.git", "17.0")
    assert plan.watch.pollers == [polled]
    assert [s.branches for s in plan.watch.schedules] == [(polled,), (polled,)]
    assert plan.watch.rewritten == {ADDONS: f"{mirror}addons.git"}


def test_watch_only_sections_are_polled_and_inherited(tmp_path):
    manifest = f"""
        [addons-17]
        watch = git {ADDONS} 17.0
        [sale]
        inherit = addons-17
        buildout = standalone b.cfg
        """
    plan = plan_for(tmp_path, manifest)
    assert [b.build.name for b in plan.dispatch.builders] == ["sale"]
    branch = PolledBranch("git", ADDONS, "17.0")
    assert plan.watch.watch_only == {"addons-17": (branch,)}
    assert plan.watch.branches_of("addons-17") == (branch,)
    assert plan.watch.branches_of("sale") == (branch,)
    assert plan.watch.pollers == [branch]
    assert [s.build for s in plan.watch.schedules] == ["sale"]


def test_builds_without_builder_get_no_schedule(tmp_path):
    plan = plan_for(tmp_path, f"""
        [legacy]
        buildout = standalone b.cfg
        build-for = postgresql < 10
        watch = git {ADDONS} 8.0
        """)
    assert plan.watch.schedules == [] and plan.watch.unwatched == []
    assert plan.watch.pollers == []  # nothing to schedule: nothing to poll


def test_explicit_bzr_watch_is_polled_as_the_branch_it_names(tmp_path):
    plan = plan_for(tmp_path, """
        [base]
        watch = bzr lp:openobject-addons/7.0
        [a]
        inherit = base
        buildout = standalone b.cfg
        """)
    assert not plan.problems.errors
    (poller,) = plan.watch.pollers
    assert poller == PolledBranch("bzr", "lp:openobject-addons/7.0", "")
    assert poller.name == "bzr lp:openobject-addons/7.0"
    # a Bazaar branch is its URL: the poller's changes have an empty branch name
    assert poller.repository == ("lp:openobject-addons/7.0", "")
    assert plan.watch.match_of("a").accepts("lp:openobject-addons/7.0", "")
    assert plan.watch.branches_of("a") == (poller,)


def test_bzr_buildout_location_is_watched(tmp_path):
    plan = plan_for(tmp_path, "[a]\nbuildout = bzr lp:my-buildout buildout.cfg\n")
    assert not plan.problems.errors and not plan.problems.warnings
    assert [b.repository for b in plan.watch.branches_of("a")] == [("lp:my-buildout", "")]
    assert plan.watch.unwatched == []


def test_a_missing_brz_is_said_where_bazaar_is_watched(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no brz there
    plan = plan_for(tmp_path, """
        [a]
        buildout = standalone b.cfg
        watch = bzr lp:openobject-addons/7.0
        [b]
        buildout = bzr lp:my-buildout buildout.cfg
        [c]
        buildout = standalone b.cfg
        watch = git https://git.example.org/c.git main
        """)
    assert not plan.problems.errors
    assert messages(plan) == [
        "buildouts/MANIFEST.cfg:3: a: watch: warning: this build watches Bazaar branches, "
        "which the master polls with 'brz' (Breezy), and 'brz' is not installed on this "
        "master (not on PATH): install it (Debian's package brz, or breezy from the package "
        "index); until then these branches are not polled",
        "buildouts/MANIFEST.cfg:5: b: buildout: warning: this build watches Bazaar branches, "
        "which the master polls with 'brz' (Breezy), and 'brz' is not installed on this "
        "master (not on PATH): install it (Debian's package brz, or breezy from the package "
        "index); until then these branches are not polled"]
    assert len(plan.watch.pollers) == 3  # the master still polls what it can


def test_brz_on_path_is_enough(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "brz").write_text("#!/bin/sh\n")
    (bin_dir / "brz").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    plan = plan_for(tmp_path, "[a]\nbuildout = bzr lp:my-buildout buildout.cfg\n")
    assert not plan.problems.warnings


def test_watch_plan_as_data_is_json(tmp_path):
    data = plan_for(tmp_path, MANIFEST).watch.as_data()
    assert json.loads(json.dumps(data)) == data
    assert data["schedulers"][0]["name"] == scheduler_name("sale")
    assert data["schedulers"][0]["builders"] == ["sale-pg15", "sale-pg16"]


# --- auto-watch files


AUTO = f"""
[auto]
buildout = git {ADDONS} 17.0 buildout.cfg
auto-watch = true
"""


def watch_data(**overrides) -> dict:
    data = {"format": 1, "build": "auto", "buildout": f"git {ADDONS} 17.0 buildout.cfg",
            "part": "odoo",
            "sources": [{"vcs": "git", "url": "https://github.com/oca/web.git",
                         "branch": "17.0", "option": "addons"},
                        {"vcs": "hg", "url": "https://hg.example.org/x", "branch": "default",
                         "option": "addons"}],
            "fixed": [{"vcs": "git", "url": "https://github.com/odoo/odoo.git",
                       "revision": "v17", "option": "version"}]}
    data.update(overrides)
    return data


def test_auto_watch_data_is_merged_with_the_manifest_and_rewritten(tmp_path):
    plan = plan_for(tmp_path, AUTO, rules=[("https://github.com/", "file:///m/gh/")],
                    watch_files={"auto": watch_data()})
    assert not plan.problems.warnings
    status = plan.watch.auto_watch["auto"]
    assert status.state == MERGED and status.file == "watch/auto"
    assert status.fixed[0]["revision"] == "v17"
    assert {b.repository for b in plan.watch.branches_of("auto")} == {
        (ADDONS, "17.0"), ("file:///m/gh/oca/web.git", "17.0"),
        ("https://hg.example.org/x", "default")}


def test_no_watch_file_yet_is_pending_without_warning(tmp_path):
    plan = plan_for(tmp_path, AUTO)
    assert plan.watch.auto_watch["auto"].state == PENDING
    assert not plan.problems.warnings


@pytest.mark.parametrize(("content", "state", "needle"), [
    ("{not json", MALFORMED, "not valid JSON"),
    ("42", MALFORMED, "not a JSON object"),
    ([1, 2], MALFORMED, "sources[0] is not an object"),  # anybox.buildbot.odoo's list format
    ([{"vcs": "git", "url": "x", "revspec": None}], MALFORMED,
     "sources[0]: None is not a branch name"),
    (watch_data(format=2), MALFORMED, "unknown format 2 (expected 1)"),
    (watch_data(build="other"), MALFORMED, "made for build 'other', not 'auto'"),
    (watch_data(sources=[{"vcs": "svn", "url": "x", "branch": "y"}]), MALFORMED,
     "sources[0]: unknown vcs 'svn'"),
    (watch_data(sources=[{"vcs": "git", "url": "a b", "branch": "y"}]), MALFORMED,
     "sources[0]: 'a b': a URL cannot contain white space"),
    (watch_data(sources=[{"vcs": "git", "url": "x"}]), MALFORMED,
     "sources[0]: None is not a branch name"),
    (watch_data(sources="all"), MALFORMED, "'sources' and 'fixed' must be lists"),
    (watch_data(buildout="standalone old.cfg"), STALE,
     "made for buildout 'standalone old.cfg', the manifest now says"),
    (watch_data(part="openerp"), STALE, "made for part 'openerp', the manifest now says 'odoo'"),
])
def test_unusable_watch_files_are_warned_about_and_skipped(tmp_path, content, state, needle):
    plan = plan_for(tmp_path, AUTO, watch_files={"auto": content})
    assert not plan.problems.errors
    (warning,) = plan.problems.warnings
    assert str(warning).startswith("watch/auto: auto: warning: ")
    assert needle in warning.message
    assert plan.watch.auto_watch["auto"].state == state
    # the manifest's own watches still stand
    assert {b.repository for b in plan.watch.branches_of("auto")} == {(ADDONS, "17.0")}


def test_undecodable_watch_file_is_skipped(tmp_path):
    path = watch_file(tmp_path, "auto")
    path.parent.mkdir()
    path.write_bytes(b"\xff\xfe")
    plan = plan_for(tmp_path, AUTO)
    assert plan.watch.auto_watch["auto"].state == MALFORMED
    assert "not UTF-8" in plan.problems.warnings[0].message


def test_orphan_watch_files_are_reported_and_upload_temporaries_ignored(tmp_path):
    plan = plan_for(tmp_path, AUTO.replace("auto-watch = true", "auto-watch = false"),
                    watch_files={"auto": watch_data(), "gone": watch_data(build="gone"),
                                 "buildbot-transfer-abc123": "partial"})
    assert messages(plan) == [
        "watch/auto: warning: stale auto-watch data, skipped: no build of that name has "
        "auto-watch = true; delete the file if the build is gone",
        "watch/gone: warning: stale auto-watch data, skipped: no build of that name has "
        "auto-watch = true; delete the file if the build is gone"]
    assert {b.repository for b in plan.watch.branches_of("auto")} == {(ADDONS, "17.0")}


def test_bzr_sources_of_auto_watch_are_polled(tmp_path):
    data = watch_data(sources=[{"vcs": "bzr", "url": "lp:web-addons", "option": "addons"}])
    plan = plan_for(tmp_path, AUTO, watch_files={"auto": data})
    assert not plan.problems.warnings
    assert [(s.vcs, s.url) for s in plan.watch.auto_watch["auto"].sources] == [
        ("bzr", "lp:web-addons")]
    assert ("lp:web-addons", "") in {b.repository for b in plan.watch.branches_of("auto")}


def test_auto_watch_with_empty_watch_or_without_buildout_is_warned(tmp_path):
    plan = plan_for(tmp_path, AUTO + "watch =\n[nobuildout]\nauto-watch = true\n"
                    f"watch = git {ADDONS} 17.0\n", watch_files={"auto": watch_data()})
    assert messages(plan) == [
        "buildouts/MANIFEST.cfg:3: auto: auto-watch: warning: auto-watch is ignored: the "
        "empty 'watch =' turns commit-driven scheduling off for this build",
        "buildouts/MANIFEST.cfg:6: nobuildout: auto-watch: warning: auto-watch needs a "
        "buildout to introspect; this section has none"]
    assert plan.watch.unwatched == ["auto"]


# --- auto-watch files are untrusted data: what a worker uploads


INJECTION = "--upload-pack=touch${IFS}/tmp/x;:"


@pytest.mark.parametrize(("source", "needle"), [
    ({"vcs": "git", "url": INJECTION, "branch": "17.0"}, "a URL cannot start with '-'"),
    ({"vcs": "hg", "url": "--config=hooks.pre-pull=touch", "branch": "default"},
     "a URL cannot start with '-'"),
    ({"vcs": "git", "url": "ext::sh", "branch": "17.0"}, "remote-helper transport"),
    ({"vcs": "git", "url": "ssh://-oProxyCommand=touch/r", "branch": "17.0"},
     "is not a host name"),
    ({"vcs": "git", "url": "https://x/r.git", "branch": "--upload-pack=touch"},
     "a branch cannot start with '-'"),
    ({"vcs": "hg", "url": "https://x/r", "branch": "--config=x"},
     "a branch cannot start with '-'"),
    ({"vcs": "git", "url": "relative/path", "branch": "17.0"}, "is not a URL git can use"),
])
def test_watch_file_sources_that_would_be_options_or_commands_are_refused(tmp_path, source,
                                                                          needle):
    plan = plan_for(tmp_path, AUTO, watch_files={"auto": watch_data(sources=[source])})
    assert not plan.problems.errors
    (warning,) = plan.problems.warnings
    assert str(warning).startswith("watch/auto: auto: warning: unusable auto-watch data")
    assert "sources[0]" in warning.message and needle in warning.message
    assert plan.watch.auto_watch["auto"].state == MALFORMED
    assert [p.url for p in plan.watch.pollers] == [ADDONS]


def test_a_deeply_nested_watch_file_is_skipped_not_fatal(tmp_path):
    plan = plan_for(tmp_path, AUTO, watch_files={"auto": "[" * 100_000})
    assert plan.watch.auto_watch["auto"].state == MALFORMED
    assert "not valid JSON" in plan.problems.warnings[0].message


def test_a_watch_file_is_read_no_further_than_its_size_cap(tmp_path):
    data = watch_data(padding="x" * files.MAX_SIZE)
    plan = plan_for(tmp_path, AUTO, watch_files={"auto": data})
    assert plan.watch.auto_watch["auto"].state == MALFORMED
    assert f"larger than {files.MAX_SIZE} bytes" in plan.problems.warnings[0].message


def many_sources(count: int, prefix: str = "r") -> list[dict]:
    return [{"vcs": "git", "url": f"https://git.example.org/{prefix}{i}.git", "branch": "17.0"}
            for i in range(count)]


def test_sources_beyond_the_per_file_cap_are_cut_with_a_warning(tmp_path):
    cap = files.MAX_SOURCES_PER_FILE
    plan = plan_for(tmp_path, AUTO, watch_files={"auto": watch_data(
        sources=many_sources(cap + 50))})
    assert messages(plan) == [
        f"watch/auto: auto: warning: {cap + 50} sources, more than the {cap} an auto-watch "
        f"file may give: only the first {cap} are watched"]
    status = plan.watch.auto_watch["auto"]
    assert status.state == MERGED and len(status.sources) == cap
    assert len(plan.watch.pollers) == cap + 1  # and the buildout's own location


def test_auto_watch_pollers_are_capped_across_the_master(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_SOURCES_PER_FILE", 10)
    monkeypatch.setattr(files, "MAX_AUTO_WATCH_SOURCES", 25)
    manifest = "".join(AUTO.replace("[auto]", f"[auto{i}]") for i in range(4))
    plan = plan_for(tmp_path, manifest, watch_files={
        f"auto{i}": watch_data(build=f"auto{i}", sources=many_sources(10, f"b{i}-"))
        for i in range(4)})
    assert messages(plan) == [
        "watch/auto2: auto2: warning: the auto-watch files together give more than 25 "
        "sources: only 5 of this file's 10 are watched",
        "watch/auto3: auto3: warning: the auto-watch files together give more than 25 "
        "sources: none of this file's 10 is watched"]
    assert len(plan.watch.pollers) == 25 + 1
    assert plan.watch.auto_watch["auto3"].sources == []


@pytest.mark.parametrize("replacement", ["--upload-pack=touch${IFS}x;:", "ext::sh "[:-1]])
def test_a_rewrite_rule_cannot_make_a_url_git_would_run_a_command_from(tmp_path, replacement):
    plan = plan_for(tmp_path, f"[a]\nbuildout = standalone b.cfg\nwatch = git {ADDONS} 17.0\n",
                    rules=[("https://git.example.org/", replacement)])
    (error,) = plan.problems.errors
    assert str(error).startswith(f"master.cfg: vcs_master_url_rewrite_rules: the rule "
                                 f"rewriting '{ADDONS}' makes '{replacement}team/")
    assert plan.watch.pollers == []


@pytest.mark.parametrize("timer", [10 ** 27, 604801, -1])
def test_default_timer_out_of_range_is_an_error(tmp_path, timer):
    # the same range as the manifest's tree-stable-timer: a week at most
    plan = plan_for(tmp_path, "[a]\nbuildout = standalone b.cfg\n", timer=timer)
    assert messages(plan, errors=True) == [
        f"master.cfg: tree_stable_timer: {timer!r} is not a number of seconds "
        "(a whole number, from 0 to 604800)"]
