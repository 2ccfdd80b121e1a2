"""End to end: post-buildout subfactories on a real master, worker and PostgreSQL.

* packaging: a build installs and updates the stand-in's addons
  (``install-modules``, ``update-modules``), packages the built buildout and
  uploads it to the master; a second build, forced with the two properties the
  first one set, builds and tests from that archive (``archive`` retriever,
  checksum checked) -- the archive layout is the one both ends agree on;
* use-port: two ``functional`` builds run at once on the one worker, each with
  its own reserved port and its own stand-in server, each checking that the
  server it talks to serves its own database; their functional commands wait
  for each other (``check_server.py --meet``), so both hold their port and run
  their server at the same moment whatever the machine's load; ports and
  servers are released.

The site is the one of ``test_build_e2e`` (:func:`standin_site` of
:mod:`tests.support.buildbot_processes`: a master, its worker ``w1``, the
stand-in buildout), with its own master.cfg lines and manifest.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from buildbot.process.results import SUCCESS

from tests.support.buildbot_processes import FinishedBuild, Site, standin_site
from tests.support.postgres import PgServer, free_port
from tests.support.standin import FIXTURES

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

CHECK_SERVER = FIXTURES / "functional" / "check_server.py"

#: after the test master's header: buildbot-odoo, plus a force form naming the
#: package an archive build deploys
MASTER_CFG = '''\
from buildbot.plugins import schedulers, util

from buildbot_odoo import configure_from_buildouts

configure_from_buildouts(basedir, c)
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
functional.command = python3 {check} {{url}} {{db}} --meet {meet} --count 2
functional.path = /

[func-b]
inherit = func-a
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer):
    """A master and its worker ``w1``, whose postgresql capability is ``pg_server``."""
    port_min = free_port()
    meet = tmp_path_factory.mktemp("functional-meet")
    manifest = MANIFEST_CFG.format(check=CHECK_SERVER, port_min=port_min,
                                   port_max=port_min + 700, meet=meet)
    with standin_site(tmp_path_factory.mktemp("subfactories"), pg_server, MASTER_CFG,
                      manifest) as made:
        yield made


def builder(site: Site, prefix: str) -> str:
    """The builder of build ``prefix`` (the one PostgreSQL version of the site)."""
    return next(name for name in site.api.names("builders") if name.startswith(prefix + "-pg"))


@pytest.fixture(scope="module")
def packaged(site: Site) -> tuple[FinishedBuild, FinishedBuild]:
    """The packaging build, then an archive build deploying what it uploaded."""
    package = site.api.build(builder(site, "pkg"))
    props = package.properties
    deploy = site.api.finished_build(site.api.force(
        builder(site, "from-pkg"), scheduler="deploy",
        params={"packaging_dir": props.get("packaging_dir", ""),
                "packaging_name": props.get("packaging_name", "")}))
    print(f"\npackaging build: {package.wall}s, steps: {package.explain()}")
    return package, deploy


def test_packaging_build_installs_updates_and_uploads(packaged, site):
    package, _ = packaged
    assert package.result == SUCCESS, package.explain()
    assert "--without-demo=all" in package.log("install-modules")
    assert package.step("update-modules")["state_string"] == "no error in the Odoo log"
    name, directory = package.properties["packaging_name"], package.properties["packaging_dir"]
    assert (name, directory) == (f"pkg-{package.data['number']}", "pkg")
    archive = site.master.directory / "packages" / "pkg" / f"{name}.tar.bz2"
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
def functional_pair(site: Site) -> list[FinishedBuild]:
    """Two functional builds forced together on the one worker."""
    requests = [site.api.force(builder(site, name)) for name in ("func-a", "func-b")]
    return [site.api.finished_build(brid) for brid in requests]


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
    # both builds met while serving (check_server.py --meet): each had its own port then
    for build in functional_pair:
        assert "met [" in build.log("functional-tests")
    ports = [b.properties["odoo_http_port"] for b in functional_pair]
    assert len(set(ports)) == 2, ports
    print(f"\nfunctional builds got ports {ports}")


def test_ports_and_servers_are_released(functional_pair, site):
    for build in functional_pair:
        assert build.step("release-http-port")["results"] == SUCCESS
        assert build.step("stop-odoo-server-cleanup")["results"] == SUCCESS
        assert port_is_free(build.properties["odoo_http_port"])
    assert list((site.workers[0].directory / "port-claims").glob("*.claim")) == []
