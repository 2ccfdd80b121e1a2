"""Bazaar branches watched by a real master, built by a real worker (SPEC 5, 7).

Real processes: ``buildbot start`` on a master polling every second, a
``buildbot-worker``, and Bazaar branches made by the test with Breezy's
``brz``.  The build's buildout comes from a Bazaar branch
(``buildout = bzr URL buildout.cfg``, with ``auto-watch``: its own location
is watched, and the worker introspects the checkout), and the manifest
watches a second branch (``watch = bzr URL``).  One commit in that branch
schedules exactly one build, which checks the buildout out with ``brz`` and
builds it; the change carries what Buildbot's own pollers report: author,
committer, comments, files, revision, repository.

Knowing that the commit comes after the poller's first look (which only
records the tip, as Buildbot's pollers do) is not guessed: the test waits
until the poller's private copy of the branch holds the tip the test knows.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from buildbot_odoo import BuildoutsConfigurator
from tests.support.buildbot_processes import STANDIN_SOURCES_DIR, MasterProcess, Site, wait_for
from tests.support.repos import BzrRepo
from tests.support.standin import build_buildout, copy_standin_source

pytestmark = pytest.mark.integration

#: after the test master's header
MASTER_CFG = '''\
from buildbot_odoo import BuildoutsConfigurator

conf = BuildoutsConfigurator(basedir)
conf.poll_interval = 1
conf.tree_stable_timer = 1
conf.populate(c)
'''

MANIFEST = """\
[from-bzr]
buildout = bzr {deploy} buildout.cfg
auto-watch = true
watch = bzr {addons}
build-for = postgresql not-used
post-buildout-steps =
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("bzr")
    deploy, addons = BzrRepo(root / "deploy"), BzrRepo(root / "addons")
    standin = copy_standin_source(root / STANDIN_SOURCES_DIR)
    deploy.commit("buildout.cfg", build_buildout(standin))
    master = MasterProcess(root / "master")
    master.create(MASTER_CFG, {
        "workers.cfg": "[w1]\npassword = bzr-secret\n",
        "buildouts/MANIFEST.cfg": MANIFEST.format(deploy=deploy.url, addons=addons.url)})
    made = Site(root, master)
    made.add_worker("w1", "bzr-secret", root / "worker")
    with made:
        yield made, deploy, addons


def mirror_tip(master: MasterProcess, url: str) -> str:
    """The revision id the poller of ``url`` has seen last ('' before its first poll)."""
    (poller,) = [p for p in BuildoutsConfigurator(master.directory).load().watch.pollers
                 if p.url == url]
    done = subprocess.run(["brz", "revision-info", "-d", str(master.directory / poller.workdir)],
                          capture_output=True, text=True)
    return done.stdout.split()[1] if done.returncode == 0 and done.stdout.strip() else ""


def test_a_bzr_commit_schedules_one_build_of_the_bzr_buildout(site):
    made, deploy, addons = site
    api = made.master.api
    assert api.names("changesources") == {f"bzr {deploy.url}", f"bzr {addons.url}"}
    for repo in (deploy, addons):
        wait_for(lambda repo=repo: mirror_tip(made.master, repo.url) == repo.head(),
                 f"the first poll of {repo.url}", 90)
    assert api.build_request_counts() == {"from-bzr": 0}

    revision = addons.commit("sale_x/__init__.py", "# sale\n",
                             message="sale_x: a first module\n\nwith a body",
                             author="Ann <ann@example.org>")
    wait_for(lambda: api.build_request_counts()["from-bzr"] == 1, "the scheduled build", 90)
    change = api.latest_change()
    assert (change["repository"], change["branch"], change["revision"]) == (
        addons.url, "", revision)
    assert change["author"] == "Ann <ann@example.org>"
    assert change["committer"] == "tester <tester@example.com>"
    assert change["comments"] == "sale_x: a first module\n\nwith a body"
    assert change["files"] == ["sale_x/", "sale_x/__init__.py"]
    assert change["when_timestamp"] > 0

    (request,) = api.get("/buildrequests")["buildrequests"]
    build = api.finished_build(request["buildrequestid"], what="the scheduled build")
    assert build.result == 0, build.explain()
    assert build.step("checkout-buildout")["results"] == 0
    assert build.step("upload-auto-watch")["results"] == 0
    data = json.loads((made.master.directory / "watch" / "from-bzr").read_text())
    assert data["buildout"] == f"bzr {deploy.url} buildout.cfg"
    # the one commit made one build request, and nothing else was scheduled
    assert api.build_request_counts() == {"from-bzr": 1}


def test_the_poller_keeps_its_place_in_buildbots_state(site):
    """A commit made while the master is down is reported once it is back: the last
    revision seen is in Buildbot's database (a poller starting afresh would take the new
    tip as its starting point and report nothing)."""
    made, _deploy, addons = site
    api = made.master.api
    before = len(api.get("/changes")["changes"])
    made.master.stop()
    revision = addons.commit("sale_x/models.py", "# models\n")
    made.master.start()
    made.wait_connected()
    wait_for(lambda: api.latest_change()["revision"] == revision, "the change", 90)
    assert len(api.get("/changes")["changes"]) == before + 1
    newest = api.get("/buildrequests?order=-buildrequestid&limit=1")["buildrequests"][0]
    api.wait_complete(newest["buildrequestid"], "the scheduled build")
