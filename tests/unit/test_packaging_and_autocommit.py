"""``packaging`` (both halves, the archive script read back by the archive retriever's
script) and ``autocommit``."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.source.git import GitCommit, GitPush
from buildbot.steps.transfer import FileUpload
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.config.manifest import BuildoutSource
from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.buildsteps import build_steps
from buildbot_odoo.master.steps.packaging import SetPackageName
from buildbot_odoo.master.subfactories.autocommit import autocommit
from buildbot_odoo.master.subfactories.packaging import (
    packaging,
    packaging_post_download,
    remove_package,
)

from .subfactory_support import ENV, by_name, configurator, render, run_script
from .test_retrieval import options_for

PACKAGING = {"packaging.root-dir": "packages", "packaging.parts": "odoo",
             "packaging.include": "release.cfg addons"}
GIT = BuildoutSource("git", "deploy.cfg", url="https://git.example.com/deploy.git", branch="17.0")
HG = BuildoutSource("hg", "deploy.cfg", url="https://hg.example.com/deploy", branch="default")


def made(subfactory, raw: dict[str, str], buildout: BuildoutSource | None = None,
         **fields) -> dict:
    options = options_for(buildout, raw=raw, post_buildout_steps=["packaging"], **fields)
    return by_name(subfactory(configurator(), options, "deploy.cfg", ENV))


def test_post_download_half_cleans_and_names_early():
    steps = made(packaging_post_download, PACKAGING, buildout=GIT)
    assert list(steps) == ["remove-package-leftovers", "package-name"]
    assert steps["remove-package-leftovers"].command == ["rm", "-rf", "dist"]
    assert steps["remove-package-leftovers"].workdir == "."
    name = steps["package-name"]
    assert (name.prefix, name.version_property, name.directory) == (
        "sale", "got_revision", "sale")


def test_post_buildout_half_archives_and_uploads_in_the_archive_layout():
    steps = made(packaging, {**PACKAGING, "packaging.upload-dir": "releases/sale",
                             "packaging.exclude": "*.log"})
    assert list(steps) == ["package-name", "download-make-package", "make-package",
                           "upload-package", "upload-package-checksum"]
    props = {"packaging_name": "sale-7"}
    assert render(steps["make-package"].command, **props) == [
        "python3", "worker-scripts/make_package.py", "--source", "build",
        "--output", "dist/sale-7.tar.bz2", "--exclude=*.pyc", "--exclude=__pycache__",
        "--exclude=.git", "--exclude=.hg", "--exclude=.bzr", "--exclude=*.log",
        "--", "deploy.cfg", "parts/odoo", "release.cfg", "addons"]
    archive, checksum = steps["upload-package"], steps["upload-package-checksum"]
    assert isinstance(archive, FileUpload) and archive.mode == 0o644
    assert render(archive.workersrc, **props) == "dist/sale-7.tar.bz2"
    assert render(archive.masterdest, **props) == \
        "/srv/master/packages/releases/sale/sale-7.tar.bz2"
    assert render(checksum.masterdest, **props) == \
        "/srv/master/packages/releases/sale/sale-7.tar.bz2.md5"
    assert steps["package-name"].version_property == "buildnumber"  # standalone buildout


def test_version_property_follows_the_buildout_kind():
    tag = BuildoutSource("hgtag", "release.cfg", url="https://hg.example.com/deploy")
    assert made(packaging, PACKAGING, buildout=tag)["package-name"].version_property == \
        "buildout-tag"
    custom = made(packaging, {**PACKAGING, "packaging.version-property": "release",
                              "packaging.prefix": "acme-sale"})["package-name"]
    assert (custom.prefix, custom.version_property) == ("acme-sale", "release")


def test_both_halves_share_one_cleanup():
    assert packaging.final_cleanup_steps is remove_package
    assert packaging_post_download.final_cleanup_steps is remove_package
    options = options_for(raw=PACKAGING, post_dl_steps=["packaging"],
                          post_buildout_steps=["install-modules-test", "packaging"])
    names = [s.name for s in build_steps(configurator(), options, "deploy.cfg", ENV)]
    assert names.count("remove-package") == 1
    assert names[-2:] == ["remove-package", "drop-testing-database"]
    [cleanup] = remove_package(None, options, ENV)
    assert cleanup.alwaysRun and cleanup.command == ["rm", "-rf", "dist"]


@pytest.mark.parametrize(("subfactory", "raw", "steps", "message"), [
    (packaging, {}, ["packaging"], "packaging.root-dir: packaging needs 'packaging.root-dir'"),
    (packaging_post_download, PACKAGING, ["install-modules-test"],
     "post-dl-steps: packaging in post-dl-steps prepares a package that 'packaging' in "
     "post-buildout-steps makes: add it there"),
    (packaging, {**PACKAGING, "packaging.parts": "odoo ../x"}, ["packaging"],
     "packaging.parts: '../x' is not a buildout part name"),
    (packaging, {**PACKAGING, "packaging.include": "/etc"}, ["packaging"],
     "packaging.include: '/etc': a path must be relative"),
    (packaging, {**PACKAGING, "packaging.upload-dir": "../../srv"}, ["packaging"],
     "packaging.upload-dir: '../../srv': a path cannot have a '..' component"),
    (packaging, {**PACKAGING, "packaging.prefix": "a b"}, ["packaging"],
     "packaging.prefix: 'a b' is not a safe file name start"),
])
def test_packaging_config_errors(subfactory, raw, steps, message):
    options = options_for(raw=raw, post_buildout_steps=steps)
    with pytest.raises(ConfigError) as caught:
        subfactory(configurator(), options, "deploy.cfg", ENV)
    assert f"sale: {message}" in str(caught.value)


class PackageNameTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @defer.inlineCallbacks
    def test_name_and_directory_become_properties(self):
        self.setup_step(SetPackageName("sale", "buildout-tag", "releases/sale"))
        self.build.setProperty("buildout-tag", "1.4.2", "test")
        self.expect_outcome(result=SUCCESS)
        self.expect_property("packaging_name", "sale-1.4.2")
        self.expect_property("packaging_dir", "releases/sale")
        self.expect_result_summary({"step": "package releases/sale/sale-1.4.2"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_missing_version_stops_the_build(self):
        self.setup_step(SetPackageName("sale", "buildout-tag", "sale"))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "build property 'buildout-tag' is missing: the "
                                            "package is named after it"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_unsafe_version_stops_the_build(self):
        self.setup_step(SetPackageName("sale", "buildout-tag", "sale"))
        self.build.setProperty("buildout-tag", "../../etc/passwd", "test")
        self.expect_outcome(result=FAILURE)
        self.expect_no_property("packaging_name")
        yield self.run_step()


# --- the worker script, and the archive retriever's script reading its output


def buildout_tree(root: Path) -> Path:
    build = root / "build"
    for name, text in {"deploy.cfg": "[buildout]\nparts = odoo\n",
                       "parts/odoo/odoo-bin": "#!python\n", "parts/odoo/__pycache__/x.pyc": "",
                       "addons/sale_x/__init__.py": "", "addons/sale_x/a.pyc": "",
                       "venv/bin/python": "not packaged"}.items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_text(text)
    (build / "addons" / "link").symlink_to("sale_x")
    return build


def test_package_script_makes_what_the_archive_retriever_unpacks(tmp_path):
    buildout_tree(tmp_path)
    done = run_script("make_package.py", "--source", "build", "--output",
                      "dist/sale-7.tar.bz2", "--exclude", "*.pyc", "--exclude", "__pycache__",
                      "deploy.cfg", "parts/odoo", "addons", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    archive = tmp_path / "dist" / "sale-7.tar.bz2"
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
        assert tar.getmember("sale-7/addons/link").issym()
    assert names == ["sale-7/addons", "sale-7/addons/link", "sale-7/addons/sale_x",
                     "sale-7/addons/sale_x/__init__.py", "sale-7/deploy.cfg",
                     "sale-7/parts/odoo", "sale-7/parts/odoo/odoo-bin"]
    assert (tmp_path / "dist" / "sale-7.tar.bz2.md5").read_text().endswith("  sale-7.tar.bz2\n")
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    unpacked = run_script("unpack_archive.py", str(archive), str(consumer / "build"))
    assert unpacked.returncode == 0, unpacked.stderr
    assert (consumer / "build" / "deploy.cfg").read_text() == "[buildout]\nparts = odoo\n"
    assert (consumer / "build" / "parts" / "odoo" / "odoo-bin").is_file()


@pytest.mark.parametrize(("path", "message"), [
    ("parts/missing", "'parts/missing' does not exist"),
    ("../outside", "refusing '../outside'"),
])
def test_package_script_refuses_missing_and_escaping_paths(tmp_path, path, message):
    buildout_tree(tmp_path)
    done = run_script("make_package.py", "--source", "build", "--output", "dist/x-1.tar.bz2",
                      "deploy.cfg", path, cwd=tmp_path)
    assert done.returncode != 0 and message in done.stderr
    assert not (tmp_path / "dist" / "x-1.tar.bz2").exists()


# --- autocommit


def test_autocommit_git_uses_buildbot_git_steps():
    steps = made(autocommit, {"autocommit.push": "true", "autocommit.message": "Freeze versions",
                              "autocommit.author": "CI Robot <ci@example.com>"}, buildout=GIT)
    assert list(steps) == ["autocommit", "autocommit-push"]
    commit, push = steps["autocommit"], steps["autocommit-push"]
    assert isinstance(commit, GitCommit) and isinstance(push, GitPush)
    assert commit.paths == ["--update", "--", "."] and commit.emptyCommits == "ignore"
    assert render(commit.messages) == ["Freeze versions", "Made by build sale-pg15 #7"]
    assert commit.config == {"user.name": "CI Robot", "user.email": "ci@example.com"}
    assert (push.repourl, push.branch) == ("https://git.example.com/deploy.git", "17.0")


def test_autocommit_git_given_paths_without_push():
    steps = made(autocommit, {"autocommit.paths": "versions.cfg frozen/"}, buildout=GIT)
    assert list(steps) == ["autocommit"]
    assert steps["autocommit"].paths == ["--", "versions.cfg", "frozen"]


def test_autocommit_hg():
    steps = made(autocommit, {"autocommit.paths": "versions.cfg", "autocommit.push": "yes"},
                 buildout=HG)
    assert list(steps) == ["autocommit-add", "autocommit", "autocommit-push"]
    assert steps["autocommit-add"].command == ["hg", "add", "--", "versions.cfg"]
    assert render(steps["autocommit"].command) == [
        "hg", "commit", "--user", "buildbot-odoo <buildbot@localhost>", "-m",
        "Automatic commit by buildbot-odoo\n\nMade by build sale-pg15 #7", "--", "versions.cfg"]
    assert steps["autocommit"].decodeRC == {0: SUCCESS, 1: SUCCESS}  # 1: nothing changed
    assert steps["autocommit-push"].command == ["hg", "push", "--rev", ".", "--",
                                                "https://hg.example.com/deploy"]


@pytest.mark.parametrize(("buildout", "raw", "message"), [
    (None, {}, "post-buildout-steps: autocommit needs a git or hg buildout to commit to; "
               "this build's buildout is standalone"),
    (BuildoutSource("hgtag", "r.cfg", url="https://h/r"), {},
     "post-buildout-steps: autocommit needs a git or hg buildout to commit to; this build's "
     "buildout is hgtag"),
    (GIT, {"autocommit.author": "robot"}, "autocommit.author: 'robot' is not 'Name <email>'"),
    (GIT, {"autocommit.push": "sometimes"}, "autocommit.push: 'sometimes' is not a boolean"),
])
def test_autocommit_config_errors(buildout, raw, message):
    with pytest.raises(ConfigError) as caught:
        made(autocommit, raw, buildout=buildout)
    assert f"sale: {message}" in str(caught.value)
