"""Buildout retrievers (SPEC 5 ``buildout``): the steps they make and how they behave."""

from __future__ import annotations

import bz2
import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.shell import ShellCommand
from buildbot.steps.source.git import Git
from buildbot.steps.source.mercurial import Mercurial
from buildbot.steps.transfer import FileDownload
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, ExpectStat, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.dispatch import BuilderPlan
from buildbot_odoo.config.manifest import BuildoutSource, BuildSpec
from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.subfactories import retrieval
from buildbot_odoo.master.subfactories.base import BuildOptions
from buildbot_odoo.master.subfactories.retrieval import (
    MercurialTag,
    RequireBuildoutFile,
    RequireExecutable,
    RequireProperties,
)


def options_for(buildout: BuildoutSource | None = None, *, name: str = "sale",
                builder: str = "sale-pg15", not_used: frozenset[str] = frozenset(),
                raw: dict[str, str] | None = None, **fields) -> BuildOptions:
    """BuildOptions for a build made of ``fields``, as the manifest parser would."""
    buildout = buildout or BuildoutSource("standalone", "odoo.cfg",
                                          local_path=Path("/m/buildouts/odoo.cfg"))
    build = BuildSpec(name, "buildouts/MANIFEST.cfg", 3, options=dict(raw or {}),
                      buildout=buildout, **fields)
    build.where = {k: ("buildouts/MANIFEST.cfg", 7, name) for k in build.options}
    return BuildOptions(BuilderPlan(builder, build, ["w1"], not_used=not_used))


class FakeConfigurator:
    basedir = Path("/srv/master")


def retrieve(source: BuildoutSource, **fields) -> tuple[list, str]:
    return retrieval.RETRIEVERS[source.kind](FakeConfigurator(), options_for(source, **fields))


def test_every_buildout_kind_has_a_retriever():
    assert set(retrieval.RETRIEVERS) == {"standalone", "git", "hg", "hgtag", "gittag", "bzr",
                                         "archive"}


def test_standalone_downloads_the_file_from_the_master():
    made, path = retrieve(BuildoutSource("standalone", "sub/odoo.cfg",
                                         local_path=Path("/m/buildouts/sub/odoo.cfg")))
    assert path == "odoo.cfg"
    [download] = made
    assert isinstance(download, FileDownload)
    assert (download.mastersrc, download.workerdest) == ("/m/buildouts/sub/odoo.cfg", "odoo.cfg")


def test_git_checks_out_the_branch_tip_afresh():
    made, path = retrieve(BuildoutSource("git", "odoo.cfg", url="https://h/b.git", branch="17.0"))
    checkout, check = made
    assert isinstance(checkout, Git)
    assert (checkout.repourl, checkout.branch) == ("https://h/b.git", "17.0")
    assert (checkout.mode, checkout.method, checkout.shallow) == ("full", "fresh", False)
    assert checkout.alwaysUseLatest and checkout.haltOnFailure
    assert checkout.workdir == "build"
    assert isinstance(check, RequireBuildoutFile) and check.conf == "odoo.cfg"
    assert path == "odoo.cfg"


def test_git_shallow_clones_anew():
    made, _ = retrieve(BuildoutSource("git", "odoo.cfg", url="u", branch="b"), git_shallow=True)
    assert (made[0].method, made[0].shallow) == ("clobber", True)


def test_git_subdir_links_the_build_directory_into_the_checkout():
    made, path = retrieve(BuildoutSource("git", "odoo.cfg", url="u", branch="b",
                                         subdir="deploy/odoo"))
    checkout, unlink, link, check = made
    assert checkout.workdir == "src"
    assert unlink.command == ["rm", "-rf", "build"] and unlink.workdir == "."
    assert link.command == ["ln", "-s", "src/deploy/odoo", "build"] and link.workdir == "."
    assert path == "odoo.cfg" and check.conf == "odoo.cfg"


