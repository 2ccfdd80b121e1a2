"""End to end: post-buildout subfactories on a real master, worker and PostgreSQL.

* packaging: a build installs and updates the stand-in's addons
  (``install-modules``, ``update-modules``), packages the built buildout and
  uploads it to the master; a second build, forced with the two properties the
  first one set, builds and tests from that archive (``archive`` retriever,
  checksum checked) -- the archive layout is the one both ends agree on;
* use-port: two ``functional`` builds run at once on the one worker, each with
  its own reserved port and its own stand-in server, each checking that the
  server it talks to serves its own database; ports and servers are released.

The site is the one of :mod:`tests.integration.test_build_e2e` (same master
and worker processes, same REST helpers), with its own manifest.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.integration import test_build_e2e as e2e
from tests.support.postgres import PgServer

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

SUCCESS = e2e.SUCCESS
CHECK_SERVER = e2e.FIXTURES / "functional" / "check_server.py"

#: the e2e master, plus a force form naming the package an archive build deploys
MASTER_CFG = e2e.MASTER_CFG + '''
from buildbot.plugins import schedulers, util
c["schedulers"].append(schedulers.ForceScheduler(
    name="deploy", builderNames=[b.name for b in c["builders"] if b.name.startswith("from-pkg")],
    properties=[util.StringParameter(name="packaging_dir"),
                util.StringParameter(name="packaging_name")]))
'''

MANIFEST_CFG = '''\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok

[pkg]
post-dl-steps = packaging
post-buildout-steps = install-modules update-modules packaging
packaging.root-dir = packages
packaging.include = etc
install.demo-data = false

[from-pkg]
buildout = archive packaging_dir packaging_name standin.cfg
archive.root-dir = packages

[func-a]
post-buildout-steps = install-modules functional
odoo.http-port-min = {port_min}
odoo.http-port-max = {port_max}
odoo.http-port-step = 7
functional.command = python3 {check} {{url}} {{db}} --hold 4
functional.path = /

[func-b]
inherit = func-a
'''


class Site(e2e.Site):
    def write_master(self, pg: PgServer) -> None:
        super().write_master(pg)
        port_min = e2e.free_port()
        manifest = MANIFEST_CFG.format(check=CHECK_SERVER, port_min=port_min,
                                       port_max=port_min + 700)
        (self.master / "master.cfg").write_text(
            MASTER_CFG.format(pb=self.pb_port, www=self.www_port))
        (self.master / "buildouts" / "MANIFEST.cfg").write_text(manifest)

    def builder(self, prefix: str) -> str:
        return next(b["name"] for b in self.get("/builders")["builders"]
                    if b["name"].startswith(prefix + "-pg"))

    def force_with(self, scheduler: str, builder: str, **params: str) -> int:
        builderid = self.get(f"/builders/{builder}")["builders"][0]["builderid"]
        body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                           "params": {"builderid": builderid, **params}}).encode()
        request = urllib.request.Request(f"{self.api}/forceschedulers/{scheduler}", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert "error" not in answer, answer
        return int(next(iter(answer["result"][1].values())))

    def finished(self, brid: int) -> e2e.Build:
        e2e.wait_for(lambda: self.get(f"/buildrequests/{brid}")["buildrequests"][0]["complete"],
                     f"build request {brid}", e2e.BUILD_TIMEOUT)
        build = self.get(f"/builds?buildrequestid={brid}")["builds"][0]
        props = self.get(f"/builds/{build['buildid']}/properties")["properties"][0]
        return e2e.Build(build, self.get(f"/builds/{build['buildid']}/steps")["steps"],
                         {k: v[0] for k, v in props.items()}, self, 0.0)


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer):
    pg_server.create_role(getpass.getuser(), createdb=True)
    made = Site(tmp_path_factory.mktemp("subfactories"))
    made.write_master(pg_server)
    try:
        made.start()
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def packaged(site: Site) -> tuple[e2e.Build, e2e.Build]:
    """The packaging build, then an archive build deploying what it uploaded."""
    package = site.build(site.builder("pkg"))
    props = package.properties
    deploy = site.finished(site.force_with(
        "deploy", site.builder("from-pkg"), packaging_dir=props.get("packaging_dir", ""),
        packaging_name=props.get("packaging_name", "")))
    print(f"\npackaging build: {package.wall}s, steps: {package.explain()}")
    return package, deploy


def test_packaging_build_installs_updates_and_uploads(packaged, site):
    package, _ = packaged
    assert package.result == SUCCESS, package.explain()
    assert "--without-demo=all" in package.log("install-modules")
    assert package.step("update-modules")["state_string"] == "no error in the Odoo log"
    name, directory = package.properties["packaging_name"], package.properties["packaging_dir"]
    assert (name, directory) == (f"pkg-{package.data['number']}", "pkg")
    archive = site.master / "packages" / "pkg" / f"{name}.tar.bz2"
    checksum = Path(f"{archive}.md5").read_text().split()[0]
    assert checksum == hashlib.md5(archive.read_bytes(), usedforsecurity=False).hexdigest()
    builddir = Path(package.properties["builddir"])
    assert not (builddir / "dist").exists(), "the package stayed on the worker"


def test_archive_build_deploys_the_uploaded_package(packaged):
    package, deploy = packaged
    assert deploy.result == SUCCESS, deploy.explain()
    assert deploy.properties["packaging_name"] == package.properties["packaging_name"]
    assert "md5" in deploy.log("unpack-archive") and "OK" in deploy.log("unpack-archive")
    assert deploy.step("odoo-tests")["state_string"] == "3 tests, 0 failures, 0 errors"
    unpacked = Path(deploy.properties["builddir"]) / "build"
    assert (unpacked / "etc" / "odoo.cfg").is_file()  # packaged by packaging.include = etc


@pytest.fixture(scope="module")
def functional_pair(site: Site) -> list[e2e.Build]:
    """Two functional builds forced together on the one worker."""
    requests = [site.force(site.builder(name)) for name in ("func-a", "func-b")]
    return [site.finished(brid) for brid in requests]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def test_concurrent_functional_builds_each_get_their_own_port_and_server(functional_pair):
    for build in functional_pair:
        assert build.result == SUCCESS, build.explain()
        db = build.properties["testing_db"]
        assert f"the stand-in serves {db}" in build.log("functional-tests")
        assert build.step("stop-odoo-server")["state_string"] == "no error in the server log"
    ports = [b.properties["odoo_http_port"] for b in functional_pair]
    # the lowest free port is always taken first: distinct ports mean both builds held
    # their reservation at the same time
    assert len(set(ports)) == 2, ports
    print(f"\nfunctional builds got ports {ports}")


def test_ports_and_servers_are_released(functional_pair, site):
    for build in functional_pair:
        assert build.step("release-http-port")["results"] == SUCCESS
        assert build.step("stop-odoo-server-cleanup")["results"] == SUCCESS
        assert port_is_free(build.properties["odoo_http_port"])
    assert list((site.worker / "port-claims").glob("*.claim")) == []
