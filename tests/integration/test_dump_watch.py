"""The auto-watch worker script on a real buildout of the stand-in (SPEC 6 step 5).

A real zc.buildout run checks out git and Mercurial addons made by the test
(branches, a tag, a commit); ``dump_watch.py`` then runs with the buildout
virtualenv's Python, as the auto-watch step does on a worker, and the
master's reader accepts what it wrote.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from buildbot_odoo.config.manifest import BuildoutSource, BuildSpec
from buildbot_odoo.errors import Problems
from buildbot_odoo.watching.files import MERGED, load_auto_watches, watch_file
from tests.support.repos import GitRepo, HgRepo
from tests.support.standin import (
    ADDONS_DIR,
    SAMPLE_BUILDOUT,
    odoo_source,
    offline_env,
    recipe_source,
)

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.standin_fixtures"]

SCRIPT = Path(__file__).resolve().parents[2] / "buildbot_odoo" / "worker_scripts" / "dump_watch.py"
MANIFEST_BUILDOUT = "standalone buildout.cfg"

BUILDOUT = """\
[buildout]
extends = {sample}
recipe-checkout = {recipe}
odoo-directory = {odoo}
addons-directory = {addons}

[odoo]
addons = local ${{buildout:addons-directory}}
         git {git} src/web {git_branch} group=oca
         git {git} src/pinned {git_sha}
         hg {hg} src/hg-stable stable
         hg {hg} src/hg-tagged v1
         local src/local
"""


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    root = tmp_path_factory.mktemp("dump-watch-repos")
    git, hg = GitRepo(root / "web"), HgRepo(root / "hgaddons")
    pinned = git.commit("old.txt", "old\n")
    git.commit("new.txt", "new\n", branch="17.0")
    hg.commit("a.txt", "a\n", branch="stable")
    hg.tag("v1")
    return git, hg, pinned


def run_buildout(buildout: Path, directory: Path, *extra: str) -> None:
    done = subprocess.run([str(buildout), "-c", "buildout.cfg", *extra], cwd=directory,
                          capture_output=True, text=True, env=offline_env(), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def dump(buildout: Path, directory: Path, output: Path, *extra: str,
         part: str = "odoo") -> subprocess.CompletedProcess:
    python = buildout.parent / "python"
    return subprocess.run([str(python), str(SCRIPT), "--build", "auto", "--buildout",
                           MANIFEST_BUILDOUT, "--part", part, "--output", str(output),
                           "-c", "buildout.cfg", *extra],
                          cwd=directory, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory, repos, buildout_executable, standin_source):
    git, hg, pinned = repos
    directory = tmp_path_factory.mktemp("dump-watch-buildout")
    (directory / "src" / "local").mkdir(parents=True)
    (directory / "buildout.cfg").write_text(BUILDOUT.format(
        sample=SAMPLE_BUILDOUT, recipe=recipe_source(standin_source),
        odoo=odoo_source(standin_source), addons=ADDONS_DIR, git=git.url,
        git_branch="17.0", git_sha=pinned, hg=hg.url))
    extra = ("odoo:options.db_name=watched",)
    run_buildout(buildout_executable, directory, *extra)
    return directory, extra


def test_branches_are_watched_and_pinned_sources_recorded(built, repos, buildout_executable,
                                                          tmp_path):
    directory, extra = built
    git, hg, pinned = repos
    output = tmp_path / "watch.json"
    done = dump(buildout_executable, directory, output, *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(output.read_text())
    assert data["build"] == "auto" and data["buildout"] == MANIFEST_BUILDOUT
    assert [(s["vcs"], s["url"], s["branch"]) for s in data["sources"]] == [
        ("git", git.url, "17.0"), ("hg", hg.url, "stable")]
    assert [(f["vcs"], f["url"], f["revision"]) for f in data["fixed"]] == [
        ("git", git.url, pinned), ("hg", hg.url, "v1")]
    assert f"watch: git {git.url} 17.0" in done.stdout


def test_the_master_reads_what_the_script_writes(built, repos, buildout_executable, tmp_path):
    directory, extra = built
    git, hg, _ = repos
    output = watch_file(tmp_path, "auto")
    output.parent.mkdir()
    assert dump(buildout_executable, directory, output, *extra).returncode == 0
    build = BuildSpec("auto", "MANIFEST.cfg", 1, options={"buildout": MANIFEST_BUILDOUT},
                      buildout=BuildoutSource("standalone", "buildout.cfg"), auto_watch=True)
    problems = Problems()
    status = load_auto_watches(tmp_path, [build], problems)["auto"]
    assert not list(problems)
    assert status.state == MERGED
    assert [str(s) for s in status.sources] == [f"git {git.url} 17.0", f"hg {hg.url} stable"]


def test_unknown_part_fails_with_a_message_and_leaves_no_file(built, buildout_executable,
                                                               tmp_path):
    directory, extra = built
    output = tmp_path / "watch.json"
    output.write_text("previous build's data")
    done = dump(buildout_executable, directory, output, *extra, part="openerp")
    assert done.returncode != 0
    assert "part [openerp] is not installed by this buildout" in done.stderr
    assert not output.exists()
