"""``static-analysis`` (with real ruff output) and ``doc`` (Sphinx, publication on the master)."""

from __future__ import annotations

import doctest
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS, WARNINGS
from buildbot.steps.transfer import DirectoryUpload
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.steps.master_files import ClearMasterDirectory, swap_in
from buildbot_odoo.master.steps.static_analysis import LintStep
from buildbot_odoo.master.subfactories.doc import SphinxDoc, doc
from buildbot_odoo.master.subfactories.static_analysis import static_analysis
from buildbot_odoo.reports import lint as lint_report
from buildbot_odoo.reports.lint import LintReport

from .subfactory_support import BUILDDIR, ENV, by_name, configurator, render, run_script
from .test_retrieval import options_for

RUFF = Path(sys.executable).parent / "ruff"


def test_doctests():
    assert doctest.testmod(lint_report).failed == 0


def real_ruff_output(tmp_path: Path) -> subprocess.CompletedProcess:
    addon = tmp_path / "sale_x"
    addon.mkdir()
    (addon / "models.py").write_text("import os\nimport re\n\n\nx = 1  \n")
    (addon / "broken.py").write_text("def g(:\n")
    return subprocess.run([str(RUFF), "check", "--no-fix", "--output-format=concise",
                           "--no-cache", "--isolated", "--select", "E,F,W", "sale_x"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)


def test_real_ruff_output_is_read(tmp_path):
    done = real_ruff_output(tmp_path)
    assert done.returncode == 1, done.stderr
    report = LintReport()
    for line in done.stdout.splitlines():
        report.feed_line(line)
    assert [(i.path, i.line, i.code) for i in report.issues] == [
        ("sale_x/broken.py", 1, "invalid-syntax"), ("sale_x/broken.py", 2, "invalid-syntax"),
        ("sale_x/models.py", 1, "F401"), ("sale_x/models.py", 2, "F401"),
        ("sale_x/models.py", 5, "W291")]
    assert report.summary() == "5 issues (invalid-syntax: 2, F401: 2, W291: 1)"


def test_flake8_default_format_is_read():
    report = LintReport()
    for line in ["./sale_x/models.py:1:1: F401 'os' imported but unused",
                 "./sale_x/models.py:12:80: E501 line too long (101 > 79 characters)",
                 "3     F401 'os' imported but unused"]:  # --statistics lines are not issues
        report.feed_line(line)
    assert [str(i) for i in report.issues] == [
        "./sale_x/models.py:1:1: F401 'os' imported but unused",
        "./sale_x/models.py:12:80: E501 line too long (101 > 79 characters)"]


def made(subfactory, raw: dict[str, str], basedir: str = "/srv/master", **fields) -> dict:
    options = options_for(raw=raw, **fields)
    return by_name(subfactory(configurator(basedir), options, "odoo.cfg", ENV))


def test_static_analysis_locates_the_addons_by_default():
    steps = made(static_analysis, {}, odoo_addons=["sale_x", "stock_y"], buildout_part="erp")
    assert list(steps) == ["download-locate-addons", "locate-addons", "static-analysis"]
    assert render(steps["locate-addons"].command) == [
        "python3", f"{BUILDDIR}/worker-scripts/locate_addons.py", "etc/erp.cfg",
        "sale_x", "stock_y"]
    lint = steps["static-analysis"]
    assert isinstance(lint, LintStep) and lint.tool == "flake8" and lint.max_issues is None
    assert render(lint.command, static_analysis_paths=["addons/sale_x", "addons/stock_y"]) == [
        "bin/flake8", "--format=default", "--", "addons/sale_x", "addons/stock_y"]


def test_static_analysis_with_ruff_on_given_paths():
    steps = made(static_analysis, {
        "static-analysis.tool": "ruff", "static-analysis.paths": "addons src/custom",
        "static-analysis.arguments": "--select E,F", "static-analysis.max-issues": "0",
        "static-analysis.executable": "venv/bin/ruff"}, odoo_addons=["all"])
    assert list(steps) == ["static-analysis"]
    lint = steps["static-analysis"]
    assert lint.command == ["venv/bin/ruff", "check", "--no-fix", "--output-format=concise",
                            "--select", "E,F", "--", "addons", "src/custom"]
    assert lint.max_issues == 0 and lint.tool == "ruff"


@pytest.mark.parametrize(("raw", "fields", "message"), [
    ({"static-analysis.tool": "pylint"}, {}, "static-analysis.tool: 'pylint' is not one of "
                                             "flake8, ruff"),
    ({}, {"odoo_addons": ["all"]}, "static-analysis.paths: odoo-addons = all: say which paths"),
    ({"static-analysis.paths": "../elsewhere"}, {},
     "'../elsewhere': a path cannot have a '..' component"),
    ({"static-analysis.max-issues": "some", "static-analysis.paths": "addons"}, {},
     "static-analysis.max-issues: 'some' is not a whole number"),
])
def test_static_analysis_bad_options(raw, fields, message):
    with pytest.raises(ConfigError) as caught:
        made(static_analysis, raw, **fields)
    assert message in str(caught.value)


def test_locate_addons_script(tmp_path):
    for directory, name in (("odoo/addons", "base"), ("addons", "sale_x"),
                            ("more", "sale_x"), ("more", "stock_y")):
        (tmp_path / directory / name).mkdir(parents=True)
        (tmp_path / directory / name / "__manifest__.py").write_text("{}")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "odoo.cfg").write_text(
        f"[options]\naddons_path = {tmp_path}/odoo/addons,{tmp_path}/addons, more\n")
    found = run_script("locate_addons.py", "etc/odoo.cfg", "sale_x", "stock_y", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["addons/sale_x", "more/stock_y"]
    missing = run_script("locate_addons.py", "etc/odoo.cfg", "sale_x", "nope", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.rstrip().endswith(": nope")


class LintStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    COMMAND = ["bin/flake8", "--format=default", "sale_x"]
    OUTPUT = ("sale_x/models.py:1:1: F401 'os' imported but unused\n"
              "sale_x/models.py:3:80: E501 line too long (90 > 79 characters)\n"
              "sale_x/wizard.py:2:1: F401 're' imported but unused\n")
    RESULTS = [
        (1000, "F401 'os' imported but unused", None, "sale_x/models.py", 1, None),
        (1000, "E501 line too long (90 > 79 characters)", None, "sale_x/models.py", 3, None),
        (1000, "F401 're' imported but unused", None, "sale_x/wizard.py", 2, None)]

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _lint(self, stdout: str, rc: int, max_issues: int | None = None):
        self.setup_step(LintStep(tool="flake8", max_issues=max_issues, command=self.COMMAND))
        self.expect_commands(ExpectShell(workdir="wkdir", command=self.COMMAND)
                             .stdout(stdout).exit(rc))

    @defer.inlineCallbacks
    def test_issues_warn_and_are_recorded(self):
        self._lint(self.OUTPUT, 1)
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": "flake8: 3 issues (F401: 2, E501: 1)"})
        self.expect_property("flake8-issues", 3)
        self.expect_test_result_sets([("flake8 issues", "code_issue", "message")])
        self.expect_test_results(self.RESULTS)
        self.expect_log_file("issues", self.OUTPUT)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_beyond_the_threshold_fails(self):
        self._lint(self.OUTPUT, 1, max_issues=2)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary(
            {"step": "flake8: 3 issues (F401: 2, E501: 1); more than 2 allowed"})
        self.expect_test_result_sets([("flake8 issues", "code_issue", "message")])
        self.expect_test_results(self.RESULTS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_clean_code_passes(self):
        self._lint("", 0, max_issues=0)
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "flake8: no issues"})
        self.expect_test_result_sets([("flake8 issues", "code_issue", "message")])
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_tool_that_cannot_run_fails(self):
        self._lint("", 1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": "flake8: no issues; flake8 failed (exit code 1)"})
        self.expect_test_result_sets([("flake8 issues", "code_issue", "message")])
        yield self.run_step()


# --- doc


def test_doc_builds_then_publishes_per_builder():
    steps = made(doc, {"doc.base-url": "https://docs.example.com/ci/"}, builder="sale-pg15")
    assert list(steps) == ["remove-old-doc", "sphinx", "clear-doc-staging", "upload-doc",
                           "publish-doc"]
    assert steps["remove-old-doc"].dir == "build/doc/_build/html"
    sphinx = steps["sphinx"]
    assert isinstance(sphinx, SphinxDoc)
    assert sphinx.command == ["bin/sphinx-build", "-b", "html", "-E", "doc",
                              "doc/_build/html"]
    assert not sphinx.haltOnFailure and sphinx.env is ENV
    upload = steps["upload-doc"]
    assert isinstance(upload, DirectoryUpload) and upload.workersrc == "doc/_build/html"
    # per builder: the one running the build (the build's builders share the steps)
    assert render(upload.masterdest) == "/srv/master/docs/sale-pg15.uploading"
    assert render(upload.url) == "https://docs.example.com/ci/sale-pg15/"
    assert render(steps["publish-doc"].published) == "/srv/master/docs/sale-pg15"
    assert render(steps["publish-doc"].staging) == "/srv/master/docs/sale-pg15.uploading"
    assert render(steps["clear-doc-staging"].path) == "/srv/master/docs/sale-pg15.uploading"
    assert render(steps["publish-doc"].published, buildername="sale-pg16") == (
        "/srv/master/docs/sale-pg16")


def test_doc_options():
    steps = made(doc, {"doc.sourcedir": "docs/source", "doc.builder": "dirhtml",
                       "doc.mode": "incremental", "doc.strict": "true",
                       "doc.sphinx": "venv/bin/sphinx-build", "doc.upload-dir": "/var/www/doc",
                       "doc.outdir": "out"})
    assert steps["sphinx"].command == ["venv/bin/sphinx-build", "-b", "dirhtml", "-W",
                                       "docs/source", "out"]
    assert render(steps["publish-doc"].published) == "/var/www/doc/sale-pg15"
    assert steps["upload-doc"].url is None


@pytest.mark.parametrize(("raw", "message"), [
    ({"doc.mode": "quick"}, "doc.mode: 'quick' is not 'full' or 'incremental'"),
    ({"doc.builder": "HTML5!"}, "doc.builder: 'HTML5!' is not a Sphinx builder name"),
    ({"doc.upload-dir": "../www"},
     "doc.upload-dir: '../www': a directory cannot have a '..' component"),
    ({"doc.sourcedir": "/abs"}, "doc.sourcedir: '/abs': a path must be relative"),
    # the output is removed before each build: '.' would be the whole buildout
    ({"doc.outdir": "."}, "doc.outdir: '.': a path must name something inside its root"),
    # the build page links to it: no javascript: (nor any other scheme) in the web UI
    ({"doc.base-url": "javascript:alert(1)//"},
     "doc.base-url: 'javascript:alert(1)//' is not an http:// or https:// URL"),
    ({"doc.base-url": "https://docs.example.com/a b"},
     "doc.base-url: 'https://docs.example.com/a b' is not an http:// or https:// URL"),
])
def test_doc_bad_options(raw, message):
    with pytest.raises(ConfigError) as caught:
        made(doc, raw)
    assert f"sale: {message}" in str(caught.value)


def test_publication_swaps_the_whole_tree(tmp_path):
    published, staging = tmp_path / "docs" / "b", tmp_path / "docs" / "b.uploading"
    published.mkdir(parents=True)
    (published / "removed-page.html").write_text("old")
    staging.mkdir()
    (staging / "index.html").write_text("new")
    swap_in(str(staging), str(published))
    assert [p.name for p in published.iterdir()] == ["index.html"]
    assert sorted(p.name for p in published.parent.iterdir()) == ["b"]


SPHINX_OK = "Running Sphinx v7.2.6\nbuilding [html]: targets for 3 source files\n" \
            "build succeeded.\n\nThe HTML pages are in _build/html.\n"
SPHINX_BROKEN = "Running Sphinx v7.2.6\n\nConfiguration error:\nconfig directory doesn't " \
                "contain a conf.py file (doc)\n"


class DocStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _sphinx(self, stdout: str, rc: int):
        self.setup_step(made(doc, {})["sphinx"])
        self.expect_commands(ExpectShell(workdir="wkdir", env=ENV, command=[
            "bin/sphinx-build", "-b", "html", "-E", "doc", "doc/_build/html"])
            .stdout(stdout).exit(rc))

    @defer.inlineCallbacks
    def test_a_built_doc_is_marked_for_upload(self):
        self._sphinx(SPHINX_OK, 0)
        self.expect_outcome(result=SUCCESS)
        self.expect_property("doc_built", True)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_failed_doc_is_not_uploaded(self):
        self._sphinx(SPHINX_BROKEN, 2)
        self.expect_outcome(result=FAILURE)
        self.expect_no_property("doc_built")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_upload_steps_are_skipped_without_a_built_doc(self):
        self.setup_step(made(doc, {})["clear-doc-staging"])
        self.expect_outcome(result=SKIPPED)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_clearing_the_staging_directory_on_the_master(self):
        root = Path(tempfile.mkdtemp())  # not trial's mktemp(): inside the repository
        self.addCleanup(shutil.rmtree, root)
        staging = root / "docs" / "b.uploading"
        staging.mkdir(parents=True)
        (staging / "leftover.html").write_text("x")
        self.setup_step(ClearMasterDirectory(str(staging)))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()
        self.assertFalse(staging.exists())
        self.assertTrue(staging.parent.is_dir())

    @defer.inlineCallbacks
    def test_the_doc_steps_clear_the_staging_directory_of_the_running_builder(self):
        # the build's builders share the step: the directory is the one of the builder
        # running the build, and its sibling's is left alone
        root = Path(tempfile.mkdtemp())  # not trial's mktemp(): inside the repository
        self.addCleanup(shutil.rmtree, root)
        upload_dir = root / "docs"
        for builder in ("sale-pg15", "sale-pg16"):
            (upload_dir / f"{builder}.uploading").mkdir(parents=True)
        step = made(doc, {"doc.upload-dir": str(upload_dir)})["clear-doc-staging"]
        self.setup_step(step)
        self.build.builder.name = "sale-pg16"
        self.build.setProperty("doc_built", True, "Sphinx")
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": f"cleared {upload_dir}/sale-pg16.uploading"})
        yield self.run_step()
        self.assertEqual(sorted(p.name for p in upload_dir.iterdir()), ["sale-pg15.uploading"])