def test_hg_named_branch():
    made, path = retrieve(BuildoutSource("hg", "b.cfg", url="https://h/r", branch="stable"))
    checkout = made[0]
    assert isinstance(checkout, Mercurial)
    assert (checkout.repourl, checkout.branchType, checkout.branch) == (
        "https://h/r", "inrepo", "stable")
    assert (checkout.mode, checkout.method, checkout.alwaysUseLatest) == ("full", "fresh", True)
    assert path == "b.cfg"


def test_hgtag_requires_the_tag_property_and_renders_it():
    made, path = retrieve(BuildoutSource("hgtag", "b.cfg", url="https://h/r"))
    check, checkout, _ = made
    assert path == "b.cfg"
    assert isinstance(check, RequireProperties) and check.names == ["buildout-tag"]
    assert isinstance(checkout, MercurialTag) and "branch" in checkout.renderables
    props = Properties()
    props.setProperty("buildout-tag", "v1.2", "test")
    assert props.render(checkout.branch).result == "v1.2"
    assert checkout.method == "clobber"


def test_gittag_clones_the_tag_the_property_names():
    # anybox.buildbot.odoo's 'gittag URL PATH': the release build of a git buildout
    made, path = retrieve(BuildoutSource("gittag", "b.cfg", url="https://g/r.git"))
    check, checkout, conf = made
    assert path == "b.cfg" and conf.conf == "b.cfg"
    assert isinstance(check, RequireProperties) and check.names == ["buildout-tag"]
    assert isinstance(checkout, Git) and "branch" in checkout.renderables
    props = Properties()
    props.setProperty("buildout-tag", "v1.2", "test")
    assert props.render(checkout.branch).result == "v1.2"
    assert (checkout.repourl, checkout.mode, checkout.method, checkout.alwaysUseLatest) == (
        "https://g/r.git", "full", "clobber", True)


def test_bzr_checks_brz_then_branches():
    made, path = retrieve(BuildoutSource("bzr", "b.cfg", url="lp:proj", subdir="b"))
    check, remove, branch, unlink, link, conf = made
    assert unlink.command == ["rm", "-rf", "build"] and conf.conf == "b.cfg"
    assert isinstance(check, RequireExecutable) and check.executable == "brz"
    assert remove.command == ["rm", "-rf", "src"]
    assert branch.command == ["brz", "branch", "--", "lp:proj", "src"]
    assert link.command == ["ln", "-s", "src/b", "build"]
    assert path == "b.cfg"


def test_archive_steps_and_master_paths():
    made, path = retrieve(BuildoutSource("archive", "release.cfg", subdir_prop="pkg_dir",
                                         archive_prop="pkg_name"),
                          raw={"archive.root-dir": "packages"})
    assert path == "release.cfg"
    check, _, archive, md5, script, unpack, _ = made
    assert isinstance(check, RequireProperties)
    assert check.names == ["pkg_dir", "pkg_name"] and check.path_like == {"pkg_dir", "pkg_name"}
    props = Properties(pkg_dir="sale/17.0", pkg_name="sale-1.0")
    assert props.render(archive.mastersrc).result == (
        "/srv/master/packages/sale/17.0/sale-1.0.tar.bz2")
    assert props.render(md5.workerdest).result == "archive/sale-1.0.tar.bz2.md5"
    assert script.mastersrc.endswith("buildbot_odoo/worker_scripts/unpack_archive.py")
    assert Path(script.mastersrc).is_file()
    assert isinstance(unpack, ShellCommand)
    assert props.render(unpack.command).result == [
        "python3", "archive/unpack_archive.py", "archive/sale-1.0.tar.bz2", "build"]


def test_archive_without_root_dir_is_a_located_config_error():
    with pytest.raises(ConfigError) as caught:
        retrieve(BuildoutSource("archive", "r.cfg", subdir_prop="d", archive_prop="n"))
    assert str(caught.value).startswith("buildouts/MANIFEST.cfg:3: sale: buildout: ")
    assert "archive.root-dir" in str(caught.value)


class RetrievalStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @defer.inlineCallbacks
    def test_missing_tag_property_fails_clearly(self):
        made, _ = retrieve(BuildoutSource("hgtag", "b.cfg", url="https://h/r"))
        self.setup_step(made[0])
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "build property 'buildout-tag' is missing: hgtag buildouts are checked out at "
            "the tag this property names")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_forced_tag_that_hg_would_read_as_an_option_is_refused(self):
        made, _ = retrieve(BuildoutSource("hgtag", "b.cfg", url="https://h/r"))
        self.setup_step(made[0])
        self.build.setProperty("buildout-tag", "--config=hooks.pre-update=touch", "force")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "build property 'buildout-tag': '--config=hooks.pre-update=touch': a tag cannot "
            "start with '-' (it would be read as an option): hgtag buildouts are checked out "
            "at the tag this property names")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_unsafe_archive_property_is_refused(self):
        made, _ = retrieve(BuildoutSource("archive", "r.cfg", subdir_prop="d", archive_prop="n"),
                           raw={"archive.root-dir": "/pkgs"})
        self.setup_step(made[0])
        self.build.setProperty("d", "../../etc", "test")
        self.build.setProperty("n", "x", "test")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "build property 'd': '../../etc': a path cannot have a '..' component (it must "
            "stay inside its root): "
            "they name the archive to build from")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_present_properties_pass(self):
        self.setup_step(RequireProperties(["buildout-tag"], "why"))
        self.build.setProperty("buildout-tag", "v1", "test")
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "buildout-tag=v1"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_brz_missing(self):
        self.setup_step(RequireExecutable("brz", workdir="."))
        self.expect_commands(ExpectShell(workdir=".", command=["brz", "version"]).exit(1))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "brz is not installed on this worker"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_brz_present(self):
        self.setup_step(RequireExecutable("brz", workdir="."))
        self.expect_commands(ExpectShell(workdir=".", command=["brz", "version"]).exit(0))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_missing_buildout_file_is_named(self):
        self.setup_step(RequireBuildoutFile("deploy.cfg"))
        self.expect_commands(ExpectStat(file="build/deploy.cfg", log_environ=False).exit(1))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary(
            {"step": "buildout file 'deploy.cfg' is missing from the checkout"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_present_buildout_file(self):
        self.setup_step(RequireBuildoutFile("deploy.cfg"))
        self.expect_commands(
            ExpectStat(file="build/deploy.cfg", log_environ=False).stat_file().exit(0))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()


# --- the worker script, run as the worker would run it


def _archive(tmp_path: Path, members: dict[str, bytes], top: str = "sale-1.0") -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "archive" / "sale-1.0.tar.bz2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bz2.compress(raw.getvalue()))
    digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    path.with_name(path.name + ".md5").write_text(f"{digest}  {path.name}\n")
    return path


def _unpack(tmp_path: Path, archive: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, retrieval.worker_script("unpack_archive.py"),
                           str(archive.relative_to(tmp_path)), "build"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)


def test_unpack_script_checks_and_replaces_the_build_directory(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "stale.txt").write_text("old")
    archive = _archive(tmp_path, {"release.cfg": b"[buildout]\n", "src/a.py": b""})
    result = _unpack(tmp_path, archive)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == ["release.cfg", "src"]
    assert not (tmp_path / "build.unpacking").exists()


def test_unpack_script_refuses_a_bad_checksum(tmp_path):
    archive = _archive(tmp_path, {"release.cfg": b""})
    archive.with_name(archive.name + ".md5").write_text("0" * 32 + "  x\n")
    result = _unpack(tmp_path, archive)
    assert result.returncode == 1 and "checksum mismatch" in result.stderr
    assert not (tmp_path / "build").exists()


def test_unpack_script_refuses_escaping_members(tmp_path):
    archive = _archive(tmp_path, {"../evil": b"x"}, top="")
    result = _unpack(tmp_path, archive)
    assert result.returncode != 0 and "refusing" in result.stderr
    assert not (tmp_path.parent / "evil").exists()
