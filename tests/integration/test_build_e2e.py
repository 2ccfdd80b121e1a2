"""End to end: a real master and a real worker build the Odoo stand-in (SPEC 6).

Two processes started with Buildbot's own command lines (``buildbot start``,
``buildbot-worker start``) talk PB over 127.0.0.1; the master's configuration
is a plain master.cfg calling ``configure_from_buildouts`` on a workers.cfg
whose postgresql capability is a real server of the test fixtures.  Builds are
forced and read through the REST API, as a user's tools would.

One build whose tests pass, one whose test fails (red, the test named in the
step summary), then the passing one again: the caches shared per worker make
the second faster.  The testing database is gone after each build.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.postgres import PgServer, free_port

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

BIN = Path(sys.executable).parent
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUILD_TIMEOUT = 600
SUCCESS, FAILURE = 0, 2
#: step names this build pipeline must show, in this order
PIPELINE = ["download-buildout", "capabilities", "testing-database", "cache-directories",
            "virtualenv", "install-zc-buildout", "buildout", "dropdb", "createdb",
            "disable-outgoing-mail", "remove-old-odoo-log", "odoo-tests", "drop-testing-database"]

MASTER_CFG = '''\
# The e2e master: plain Buildbot around buildbot-odoo.
from buildbot_odoo import configure_from_buildouts

c = BuildmasterConfig = {{}}
c["protocols"] = {{"pb": {{"port": "tcp:{pb}:interface=127.0.0.1"}}}}
c["www"] = {{"port": "tcp:{www}:interface=127.0.0.1", "plugins": {{}}}}
c["buildbotURL"] = "http://127.0.0.1:{www}/"
c["db"] = {{"db_url": "sqlite:///state.sqlite"}}
c["buildbotNetUsageData"] = None
c["collapseRequests"] = False
configure_from_buildouts(basedir, c)
'''

#: The stand-in, plus a part whose eggs come from the index: the cold build fetches
#: them into the worker's egg cache, the warm one must find them there.
BUILDOUT_CFG = '''\
[buildout]
extends = {fixtures}/buildouts/standin.cfg
standin-source = {standin}
addons-directory = {fixtures}/addons
parts += tools

[tools]
recipe = zc.recipe.egg
eggs = six
'''

MANIFEST_CFG = '''\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12

[green]
odoo-addons = standin_ok

[red]
odoo-addons = standin_failing

[green-git]
buildout = git file://{repo} main standin.cfg subdir=deploy
odoo-addons = standin_ok
'''


@dataclass
class Site:
    """A master directory, a worker directory, and the REST API of the master."""

    root: Path
    pb_port: int = field(default_factory=free_port)
    www_port: int = field(default_factory=free_port)

    @property
    def master(self) -> Path:
        return self.root / "master"

    @property
    def worker(self) -> Path:
        return self.root / "worker"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.www_port}/api/v2"

    def write_master(self, pg: PgServer) -> None:
        run([BIN / "buildbot", "create-master", "-r", self.master])
        standin = self.root / "odoo_standin"  # a copy: develop eggs write in their source
        shutil.copytree(FIXTURES / "odoo_standin", standin,
                        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
        buildout = BUILDOUT_CFG.format(fixtures=FIXTURES, standin=standin)
        repo = self.make_git_repo({"deploy/standin.cfg": buildout})
        files = {
            "master.cfg": MASTER_CFG.format(pb=self.pb_port, www=self.www_port),
            "workers.cfg": f"[w1]\npassword = e2e-secret\ncapability = {pg.capability_line()}\n",
            "buildouts/MANIFEST.cfg": MANIFEST_CFG.format(repo=repo),
            "buildouts/standin.cfg": buildout,
        }
        for name, text in files.items():
            path = self.master / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def make_git_repo(self, files: dict[str, str]) -> Path:
        """A one-commit repository on branch ``main`` holding ``files``."""
        repo = self.root / "buildout-repo"
        for name, text in files.items():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text(text)
        env = {**os.environ, "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.com",
               "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.com"}
        for command in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "x"]):
            run(["git", "-C", repo, *command], env=env)
        return repo

    def start(self) -> None:
        run([BIN / "buildbot", "start", self.master], log=self.master / "twistd.log")
        run([BIN / "buildbot-worker", "create-worker", "-r", self.worker,
             f"127.0.0.1:{self.pb_port}", "w1", "e2e-secret"])
        run([BIN / "buildbot-worker", "start", self.worker], env=worker_environ(),
            log=self.worker / "twistd.log")
        wait_for(lambda: self.get("/workers/w1")["workers"][0]["connected_to"],
                 "the worker to connect", 60)

    def stop(self) -> None:
        for command, directory in ((BIN / "buildbot-worker", self.worker),
                                   (BIN / "buildbot", self.master)):
            if (directory / "twistd.pid").exists():
                subprocess.run([command, "stop", directory], capture_output=True, timeout=60)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.api + path, timeout=30) as response:
            return json.load(response)

    def force(self, builder: str) -> int:
        """Force a build of ``builder`` through the REST API; its build request id."""
        builderid = self.get(f"/builders/{builder}")["builders"][0]["builderid"]
        body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                           "params": {"builderid": builderid}}).encode()
        request = urllib.request.Request(self.api + "/forceschedulers/force", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert "error" not in answer, answer
        return int(next(iter(answer["result"][1].values())))

    def build(self, builder: str) -> Build:
        """Force, wait for the end, and read what the REST API says of the build."""
        started = time.monotonic()
        brid = self.force(builder)
        wait_for(lambda: self.get(f"/buildrequests/{brid}")["buildrequests"][0]["complete"],
                 f"the build of {builder}", BUILD_TIMEOUT)
        build = self.get(f"/builds?buildrequestid={brid}")["builds"][0]
        buildid = build["buildid"]
        props = self.get(f"/builds/{buildid}/properties")["properties"][0]
        return Build(build, self.get(f"/builds/{buildid}/steps")["steps"],
                     {k: v[0] for k, v in props.items()}, self,
                     round(time.monotonic() - started, 1))

    def caches(self) -> Path:
        return self.worker / "buildout-caches"


@dataclass
class Build:
    data: dict
    steps: list[dict]
    properties: dict
    site: Site
    wall: float  # seconds from the force request to the build request's completion

    @property
    def result(self) -> int:
        return self.data["results"]

    def step(self, name: str) -> dict:
        return next(s for s in self.steps if s["name"] == name)

    def elapsed(self, name: str) -> float:
        """The command's run time as the worker measured it (the REST times are whole seconds)."""
        match = re.search(r"^elapsedTime=([0-9.]+)$", self.log(name), re.MULTILINE)
        return round(float(match.group(1)), 2) if match else float("nan")

    def log(self, step_name: str, log: str = "stdio") -> str:
        stepid = self.step(step_name)["stepid"]
        url = f"{self.site.api}/steps/{stepid}/logs/{log}/raw"
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode("utf-8", "replace")

    def explain(self) -> str:
        return "\n".join(f"{s['name']}: {s['results']} {s['state_string']}" for s in self.steps)


