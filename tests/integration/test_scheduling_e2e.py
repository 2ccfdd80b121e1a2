"""Commit-driven scheduling on a real master, with real git and Mercurial repositories.

Real processes, as in ``test_build_e2e``: ``buildbot start`` on a master.cfg
that sets the poll interval, the default tree-stable timer and a URL rewrite
rule through the configurator's attributes, then commits in repositories
made by the test, and reads what the master scheduled through its REST API.

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
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.watchfiles import MERGED
from tests.integration.test_build_e2e import BIN, FIXTURES, run, wait_for, worker_environ
from tests.support.postgres import free_port
from tests.support.repos import GitRepo, HgRepo

pytestmark = pytest.mark.integration

MIRROR = "https://git.example.invalid/team/"
MASTER_CFG = '''\
from buildbot_odoo import BuildoutsConfigurator

c = BuildmasterConfig = {{}}
c["protocols"] = {{"pb": {{"port": "tcp:{pb}:interface=127.0.0.1"}}}}
c["www"] = {{"port": "tcp:{www}:interface=127.0.0.1", "plugins": {{}}}}
c["buildbotURL"] = "http://127.0.0.1:{www}/"
c["db"] = {{"db_url": "sqlite:///state.sqlite"}}
c["buildbotNetUsageData"] = None
c["collapseRequests"] = False
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


class Master:
    """A master directory started with ``buildbot start``; its REST API."""

    def __init__(self, root: Path, rules: list[tuple[str, str]]):
        self.dir = root / "master"
        self.www = free_port()
        self.pb = free_port()
        self.rules = rules
        run([BIN / "buildbot", "create-master", "-r", self.dir])
        self.write("master.cfg", MASTER_CFG.format(pb=self.pb, www=self.www, rules=rules))

    def write(self, name: str, text: str) -> None:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def start(self) -> None:
        run([BIN / "buildbot", "start", self.dir], log=self.dir / "twistd.log")

    def reconfig(self) -> None:
        run([BIN / "buildbot", "reconfig", self.dir], log=self.dir / "twistd.log")

    def stop(self) -> None:
        if (self.dir / "twistd.pid").exists():
            subprocess.run([BIN / "buildbot", "stop", self.dir], capture_output=True, timeout=60)

    def get(self, path: str) -> dict:
        url = f"http://127.0.0.1:{self.www}/api/v2{path}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)

    def names(self, kind: str) -> set[str]:
        return {item["name"] for item in self.get(f"/{kind}")[kind]}

    def requests(self) -> dict[str, int]:
        """Build requests so far, per builder name."""
        builders = {b["builderid"]: b["name"] for b in self.get("/builders")["builders"]}
        counts = dict.fromkeys(builders.values(), 0)
        for request in self.get("/buildrequests")["buildrequests"]:
            counts[builders[request["builderid"]]] += 1
        return counts

    def configurator(self) -> BuildoutsConfigurator:
        """A configurator set up as master.cfg sets it up."""
        conf = BuildoutsConfigurator(self.dir)
        conf.vcs_master_url_rewrite_rules = self.rules
        return conf

    def polled(self) -> list:
        """The pollers of this master's plan, loaded as the master loads it."""
        return self.configurator().load().watch.pollers

    def wait_for_poller_baselines(self) -> None:
        """Every poller has fetched its branch once: later commits are changes to it."""
        for poller in self.polled():
            workdir = self.dir / poller.workdir
            if poller.vcs == "git":
                command = ["git", "-C", workdir, "for-each-ref", "refs/buildbot"]
            else:
                command = ["hg", "-R", workdir, "heads", poller.branch, "-T", "{node}"]
            wait_for(lambda command=command: _output(command), f"the first poll of {poller.name}",
                     60)


def _output(command: list) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    root = tmp_path_factory.mktemp("repos")
    addons, hg, deploy = GitRepo(root / "addons"), HgRepo(root / "hgaddons"), GitRepo(
        root / "deploy")
    addons.commit("other.txt", "1\n", branch="other")
    addons.commit("main.txt", "1\n", branch="main")
    hg.commit("stable.txt", "1\n", branch="stable")
    hg.commit("default.txt", "1\n", branch="default")
    deploy.commit("buildout.cfg", "[buildout]\n")
    return {"root": root, "addons": addons, "hg": hg, "deploy": deploy}


@pytest.fixture(scope="module")
def master(tmp_path_factory, repos):
    made = Master(tmp_path_factory.mktemp("scheduling"),
                  [(MIRROR, repos["root"].as_uri() + "/")])
    made.write("workers.cfg", "[w1]\npassword = never-connects\n")
    made.write("buildouts/b.cfg", "[buildout]\n")
    made.write("buildouts/MANIFEST.cfg", SCHEDULING_MANIFEST.format(
        addons=repos["addons"].url, hg=repos["hg"].url, deploy=repos["deploy"].url,
        mirror=MIRROR))
    try:
        made.start()
        made.wait_for_poller_baselines()
        yield made
    finally:
        made.stop()


