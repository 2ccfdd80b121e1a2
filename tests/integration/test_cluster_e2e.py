"""Several masters, one fleet (docs/scale-out.md): two real masters of one Buildbot cluster.

Real processes only (:mod:`tests.support.cluster`): one PostgreSQL database
(``c['db']``), a crossbar router (``c['mq']``: WAMP), masters ``a`` and ``b``
reading the same workers.cfg and MANIFEST.cfg, HAProxy in front of them.
Worker ``wa`` is at home on master a, ``wb`` on master b: each connects to
its master's frontend of the proxy, which sends it to the other master when
its own is down.  ``idle`` never connects: builds requiring ``site-idle``
only make build requests, which is all a scheduling test needs to count.

What must hold (issue 16, point 2), one test each:

* every builder exists once for the cluster, on both masters; a build forced
  through master a runs on a worker connected to master b;
* each poller and each scheduler runs on one master; a commit schedules one
  build, not two;
* auto-watch data uploaded through master b (the master of the worker that
  built it) lands in the shared ``conf.watch_directory``; after a reconfig
  the pollers poll what it names, wherever they run;
* the Fleet page of either master shows every worker's live state and every
  builder's last result;
* master a stopped (``buildbot stop``) during a build of ``wa``: that build
  ends as RETRY, ``wa`` reaches master b through the proxy, and master b
  builds the request again;
* the master running a build of ``wa`` killed (SIGKILL: a crash, a lost
  host): ``wa`` reaches the other master through the proxy, which expires the
  dead one after ``conf.master_expiry`` (:data:`EXPIRY` seconds here), ends
  its build as RETRY and builds the request again.

The moment to stop master a is never guessed: the ``held`` build's ``hold``
step (a test-only post-buildout subfactory, as in test_faults_e2e.py) waits
on a named pipe until the test writes to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from buildbot.process.results import RETRY, SUCCESS

from tests.support.buildbot_processes import (
    BUILD_TIMEOUT,
    CONNECT_TIMEOUT,
    STANDIN_SOURCES_DIR,
    MasterApi,
    ProcessError,
    wait_for,
)
from tests.support.cluster import Cluster, ClusterDatabase
from tests.support.postgres import PgServer
from tests.support.repos import GitRepo, HgRepo
from tests.support.standin import build_buildout, copy_standin_source

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

HOLD_PROGRAM = r"""
import os, sys
gate = sys.argv[1]
os.mkfifo(gate)
with open(gate) as stream:
    print(stream.read())
"""

#: after the test header and the cluster lines: the same on both masters
MASTER_CFG = '''\
from buildbot.plugins import steps, util

from buildbot_odoo import BuildoutsConfigurator

HOLD_PROGRAM = {program!r}
GATES = {gates!r}


def hold(configurator, options, buildout_path, environ):
    """TEST ONLY: wait on the named pipe GATES/<builder>-<build number>."""
    gate = util.Interpolate(GATES + "/%(prop:buildername)s-%(prop:buildnumber)s")
    return [steps.ShellCommand(name="hold", command=["python3", "-c", HOLD_PROGRAM, gate],
                               env=environ, haltOnFailure=True)]


conf = BuildoutsConfigurator(basedir)
conf.post_buildout_steps["hold"] = hold
conf.poll_interval = 1
conf.tree_stable_timer = 0
conf.watch_directory = {shared!r}
conf.master_expiry = {expiry!r}
conf.populate(c)
'''

WORKERS_CFG = """\
[wa]
password = wa-secret
capability = site-a

[wb]
password = wb-secret
capability = site-b

[idle]
password = never-connects
capability = site-idle
"""

MANIFEST = """\
[DEFAULT]
buildout = standalone empty.cfg
build-for = postgresql not-used
post-buildout-steps =
watch =

[on-a]
build-requires = site-a

[on-b]
build-requires = site-b

[held]
build-requires = site-a
post-buildout-steps = hold

[watcher]
build-requires = site-idle
watch = git {watched} main

[sentinel]
build-requires = site-idle
watch = git {watched} main
tree-stable-timer = 3

