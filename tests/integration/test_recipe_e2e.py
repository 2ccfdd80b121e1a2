"""End to end: Odoo buildouts as users write them for oca.recipe.odoo (issue 8).

A real master and worker (tests/support/buildbot_processes.py), a real
PostgreSQL and zc.buildout, the stand-in Odoo 17 and the stand-in of
oca.recipe.odoo (tests/fixtures/README.md):

* the sample buildout ``buildbot-odoo init`` writes, with only what a user
  edits (where the recipe checkout is, Odoo's git URL: here a local clone of
  the stand-in, and the project's addons), builds green; a failing test makes
  it red with the test named;
* an Odoo tree whose path sorts before the build's ``develop-eggs`` works with
  the bootstrap's default (zc.buildout 5.2.0 with zc.recipe.egg 4.0.0), and
  with zc.buildout 6 fails with a summary saying why and what to do;
* two builders of one worker taking Odoo from the same archive download it
  once (the HTTP server counts the requests);
* ``update-modules`` runs the buildout's upgrade script, its log read;
* a manifest asking for ``bin/test_odoo`` gets the recipe's test script, which
  dies on Python 3 as users' do, and the summary says why; without
  ``with_devtools`` the script is not made, and the summary says so.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS

from tests.support.buildbot_processes import (
    STANDIN_SOURCES_DIR,
    FinishedBuild,
    Site,
    standin_site,
)
from tests.support.postgres import PgServer
from tests.support.repos import GitRepo
from tests.support.standin import (
    ADDONS_DIR,
    ODOO_SOURCE,
    copy_standin_source,
    odoo_source,
    recipe_source,
)

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

MASTER_CFG = """\
from buildbot_odoo import configure_from_buildouts

configure_from_buildouts(basedir, c)
"""
#: what `buildbot-odoo init` writes
TEMPLATES = Path(__file__).resolve().parents[2] / "buildbot_odoo" / "templates" / "master"
SAMPLE_MANIFEST = TEMPLATES / "buildouts" / "MANIFEST.cfg"
SAMPLE_BUILDOUT = TEMPLATES / "buildouts" / "odoo-17.cfg"
ARCHIVE = "odoo_17.0.latest.tar.gz"
#: the version that develops Odoo with an egg link only: the bootstrap's default
KNOWN_GOOD_BUILDOUT = "5.2.0"

MANIFEST = """\
{docs_sample}
odoo-addons = standin_ok

[docs-red]
inherit = odoo-17
odoo-addons = standin_failing

[order-known-good]
buildout = standalone order.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok

[order-zc-buildout-6]
inherit = order-known-good
buildout = standalone order6.cfg
bootstrap-version = 6.0.1

[archive-a]
buildout = standalone archive.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok

[archive-b]
inherit = archive-a

[upgrade]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok
post-buildout-steps = install-modules update-modules
update-modules.upgrade-script = true

[devtools]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok
test-command = bin/test_odoo

[no-test-script]
inherit = devtools
buildout.with-devtools = false
"""

#: an Odoo tree sorting before every build directory (root/a... < root/worker/...)
ORDER_BUILDOUT = """\
[buildout]
parts = odoo
develop = {recipe}
newest = false
versions = versions

[versions]
{pins}