def scheduled_by(master: Master, commit) -> dict[str, int]:
    """Run ``commit``; the build requests it added, once the sentinel has one."""
    before = master.requests()
    commit()
    wait_for(lambda: master.requests()["sentinel"] > before["sentinel"],
             "the sentinel's build request", 90)
    after = master.requests()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def test_one_poller_per_distinct_branch_and_schedulers_only_for_watching_builds(master, repos):
    addons, hg, deploy = repos["addons"].url, repos["hg"].url, repos["deploy"].url
    assert master.names("changesources") == {
        f"git {addons} main", f"git {addons} other", f"hg {hg} default", f"hg {hg} stable",
        f"git {deploy} main"}
    assert master.names("schedulers") == {
        "force", "watch-on-git", "watch-rewritten", "watch-on-hg", "watch-on-hg-stable",
        "watch-from-buildout", "watch-sentinel"}


def test_git_commit_on_a_watched_branch_schedules_exactly_its_watchers(master, repos):
    addons = repos["addons"]
    added = scheduled_by(master, lambda: addons.commit("main.txt", "2\n", branch="main"))
    # "rewritten" watches the mirror URL that the rule maps onto the same repository
    assert added == {"on-git": 1, "rewritten": 1, "sentinel": 1}
    change = master.get("/changes?order=-changeid&limit=1")["changes"][0]
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


AUTO_BUILDOUT = """\
[buildout]
extends = {fixtures}/buildouts/standin.cfg
standin-source = {standin}
addons-directory = {fixtures}/addons

[odoo]
addons = ${{buildout:addons-directory}}
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
    addons, hg, deploy = GitRepo(root / "addons"), HgRepo(root / "hgaddons"), GitRepo(
        root / "deploy")
    hg.commit("stable.txt", "1\n", branch="stable")
    standin = root / "odoo_standin"
    shutil.copytree(FIXTURES / "odoo_standin", standin,
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    deploy.commit("buildout.cfg", AUTO_BUILDOUT.format(fixtures=FIXTURES, standin=standin,
                                                       addons=addons.url, hg=hg.url))
    master = Master(root, [])
    master.write("workers.cfg", "[w1]\npassword = auto-secret\n")
    master.write("buildouts/MANIFEST.cfg", AUTO_MANIFEST.format(deploy=deploy.url))
    worker = root / "worker"
    try:
        master.start()
        run([BIN / "buildbot-worker", "create-worker", "-r", worker,
             f"127.0.0.1:{master.pb}", "w1", "auto-secret"])
        run([BIN / "buildbot-worker", "start", worker], env=worker_environ(),
            log=worker / "twistd.log")
        wait_for(lambda: master.get("/workers/w1")["workers"][0]["connected_to"],
                 "the worker to connect", 60)
        yield master, addons, hg, deploy
    finally:
        if (worker / "twistd.pid").exists():
            subprocess.run([BIN / "buildbot-worker", "stop", worker], capture_output=True,
                           timeout=60)
        master.stop()


def force_and_wait(master: Master, builder: str) -> dict:
    builderid = master.get(f"/builders/{builder}")["builders"][0]["builderid"]
    body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                       "params": {"builderid": builderid}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{master.www}/api/v2/forceschedulers/"
                                     "force", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        brid = int(next(iter(json.load(response)["result"][1].values())))
    wait_for(lambda: master.get(f"/buildrequests/{brid}")["buildrequests"][0]["complete"],
             f"the build of {builder}", 600)
    build = master.get(f"/builds?buildrequestid={brid}")["builds"][0]
    steps = master.get(f"/builds/{build['buildid']}/steps")["steps"]
    return {"results": build["results"], "steps": {s["name"]: s["results"] for s in steps}}


def test_auto_watch_data_round_trips_through_upload_and_reconfig(auto_site):
    master, addons, hg, deploy = auto_site
    assert master.names("changesources") == {f"git {deploy.url} main"}
    build = force_and_wait(master, "auto")
    assert build["results"] == 0, build
    assert build["steps"]["auto-watch-introspect"] == 0
    assert build["steps"]["upload-auto-watch"] == 0
    data = json.loads((master.dir / "watch" / "auto").read_text())
    assert [(s["vcs"], s["url"], s["branch"]) for s in data["sources"]] == [
        ("git", addons.url, "main"), ("hg", hg.url, "stable")]
    # what `buildbot-odoo check` sees, before the master does
    assert master.configurator().load().watch.auto_watch["auto"].state == MERGED

    master.reconfig()
    assert master.names("changesources") == {
        f"git {deploy.url} main", f"git {addons.url} main", f"hg {hg.url} stable"}
    master.wait_for_poller_baselines()
    before = master.requests()["auto"]
    addons.commit("new_addon.txt", "1\n", branch="main")
    wait_for(lambda: master.requests()["auto"] > before, "a build request from the addons", 90)
    change = master.get("/changes?order=-changeid&limit=1")["changes"][0]
    assert (change["repository"], change["branch"]) == (addons.url, "main")