[auto]
buildout = git {deploy} main buildout.cfg
build-requires = site-b
auto-watch = true
watch = git {deploy} main
"""

#: after the stand-in buildout's [buildout] section: the sources auto-watch reports
AUTO_BUILDOUT_ODOO = """
[odoo]
addons = local ${{buildout:addons-directory}}
         git {addons} src/addons main
         hg {hg} src/hgaddons stable
"""

BUILDERS = {"on-a", "on-b", "held", "watcher", "sentinel", "auto"}
#: conf.master_expiry: seconds after which a silent master is taken for dead
EXPIRY = 60


class Fleet:
    """The running cluster and what the tests use of it."""

    def __init__(self, cluster: Cluster, root: Path, gates: Path, shared: Path,
                 repos: dict):
        self.cluster = cluster
        self.root = root
        self.gates = gates
        self.shared = shared
        self.repos = repos

    def api(self, master: str) -> MasterApi:
        return self.cluster.master(master).api

    def masterid(self, master: str) -> int:
        return self.cluster.masterid(master)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, pg_server: PgServer) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("cluster")
    gates, shared = root / "gates", root / "shared-watch"
    gates.mkdir()
    repos = {"watched": GitRepo(root / "repos" / "watched"),
             "deploy": GitRepo(root / "repos" / "deploy"),
             "addons": GitRepo(root / "repos" / "addons"), "hg": HgRepo(root / "repos" / "hg")}
    repos["hg"].commit("stable.txt", "1\n", branch="stable")
    standin = copy_standin_source(root / STANDIN_SOURCES_DIR)
    repos["deploy"].commit("buildout.cfg", build_buildout(
        standin, more=AUTO_BUILDOUT_ODOO.format(addons=repos["addons"].url,
                                                hg=repos["hg"].url)))
    config = MASTER_CFG.format(program=HOLD_PROGRAM, gates=str(gates), shared=str(shared),
                               expiry=EXPIRY)
    files = {"workers.cfg": WORKERS_CFG, "buildouts/empty.cfg": "[buildout]\nparts =\n",
             "buildouts/MANIFEST.cfg": MANIFEST.format(watched=repos["watched"].url,
                                                       deploy=repos["deploy"].url)}
    cluster = Cluster(root, ClusterDatabase(pg_server, "cluster_e2e"), config, files)
    cluster.add_worker("wa", "wa-secret", "a")
    cluster.add_worker("wb", "wb-secret", "b")
    try:
        with cluster:
            yield Fleet(cluster, root, gates, shared, repos)
    finally:
        release_every_gate(gates)


# -- helpers


def release_every_gate(gates: Path) -> None:
    for gate in gates.iterdir():
        with contextlib.suppress(OSError):  # ENXIO: nobody reads that one any more
            os.close(os.open(gate, os.O_WRONLY | os.O_NONBLOCK))


def builds_of(api: MasterApi, brid: int) -> list[dict]:
    return api.get(f"/builds?buildrequestid={brid}&order=buildid")["builds"]


def held_build(fleet: Fleet, api: MasterApi, brid: int, attempt: int) -> tuple[dict, Path]:
    """Build number ``attempt`` of request ``brid``, once its hold step waits on its pipe."""
    build = wait_for(lambda: builds_of(api, brid)[attempt - 1], f"build {attempt} of {brid}",
                     BUILD_TIMEOUT)
    gate = fleet.gates / f"held-{build['number']}"

    def holding() -> bool:
        if api.one("builds", f"/builds/{build['buildid']}")["complete"]:
            raise ProcessError(f"build {build['buildid']} ended before its hold step:\n"
                               + "\n".join(f"{s['name']}: {s['results']} {s['state_string']}"
                                            for s in api.steps(build["buildid"])))
        return gate.exists() and stat.S_ISFIFO(gate.stat().st_mode)

    wait_for(holding, f"the pipe {gate}", BUILD_TIMEOUT)
    return build, gate


def worker_id(api: MasterApi, name: str) -> int:
    return api.one("workers", f"/workers/{name}")["workerid"]


def services(api: MasterApi, collection: str) -> dict[str, int | None]:
    """Schedulers or change sources by name, with the id of the master running each."""
    return {item["name"]: (item["master"] or {}).get("masterid")
            for item in api.get(f"/{collection}")[collection]}


def fleet_page(api: MasterApi) -> str:
    url = api.base.removesuffix("/api/v2") + "/plugins/wsgi_dashboards/fleet/index.html"
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def page_states(html: str) -> tuple[dict[str, str], dict[str, str]]:
    """``({worker: state}, {builder: last result})`` as the Fleet page shows them."""
    workers = dict(re.findall(r'<tr data-worker="([^"]+)">.*?data-state="(\w+)"', html,
                              re.DOTALL))
    results = {builder: result for result, builder in
               re.findall(r'data-result="(\w+)" data-builder="([^"]+)"', html)}
    return workers, results


def first_poll_done(fleet: Fleet) -> bool:
    """Some master's git poller of the auto-watched addons has fetched it once."""
    for master in fleet.cluster.masters.values():
        for refs in (master.directory / "pollers").glob("*/refs/buildbot"):
            if any(refs.rglob("*")):
                return True
    return False


