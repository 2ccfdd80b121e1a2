"""Commit-driven scheduling on a real master, with real git and Mercurial repositories.

Real processes (:mod:`tests.support.buildbot_processes`): ``buildbot start``
on a master.cfg that sets the poll interval, the default tree-stable timer
and a URL rewrite rule through the configurator's attributes, then commits in
repositories made by the test, and reads what the master scheduled through
its REST API.

Knowing that a commit scheduled *nothing else* needs a moment at which every
scheduler has decided.  The ``sentinel`` build watches every branch used here
with a tree-stable timer (4 s) longer than everyone else's (1 s): all
schedulers get a change at the same moment, so when the sentinel's build
request exists, every other scheduler's timer has fired long before.  Each
commit is then checked to have added exactly one build request to exactly
the expected builders (plus the sentinel).

The auto-watch round trip runs a real build on a real worker (the stand-in
buildout checks out a git and an hg addons repository), which uploads what
it found to ``watch/auto``; after ``buildbot reconfig`` the master polls those
repositories and a commit in one of them schedules the build.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.watching.files import MERGED
from tests.support.buildbot_processes import STANDIN_SOURCES_DIR, MasterProcess, Site, wait_for
from tests.support.repos import GitRepo, HgRepo
from tests.support.standin import build_buildout, copy_standin_source

pytestmark = pytest.mark.integration

MIRROR = "https://git.example.invalid/team/"
#: after the test master's header
MASTER_CFG = '''\
from buildbot_odoo import BuildoutsConfigurator

conf = BuildoutsConfigurator(basedir)
conf.poll_interval = 1
conf.tree_stable_timer = 1
conf.vcs_master_url_rewrite_rules = {rules!r}
conf.populate(c)
'''

SCHEDULING_MANIFEST = """\
[DEFAULT]
buildout = standalone b.cfg

[on-git]
watch = git {addons} main

[rewritten]
watch = git {mirror}addons main

[on-hg]
watch = hg {hg} default

[on-hg-stable]
watch = hg {hg} stable

[from-buildout]
buildout = git {deploy} main buildout.cfg

[no-watch]
buildout = git {deploy} main buildout.cfg
watch =

[sentinel]
watch = git {addons} main
        git {addons} other
        hg {hg} default
        hg {hg} stable
        git {deploy} main
tree-stable-timer = 4
"""


class Master(MasterProcess):
    """A master whose configurator polls every second, with URL rewrite ``rules``."""

    def __init__(self, root: Path, rules: list[tuple[str, str]], files: dict[str, str]):
        super().__init__(root / "master")
        self.rules = rules
        self.create(MASTER_CFG.format(rules=rules), files)

    def configurator(self) -> BuildoutsConfigurator:
        """A configurator set up as master.cfg sets it up."""
        conf = BuildoutsConfigurator(self.directory)
        conf.vcs_master_url_rewrite_rules = self.rules
        return conf

    def polled(self) -> list:
        """The pollers of this master's plan, loaded as the master loads it."""
        return self.configurator().load().watch.pollers

    def wait_for_poller_baselines(self) -> None:
        """Every poller has fetched its branch once: later commits are changes to it."""
        for poller in self.polled():
            workdir = self.directory / poller.workdir
            if poller.vcs == "git":
                command = ["git", "-C", workdir, "for-each-ref", "refs/buildbot"]
            else:
                command = ["hg", "-R", workdir, "heads", poller.branch, "-T", "{node}"]
            wait_for(lambda command=command: _output(command), f"the first poll of {poller.name}",
                     60)


def _output(command: list) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def three_repos(root: Path) -> tuple[GitRepo, HgRepo, GitRepo]:
    """A git and a Mercurial repository of addons, and a git one of buildouts."""
    return GitRepo(root / "addons"), HgRepo(root / "hgaddons"), GitRepo(root / "deploy")


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    root = tmp_path_factory.mktemp("repos")
    addons, hg, deploy = three_repos(root)
    addons.commit("other.txt", "1\n", branch="other")
    addons.commit("main.txt", "1\n", branch="main")
    hg.commit("stable.txt", "1\n", branch="stable")
    hg.commit("default.txt", "1\n", branch="default")
    deploy.commit("buildout.cfg", "[buildout]\n")
    return {"root": root, "addons": addons, "hg": hg, "deploy": deploy}


@pytest.fixture(scope="module")
def master(tmp_path_factory, repos):
    root = tmp_path_factory.mktemp("scheduling")
    manifest = SCHEDULING_MANIFEST.format(addons=repos["addons"].url, hg=repos["hg"].url,
                                          deploy=repos["deploy"].url, mirror=MIRROR)
    made = Master(root, [(MIRROR, repos["root"].as_uri() + "/")], {
        "workers.cfg": "[w1]\npassword = never-connects\n",
        "buildouts/b.cfg": "[buildout]\n",
        "buildouts/MANIFEST.cfg": manifest})
    with Site(root, made):
        made.wait_for_poller_baselines()
        yield made


