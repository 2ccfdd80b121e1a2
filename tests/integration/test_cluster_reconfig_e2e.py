"""``buildbot reconfig`` of the master running the schedulers leaves every scheduler listening.

Issue 19: in a cluster (two masters, one PostgreSQL database, a crossbar
router), after ``buildbot reconfig`` of the master running the schedulers,
only one of them still received changes.  Here four builds each watch a git
repository of their own, a ``sentinel`` build watches all four with a longer
tree-stable timer; one change per repository is posted to the other master's
change hook (Buildbot's ``base`` dialect), before and after reconfigs, and
every build must get exactly one build request per change of its repository.

Knowing that a change scheduled nothing more needs a moment at which every
scheduler has decided: the sentinel gets every change too, and fires only
once its timer (longer than everyone else's, which is 0) has run out.

The same test runs on one master with Buildbot's simple (in-process) message
queue: the reconfig must keep it working there too.  No worker is needed:
the build requests are what the schedulers make.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support.buildbot_processes import MasterApi, MasterProcess, wait_for
from tests.support.cluster import Cluster, ClusterDatabase
from tests.support.postgres import PgServer
from tests.support.repos import GitRepo

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

BUILDS = ("alpha", "beta", "gamma", "delta")
SENTINEL = "sentinel"

MASTER_CFG = '''\
from buildbot_odoo import BuildoutsConfigurator

c["www"]["change_hook_dialects"] = {"base": True}
conf = BuildoutsConfigurator(basedir)
conf.poll_interval = -1  # no poller: the changes come from the change hook
conf.tree_stable_timer = 0
conf.populate(c)
'''


def manifest(repos: dict[str, GitRepo]) -> str:
    sections = ["[DEFAULT]\nbuildout = standalone b.cfg\n"]
    sections += [f"[{name}]\nwatch = git {repo.url} main\n" for name, repo in repos.items()]
    every = "\n        ".join(f"git {repo.url} main" for repo in repos.values())
    sections.append(f"[{SENTINEL}]\nwatch = {every}\ntree-stable-timer = 3\n")
    return "\n".join(sections)


def post_change(api: MasterApi, repo: GitRepo, number: int) -> str:
    """A change of ``repo``'s main branch through the master's ``base`` change hook; its sha."""
    revision = repo.commit("file.txt", f"{number}\n", branch="main")
    body = urllib.parse.urlencode({
        "repository": repo.url, "branch": "main", "revision": revision, "project": "",
        "comments": f"change {number}", "author": "tester <t@example.org>",
        "files": '["file.txt"]'}).encode()
    url = api.base.removesuffix("/api/v2") + "/change_hook/base"
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        assert response.status == 200
    return revision


class Masters:
    """What the test drives: where changes are posted, which master is reconfigured."""

    def __init__(self, poster: MasterApi, reconfigured: MasterProcess,
                 scheduler_master: str | None):
        self.poster = poster
        self.reconfigured = reconfigured
        self.scheduler_master = scheduler_master


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> dict[str, GitRepo]:
    root = tmp_path_factory.mktemp("reconfig-repos")
    return {name: GitRepo(root / name) for name in BUILDS}


def files(repos: dict[str, GitRepo]) -> dict[str, str]:
    return {"workers.cfg": "[w1]\npassword = never-connects\n",
            "buildouts/b.cfg": "[buildout]\nparts =\n",
            "buildouts/MANIFEST.cfg": manifest(repos)}


@pytest.fixture(scope="module", params=["wamp", "simple"])
def masters(request, tmp_path_factory, repos, pg_server: PgServer) -> Iterator[Masters]:
    root = tmp_path_factory.mktemp(f"reconfig-{request.param}")
    if request.param == "simple":
        master = MasterProcess(root / "master")
        master.create(MASTER_CFG, files(repos))
        master.start()
        try:
            yield Masters(master.api, master, None)
        finally:
            master.stop()
        return
    cluster = Cluster(root, ClusterDatabase(pg_server, "reconfig_cluster"), MASTER_CFG,
                      files(repos))
    with cluster:
        running = scheduler_masters(cluster.master("a").api)
        assert len(running) == 1, f"the schedulers run on masters {running}"
        [masterid] = running
        name = next(n for n in cluster.masters if cluster.masterid(n) == masterid)
        other = next(n for n in cluster.masters if n != name)
        yield Masters(cluster.master(other).api, cluster.master(name), name)


def scheduler_masters(api: MasterApi) -> set[int]:
    """The masters running our schedulers (every one must run somewhere)."""
    schedulers = [s for s in api.get("/schedulers")["schedulers"]
                  if s["name"].startswith("watch-")]
    assert len(schedulers) == len(BUILDS) + 1
    assert all(s["master"] for s in schedulers), schedulers
    return {s["master"]["masterid"] for s in schedulers}


def one_change_each(masters: Masters, repos: dict[str, GitRepo], number: int) -> dict:
    """Post a change per repository; the build requests that added, once the sentinel decided.

    The sentinel has decided once it made a build request for the last change
    posted (the newest change it saw): every other scheduler got that change
    (and the earlier ones) a tree-stable timer before.
    """
    api = masters.poster
    before = api.build_request_counts()
    revisions = [post_change(api, repo, number) for repo in repos.values()]
    wait_for(lambda: sentinel_saw(api, revisions[-1]), "the sentinel's build request for "
             "the last change", 120)
    after = api.build_request_counts()
    added = {name: after[name] - before[name] for name in after}
    assert added.pop(SENTINEL) >= 1
    return added


def sentinel_saw(api: MasterApi, revision: str) -> bool:
    builderid = api.one("builders", f"/builders/{SENTINEL}")["builderid"]
    requests = api.get(f"/builders/{builderid}/buildrequests?order=-buildrequestid&limit=1")
    if not requests["buildrequests"]:
        return False
    buildset = api.one("buildsets", f"/buildsets/{requests['buildrequests'][0]['buildsetid']}")
    return any(s["revision"] == revision for s in buildset["sourcestamps"])


def expected() -> dict[str, int]:
    return dict.fromkeys(BUILDS, 1)


def test_every_scheduler_triggers_once_before_and_after_reconfigs(masters, repos):
    assert one_change_each(masters, repos, 1) == expected()
    for number in (2, 3):
        masters.reconfigured.reconfig()
        added = one_change_each(masters, repos, number)
        assert added == expected(), f"after reconfig {number - 1}"
    if masters.scheduler_master is not None:  # the reconfigs moved nothing
        assert len(scheduler_masters(masters.poster)) == 1