def request_counts(api: MasterApi) -> dict[str, int]:
    return api.build_request_counts()


# -- the tests, in the order a cluster is met


def test_every_builder_once_and_a_build_forced_through_a_runs_on_b(fleet):
    a, b = fleet.masterid("a"), fleet.masterid("b")
    for name in ("a", "b"):
        builders = fleet.api(name).builders()
        names = [builder["name"] for builder in builders]
        assert sorted(names) == sorted(BUILDERS)  # once each, the same on both masters
        assert all(set(builder["masterids"]) == {a, b} for builder in builders), builders
    assert fleet.cluster.connected_to("wb") == {b}

    build = fleet.api("a").build("on-b")
    assert build.result == SUCCESS, build.explain()
    assert build.data["workerid"] == worker_id(fleet.api("a"), "wb")
    assert build.data["masterid"] == b


def test_each_poller_and_scheduler_runs_on_one_master_and_a_commit_builds_once(fleet):
    api = fleet.api("a")
    ids = {fleet.masterid("a"), fleet.masterid("b")}
    for collection in ("schedulers", "changesources"):
        running = services(api, collection)
        assert running == services(fleet.api("b"), collection)
        assert set(running.values()) <= ids, running  # each one runs, on one master
    assert set(services(api, "schedulers")) == {
        "buildbot-odoo-force", "watch-watcher", "watch-sentinel", "watch-auto"}

    watched = fleet.repos["watched"]
    before = request_counts(api)
    revision = watched.commit("file.txt", "1\n", branch="main")

    def sentinel_decided() -> bool:
        builderid = api.one("builders", "/builders/sentinel")["builderid"]
        newest = api.get(f"/builders/{builderid}/buildrequests?order=-buildrequestid&limit=1")
        if not newest["buildrequests"]:
            return False
        buildset = api.one("buildsets", f"/buildsets/{newest['buildrequests'][0]['buildsetid']}")
        return any(s["revision"] == revision for s in buildset["sourcestamps"])

    wait_for(sentinel_decided, "the sentinel's build request for the commit", 120)
    after = request_counts(api)
    assert {n: after[n] - before[n] for n in after if after[n] != before[n]} == {
        "watcher": 1, "sentinel": 1}
    changes = api.get("/changes")["changes"]
    assert [c["revision"] for c in changes].count(revision) == 1  # one poller saw it


def test_auto_watch_data_uploaded_through_b_is_polled_wherever_the_pollers_run(fleet):
    addons, hg = fleet.repos["addons"], fleet.repos["hg"]
    build = fleet.api("a").build("auto")  # auto requires site-b: wb, through master b
    assert build.result == SUCCESS, build.explain()
    assert build.data["masterid"] == fleet.masterid("b")
    assert build.step("upload-auto-watch")["results"] == SUCCESS
    assert (fleet.shared / "auto").is_file()
    assert not any((m.directory / "watch").exists() for m in fleet.cluster.masters.values())

    for master in fleet.cluster.masters.values():  # auto-watch data is read at reconfig
        master.reconfig()
    expected = {f"git {addons.url} main", f"hg {hg.url} stable"}
    running = services(fleet.api("a"), "changesources")
    assert expected <= set(running)
    wait_for(lambda: all(services(fleet.api("a"), "changesources")[n] for n in expected),
             "the new pollers to run on a master", 60)
    wait_for(lambda: first_poll_done(fleet), "the first poll of the addons", 60)
    before = request_counts(fleet.api("b"))["auto"]
    addons.commit("new_addon.txt", "1\n", branch="main")
    wait_for(lambda: request_counts(fleet.api("b"))["auto"] > before,
             "a build request of auto from the addons", 90)
    newest = fleet.api("b").get("/buildrequests?order=-buildrequestid&limit=1")
    fleet.api("b").wait_complete(newest["buildrequests"][0]["buildrequestid"],
                                 "the scheduled build of auto")
    assert request_counts(fleet.api("b"))["auto"] == before + 1