[odoo]
recipe = oca.recipe.odoo:server
version = local {odoo}
addons = local {addons}
"""


def docs_buildout(repo_url: str, recipe: Path) -> str:
    """The init sample, edited where a user edits it."""
    text = SAMPLE_BUILDOUT.read_text()
    text = text.replace("recipe-checkout = /srv/buildout/oca.recipe.odoo",
                        f"recipe-checkout = {recipe}")
    text = text.replace("https://github.com/odoo/odoo.git", repo_url)
    text = text.replace("[odoo]\n", f"[odoo]\naddons = local {ADDONS_DIR}\n")
    assert str(recipe) in text and repo_url in text, "the sample buildout changed shape"
    return text


def docs_manifest_section() -> str:
    """The init sample's build, as written (bootstrap-python python3.11 included), building
    docs.cfg (the sample buildout as edited by :func:`docs_buildout`)."""
    text = SAMPLE_MANIFEST.read_text()
    section = text[text.index("[odoo-17]"):].rstrip()
    assert "odoo-addons = base" in section and "bootstrap-python = python3.11" in section
    assert "buildout = standalone odoo-17.cfg" in section
    return (section.replace("odoo-addons = base\n", "")
            .replace("standalone odoo-17.cfg", "standalone docs.cfg"))


def odoo_repository(path: Path) -> GitRepo:
    """A git repository of the stand-in Odoo tree, branch 17.0, with some history."""
    repo = GitRepo(path, branch="17.0")
    for source in sorted(ODOO_SOURCE.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            target = repo.path / source.relative_to(ODOO_SOURCE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    subprocess.run(["git", "-C", repo.path, "add", "-A"], check=True)
    repo.commit("HISTORY", "the tree\n")
    repo.commit("HISTORY", "a later commit\n")
    return repo


class _CountingHandler(SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory):
    """The stand-in Odoo as an archive over HTTP; the list of requests it answered."""
    served = tmp_path_factory.mktemp("served")
    with tarfile.open(served / ARCHIVE, "w:gz") as tar:
        tar.add(ODOO_SOURCE, arcname="odoo-17.0",
                filter=lambda info: None if "__pycache__" in info.name else info)
    handler = type("Handler", (_CountingHandler,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{ARCHIVE}", handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer, archive_server):
    root = tmp_path_factory.mktemp("recipe-e2e")
    url, _ = archive_server
    made = standin_site(root, pg_server, MASTER_CFG, MANIFEST.format(
        docs_sample=docs_manifest_section()))
    sources = root / STANDIN_SOURCES_DIR
    early = copy_standin_source(root / "a-sources")
    assert str(early) < str(root / "worker"), "the tree must sort before the build directories"
    repo = odoo_repository(root / "odoo-git")
    order = {"recipe": recipe_source(early), "odoo": odoo_source(early), "addons": ADDONS_DIR}
    made.master.write("buildouts/docs.cfg", docs_buildout(repo.url, recipe_source(sources)))
    made.master.write("buildouts/order.cfg", ORDER_BUILDOUT.format(
        pins="zc.recipe.egg = 4.0.0", **order))
    made.master.write("buildouts/order6.cfg", ORDER_BUILDOUT.format(pins="", **order))
    made.master.write("buildouts/archive.cfg", (made.master.directory / "buildouts" /
                                                "standin.cfg").read_text()
                      + f"\n[odoo]\nversion = url {url}\n")
    with made:
        yield made


def builder(site: Site, build: str) -> str:
    return next(n for n in site.api.names("builders") if re.fullmatch(rf"{build}-pg[\d.]+", n))


@pytest.fixture(scope="module")
def builds(site: Site) -> dict[str, FinishedBuild]:
    """Every build forced at once: the worker runs them side by side (its buildout
    steps one at a time, under the caches lock), as a worker of many builders does."""
    names = ("odoo-17", "docs-red", "order-known-good", "order-zc-buildout-6", "archive-a",
             "archive-b", "upgrade", "devtools", "no-test-script")
    requests = {name: site.api.force(builder(site, name)) for name in names}
    made = {name: site.api.finished_build(brid) for name, brid in requests.items()}
    print("\n" + "\n".join(f"{name}: result {b.result}, {b.wall}s" for name, b in made.items()))
    return made


def test_the_init_sample_buildout_builds_green(builds):
    build = builds["odoo-17"]
    assert build.result == SUCCESS, build.explain()
    assert build.step("odoo-tests")["state_string"] == "3 tests, 0 failures, 0 errors"
    assert "python3.11 -m venv" in build.log("bootstrap")
    clone = Path(build.properties["builddir"]) / "build" / "parts" / "odoo"
    assert (clone / "odoo-bin").is_file()
    count = subprocess.run(["git", "-C", clone, "rev-list", "--count", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert count == "1", "depth=1 of the sample: one commit, not the history"


def test_a_failing_odoo_test_makes_it_red_and_is_named(builds):
    build = builds["docs-red"]
    assert build.result == FAILURE, build.explain()
    tests = build.step("odoo-tests")
    assert tests["results"] == FAILURE
    assert tests["state_string"] == "2 tests, 1 failure, 0 errors: TestMixed.test_fails"


def test_an_odoo_tree_sorting_before_develop_eggs_works_with_the_known_good_buildout(builds):
    build = builds["order-known-good"]
    assert build.result == SUCCESS, build.explain()
    assert f"zc.buildout=={KNOWN_GOOD_BUILDOUT} zc.recipe.egg==4.0.0" in build.log("bootstrap")
    develop_eggs = Path(build.properties["builddir"]) / "build" / "develop-eggs"
    assert sorted(p.name for p in develop_eggs.iterdir()) == [
        "oca.recipe.odoo.egg-link", "odoo.egg-link"]


def test_with_zc_buildout_6_the_summary_says_why_and_what_to_do(builds):
    build = builds["order-zc-buildout-6"]
    assert build.result == FAILURE, build.explain()
    assert build.step("buildout")["results"] == SUCCESS
    # the first step to start Odoo installs the addons' dependencies
    summary = build.step("odoo-dependencies")["state_string"]
    assert summary.startswith("bin/start_odoo died before Odoo logged anything (exit code 1): "
                              "ModuleNotFoundError: No module named 'openerp' -- "), summary
    assert "use zc.buildout 5.2.0" in summary


def test_a_second_builder_does_not_download_the_same_archive(builds, site, archive_server):
    url, requests = archive_server
    builders = (builds["archive-a"], builds["archive-b"])
    for build in builders:
        assert build.result == SUCCESS, build.explain()
    # whichever ran its buildout first downloaded the archive, the other found it
    downloaded = [f"Downloading {url} ..." in build.log("buildout") for build in builders]
    assert sorted(downloaded) == [False, True]
    assert requests == [f"/{ARCHIVE}"]
    downloads = site.workers[0].directory / "buildout-caches" / "odoo-downloads"
    assert [p.name for p in downloads.iterdir()] == [ARCHIVE]
    for build in builders:
        assert (Path(build.properties["builddir"]) / "build" / "parts" / "odoo-17.0" /
                "odoo-bin").is_file()


def test_update_modules_runs_the_upgrade_script(builds):
    build = builds["upgrade"]
    upgrade = build.step("update-modules")
    assert build.result == SUCCESS, build.explain()
    # the recipe's own warnings: no VERSION.txt in the buildout, a database never upgraded
    assert upgrade["results"] == WARNINGS
    assert upgrade["state_string"] == "no error in the upgrade log; 2 warnings"
    assert "bin/upgrade_odoo -d odoo_buildbot-upgrade-pg" in build.log("update-modules")
    odoo_log = build.log("update-modules", "odoo.log")
    assert "odoo.upgrade: Upgrade successful." in odoo_log
    assert "odoo.modules.registry: Registry loaded in" in odoo_log


def test_a_test_script_from_the_index_dies_and_the_summary_says_why(builds):
    build = builds["devtools"]
    assert build.result == FAILURE, build.explain()
    assert "odoo:with_devtools=true" in build.log("buildout")
    assert build.step("odoo-tests")["state_string"] == (
        "bin/test_odoo died before Odoo logged anything (exit code 1): ModuleNotFoundError: "
        "No module named 'mock_dt' -- anybox.testing.datetime (with_devtools) is Python 2 code: "
        "leave test-command unset, the tests then run with the start script and Odoo's test "
        "flags")


def test_a_test_script_the_buildout_did_not_make_is_named(builds):
    build = builds["no-test-script"]
    assert build.result == FAILURE, build.explain()
    assert "with_devtools" not in build.log("buildout")
    assert build.step("odoo-tests")["state_string"].startswith(
        "bin/test_odoo not made by the buildout: oca.recipe.odoo writes it only when the part "
        "sets with_devtools = true")