def scheduled_by(master: Master, commit) -> dict[str, int]:
    """Run ``commit``; the build requests it added, once the sentinel has one."""
    before = master.api.build_request_counts()
    commit()
    wait_for(lambda: master.api.build_request_counts()["sentinel"] > before["sentinel"],
             "the sentinel's build request", 90)
    after = master.api.build_request_counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def test_one_poller_per_distinct_branch_and_schedulers_only_for_watching_builds(master, repos):
    addons, hg, deploy = repos["addons"].url, repos["hg"].url, repos["deploy"].url
    assert master.api.names("changesources") == {
        f"git {addons} main", f"git {addons} other", f"hg {hg} default", f"hg {hg} stable",
        f"git {deploy} main"}
    assert master.api.names("schedulers") == {
        "buildbot-odoo-force", "watch-on-git", "watch-rewritten", "watch-on-hg",
        "watch-on-hg-stable", "watch-from-buildout", "watch-sentinel"}


def test_git_commit_on_a_watched_branch_schedules_exactly_its_watchers(master, repos):
    addons = repos["addons"]
    added = scheduled_by(master, lambda: addons.commit("main.txt", "2\n", branch="main"))
    # "rewritten" watches the mirror URL that the rule maps onto the same repository
    assert added == {"on-git": 1, "rewritten": 1, "sentinel": 1}
    change = master.api.latest_change()
    assert (change["repository"], change["branch"]) == (addons.url, "main")
    assert change["revision"] == addons.head()


def test_git_commit_on_another_branch_schedules_none_of_them(master, repos):
    addons = repos["addons"]
    assert scheduled_by(master, lambda: addons.commit("o.txt", "2\n", branch="other")) == {
        "sentinel": 1}


def test_hg_commits_schedule_the_builds_of_their_branch_only(master, repos):
    hg = repos["hg"]
    assert scheduled_by(master, lambda: hg.commit("d.txt", "2\n", branch="default")) == {
        "on-hg": 1, "sentinel": 1}
    assert scheduled_by(master, lambda: hg.commit("s.txt", "2\n", branch="stable")) == {
        "on-hg-stable": 1, "sentinel": 1}


def test_the_buildout_location_is_watched_unless_watch_is_empty(master, repos):
    deploy = repos["deploy"]
    assert scheduled_by(master, lambda: deploy.commit("buildout.cfg", "[buildout]\n#2\n")) == {
        "from-buildout": 1, "sentinel": 1}


# --- auto-watch: a real build uploads what its buildout checks out


#: after the stand-in buildout's [buildout] section
AUTO_BUILDOUT_ODOO = """
[odoo]
addons = local ${{buildout:addons-directory}}
         git {addons} src/addons main
         hg {hg} src/hgaddons stable
"""

AUTO_MANIFEST = """\
[auto]
buildout = git {deploy} main buildout.cfg
auto-watch = true
build-for = postgresql not-used
post-buildout-steps =
"""


@pytest.fixture(scope="module")
def auto_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("auto-watch")
    addons, hg, deploy = three_repos(root)
    hg.commit("stable.txt", "1\n", branch="stable")
    standin = copy_standin_source(root / STANDIN_SOURCES_DIR)
    deploy.commit("buildout.cfg", build_buildout(
        standin, more=AUTO_BUILDOUT_ODOO.format(addons=addons.url, hg=hg.url)))
    master = Master(root, [], {"workers.cfg": "[w1]\npassword = auto-secret\n",
                               "buildouts/MANIFEST.cfg": AUTO_MANIFEST.format(deploy=deploy.url)})
    site = Site(root, master)
    site.add_worker("w1", "auto-secret", root / "worker")
    with site:
        yield master, addons, hg, deploy


def test_auto_watch_data_round_trips_through_upload_and_reconfig(auto_site):
    master, addons, hg, deploy = auto_site
    assert master.api.names("changesources") == {f"git {deploy.url} main"}
    build = master.api.build("auto")
    assert build.result == 0, build.explain()
    assert build.step("auto-watch-introspect")["results"] == 0
    assert build.step("upload-auto-watch")["results"] == 0
    data = json.loads((master.directory / "watch" / "auto").read_text())
    assert [(s["vcs"], s["url"], s["branch"]) for s in data["sources"]] == [
        ("git", addons.url, "main"), ("hg", hg.url, "stable")]
    # what `buildbot-odoo check` sees, before the master does
    assert master.configurator().load().watch.auto_watch["auto"].state == MERGED

    master.reconfig()
    assert master.api.names("changesources") == {
        f"git {deploy.url} main", f"git {addons.url} main", f"hg {hg.url} stable"}
    master.wait_for_poller_baselines()
    before = master.api.build_request_counts()["auto"]
    addons.commit("new_addon.txt", "1\n", branch="main")
    wait_for(lambda: master.api.build_request_counts()["auto"] > before,
             "a build request from the addons", 90)
    change = master.api.latest_change()
    assert (change["repository"], change["branch"]) == (addons.url, "main")
    # let the scheduled build end: the site is not torn down under a running build
    newest = master.api.get("/buildrequests?order=-buildrequestid&limit=1")["buildrequests"][0]
    master.api.wait_complete(newest["buildrequestid"], "the scheduled build")