def test_the_fleet_page_of_either_master_shows_the_whole_fleet(fleet):
    build = fleet.api("b").build("on-a")  # a last result for a builder of master a's worker
    assert build.result == SUCCESS, build.explain()
    for name in ("a", "b"):
        workers, results = page_states(fleet_page(fleet.api(name)))
        assert workers == {"wa": "connected", "wb": "connected", "idle": "disconnected"}
        assert results["on-a"] == results["on-b"] == "SUCCESS"
        assert set(results) == BUILDERS


def test_stopping_master_a_retries_its_running_build_on_master_b(fleet):
    api_b = fleet.api("b")
    a, b = fleet.masterid("a"), fleet.masterid("b")
    brid = api_b.force("held")  # held requires site-a: wa, connected to master a
    first, _gate = held_build(fleet, api_b, brid, 1)
    assert first["masterid"] == a

    fleet.cluster.master("a").stop()
    wait_for(lambda: api_b.one("builds", f"/builds/{first['buildid']}")["complete"],
             "the build on master a to end", 120)
    assert api_b.one("builds", f"/builds/{first['buildid']}")["results"] == RETRY
    wait_for(lambda: fleet.cluster.connected_to("wa") == {b}, "wa to reach master b",
             CONNECT_TIMEOUT)

    second, gate = held_build(fleet, api_b, brid, 2)
    assert second["masterid"] == b
    with open(gate, "w") as stream:
        stream.write("released\n")
    api_b.wait_complete(brid, "the request built again on master b")
    assert api_b.one("builds", f"/builds/{second['buildid']}")["results"] == SUCCESS


def test_killing_the_master_of_a_running_build_retries_it_on_the_other(fleet):
    cluster = fleet.cluster
    for master in cluster.masters.values():  # the test before stopped master a
        if not master.running():
            master.start()
    api = cluster.api()
    brid = api.force("held")  # held requires site-a: wa, wherever it is connected
    first, _gate = held_build(fleet, api, brid, 1)
    ids = {name: fleet.masterid(name) for name in cluster.masters}
    [dead] = [name for name, masterid in ids.items() if masterid == first["masterid"]]
    [survivor] = [name for name in cluster.masters if name != dead]
    api = fleet.api(survivor)

    cluster.master(dead).kill()
    # the worker comes through the proxy at once; the dead master's claim on it (and on
    # the build and its request) goes when the survivor expires it
    wait_for(lambda: cluster.connected_to("wa") == {ids[survivor]},
             f"wa on master {survivor} alone", 3 * EXPIRY + CONNECT_TIMEOUT)
    wait_for(lambda: api.one("builds", f"/builds/{first['buildid']}")["complete"],
             "the killed master's build to be ended", 3 * EXPIRY)
    assert api.one("builds", f"/builds/{first['buildid']}")["results"] == RETRY
    hold = next(s for s in api.steps(first["buildid"]) if s["name"] == "hold")
    assert hold["results"] == RETRY
    assert not api.one("masters", f"/masters/{ids[dead]}")["active"]

    second, gate = held_build(fleet, api, brid, 2)
    assert second["masterid"] == ids[survivor]
    with open(gate, "w") as stream:
        stream.write("released\n")
    api.wait_complete(brid, f"the request built again on master {survivor}")
    assert api.one("builds", f"/builds/{second['buildid']}")["results"] == SUCCESS
    assert [b["results"] for b in builds_of(api, brid)] == [RETRY, SUCCESS]
