"""End to end: a failed buildout says why in its summary (issue 15, point 4).

A real master and worker (tests/support/buildbot_processes.py), a real
PostgreSQL and the product's own bootstrap of zc.buildout 5.2.0 with
zc.recipe.egg 4.0.0, building the stand-in Odoo buildout plus one part:

* ``broken-ext``: a distribution that does not build -- a tiny sdist, in a
  ``find-links`` directory, whose C extension includes a header that does not
  exist (tests/support/sdists.py), compiled for real by pip and gcc;
* ``no-such-dist``: a distribution that does not exist.

Both indexes are local directories: nothing is asked of a package index for
these parts.  The buildout step's summary names the distribution and the
cause; its ``problem`` log quotes the lines it was read from; ``stdio``
keeps the whole output.
"""

from __future__ import annotations

import re

import pytest
from buildbot.process.results import FAILURE

from tests.support.buildbot_processes import (
    STANDIN_SOURCES_DIR,
    FinishedBuild,
    Site,
    standin_site,
)
from tests.support.postgres import PgServer
from tests.support.sdists import make_c_extension_sdist
from tests.support.standin import build_buildout

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

MASTER_CFG = """\
from buildbot_odoo import configure_from_buildouts

configure_from_buildouts(basedir, c)
"""
MANIFEST = """\
[broken-ext]
buildout = standalone broken.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok

[no-such-dist]
buildout = standalone missing.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok
"""
BROKEN = "buildbot-odoo-broken-ext"
MISSING_HEADER = "buildbot_odoo_missing.h"
NO_SUCH_DIST = "buildbot-odoo-no-such-distribution"
#: a part of the stand-in buildout getting ``eggs`` from local directories only
PART = """
[buildout]
parts += extra
find-links = {links}
index = {index}

[extra]
recipe = zc.recipe.egg
eggs = {eggs}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer):
    root = tmp_path_factory.mktemp("buildout-failures-e2e")
    made = standin_site(root, pg_server, MASTER_CFG, MANIFEST)
    sources = root / STANDIN_SOURCES_DIR
    links, index = root / "find-links", root / "empty-index"
    make_c_extension_sdist(links, BROKEN, "1.0", MISSING_HEADER)
    index.mkdir()
    for name, eggs in (("broken.cfg", BROKEN), ("missing.cfg", NO_SUCH_DIST)):
        made.master.write(f"buildouts/{name}", build_buildout(
            sources, more=PART.format(links=links, index=index, eggs=eggs)))
    with made:
        yield made


def builder(site: Site, build: str) -> str:
    return next(n for n in site.api.names("builders") if re.fullmatch(rf"{build}-pg[\d.]+", n))


@pytest.fixture(scope="module")
def builds(site: Site) -> dict[str, FinishedBuild]:
    requests = {name: site.api.force(builder(site, name))
                for name in ("broken-ext", "no-such-dist")}
    return {name: site.api.finished_build(brid) for name, brid in requests.items()}


def test_a_distribution_that_does_not_build_is_named_with_the_missing_header(builds):
    build = builds["broken-ext"]
    assert build.result == FAILURE, build.explain()
    buildout = build.step("buildout")
    summary = f"{BROKEN} 1.0 did not build: {MISSING_HEADER}: No such file or directory"
    assert (buildout["results"], buildout["state_string"]) == (FAILURE, summary), build.explain()
    assert summary in build.data["state_string"]  # the build's own summary says it too
    problem = build.log("buildout", "problem")
    assert problem.startswith(f"{summary}\n\nFrom the output:\n"), problem
    assert f"fatal error: {MISSING_HEADER}: No such file or directory" in problem
    stdio = build.log("buildout")  # the whole output stays
    assert f"Getting distribution for '{BROKEN}'." in stdio
    assert f"ERROR: Failed building wheel for {BROKEN}" in stdio
    assert "Installing odoo." in stdio  # the stand-in's part was built before


def test_a_distribution_that_does_not_exist_is_named(builds):
    build = builds["no-such-dist"]
    assert build.result == FAILURE, build.explain()
    buildout = build.step("buildout")
    summary = f"distribution not found: {NO_SUCH_DIST}"
    assert (buildout["results"], buildout["state_string"]) == (FAILURE, summary), build.explain()
    assert f"Error: Couldn't find a distribution for '{NO_SUCH_DIST}'." in build.log("buildout")
    assert "odoo-tests" not in [step["name"] for step in build.steps]  # the build stopped there