def run(command: list, env: dict | None = None, log: Path | None = None) -> None:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          env=env, timeout=120)
    if done.returncode != 0:
        tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
        raise AssertionError(f"{command} failed:\n{done.stdout}{done.stderr}\n{tail}")


def worker_environ() -> dict[str, str]:
    """The worker's environment: ours, without this virtualenv nor libpq settings.

    A worker must not run with a virtualenv's bin on PATH (worker-setup.rst),
    and only the capability options may decide which PostgreSQL a build uses.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != BIN.resolve())
    return env


def wait_for(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (OSError, IndexError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer):
    # The worker runs as this OS user; libpq's default role is its name (worker-setup.rst).
    pg_server.create_role(getpass.getuser(), createdb=True)
    made = Site(tmp_path_factory.mktemp("e2e"))
    made.write_master(pg_server)
    try:
        made.start()
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def builds(site: Site, pg_server: PgServer) -> dict[str, Build]:
    """Cold green, red, warm green, in that order, on the one worker."""
    builder = {b["name"].split("-pg")[0]: b["name"]
               for b in site.get("/builders")["builders"]}
    made = {}
    for key, name in (("cold", "green"), ("red", "red"), ("warm", "green"),
                      ("git", "green-git")):
        made[key] = site.build(builder[name])
        db = made[key].properties.get("testing_db")
        made[key].properties["_db_left"] = bool(db) and pg_server.database_exists(db)
    timings = {k: b.wall for k, b in made.items()}
    steps = {k: {n: b.elapsed(n) for n in ("virtualenv", "install-zc-buildout", "buildout")}
             for k, b in made.items()}
    summaries = {k: b.step("odoo-tests")["state_string"] for k, b in made.items()}
    print(f"\nbuild durations (s): {timings}\nstep durations (s): {steps}\n"
          f"odoo-tests summaries: {summaries}")
    return made


def test_passing_build_is_green_through_the_whole_pipeline(builds):
    build = builds["cold"]
    assert build.result == SUCCESS, build.explain()
    names = [s["name"] for s in build.steps]
    assert [n for n in names if n in PIPELINE] == PIPELINE, names
    assert build.properties["testing_db"].startswith("odoo_buildbot-green-pg")


def test_buildout_got_the_testing_database_settings(builds, pg_server):
    build = builds["cold"]
    log = build.log("buildout")
    db = build.properties["testing_db"]
    assert f"odoo:options.db_name={db}" in log
    assert f"odoo:options.db_port={pg_server.port}" in log
    assert f"odoo:options.db_host={pg_server.socket_dir}" in log
    assert "odoo:options.db_user=False" in log


def test_failing_test_makes_the_build_red_and_is_named(builds):
    build = builds["red"]
    assert build.result == FAILURE, build.explain()
    tests = build.step("odoo-tests")
    assert tests["results"] == FAILURE
    assert "test_fails" in tests["state_string"], tests["state_string"]
    assert build.step("drop-testing-database")["results"] == SUCCESS


def test_testing_database_is_dropped_after_every_build(builds):
    for key, build in builds.items():
        assert build.properties["testing_db"], key
        assert build.properties["_db_left"] is False, f"{key}: {build.properties['testing_db']}"


def test_warm_build_reuses_the_worker_caches(builds, site):
    cold, warm = builds["cold"], builds["warm"]
    assert warm.result == SUCCESS, warm.explain()
    caches = site.caches()
    assert sorted(p.name for p in caches.iterdir()) == ["downloads", "eggs", "pip"]
    # both builders' buildouts used the one cache directory of the worker
    for build in (cold, builds["red"]):
        assert f"buildout:eggs-directory={caches / 'eggs'}" in build.log("buildout")
    assert "Getting distribution for 'zc.recipe.egg" in cold.log("buildout")
    assert list((caches / "eggs").glob("**/zc.recipe.egg*")), "no egg cached"
    assert "Getting distribution" not in warm.log("buildout")


def test_git_buildout_in_a_subdir_builds_in_the_linked_directory(builds, site):
    build = builds["git"]
    assert build.result == SUCCESS, build.explain()
    names = [s["name"] for s in build.steps]
    assert names[:5] == ["worker_preparation", "checkout-buildout", "unlink-build-directory",
                         "link-build-directory", "check-buildout-file"], names
    builddir = Path(build.properties["builddir"])
    assert (builddir / "build").resolve() == (builddir / "src" / "deploy").resolve()
    assert (builddir / "src" / "deploy" / "bin" / "test_odoo").is_file()
    head = subprocess.run(["git", "-C", site.root / "buildout-repo", "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert build.properties["got_revision"] == head
