"""Hostile configuration and worker data against a real master (issue 9, security).

Real processes (:mod:`tests.support.buildbot_processes`) and a real git
repository.  The payload is the one that used to run a command on the
master through Buildbot's ``GitPoller``: a "URL" that ``git ls-remote`` reads
as its ``--upload-pack`` option, run by a shell.  Nothing may create the
marker file it names:

* in a manifest, ``buildbot-odoo check`` refuses it and ``buildbot start``
  refuses the configuration;
* in an auto-watch file a worker uploaded (planted here after the master
  started, as a compromised worker would), ``buildbot reconfig`` skips it
  with a warning naming the file: no poller is made from it, and the master
  keeps running with the manifest's own watches.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.buildbot_processes import MasterProcess, ProcessError, Site
from tests.support.repos import GitRepo

pytestmark = pytest.mark.integration

BUILDBOT_ODOO = Path(sys.executable).parent / "buildbot-odoo"
MASTER_CFG = '''\
from buildbot_odoo import BuildoutsConfigurator

conf = BuildoutsConfigurator(basedir)
conf.poll_interval = 1
conf.populate(c)
'''
AUTO_MANIFEST = """\
[auto]
buildout = git {deploy} main buildout.cfg
auto-watch = true
build-for = postgresql not-used
post-buildout-steps =
"""
WORKERS = "[w1]\npassword = never-connects\n"


def payload(marker: Path) -> str:
    """A 'URL' that git would take as ``--upload-pack=<shell command>``."""
    return f"--upload-pack=touch${{IFS}}{marker};:"


def test_a_manifest_watch_line_cannot_run_a_command_on_the_master(tmp_path):
    marker = tmp_path / "pwned-by-manifest"
    master = MasterProcess(tmp_path / "master")
    master.create(MASTER_CFG, {
        "workers.cfg": WORKERS, "buildouts/b.cfg": "[buildout]\n",
        "buildouts/MANIFEST.cfg": f"[evil]\nbuildout = standalone b.cfg\n"
                                  f"watch = git {payload(marker)} 17.0\n"})
    check = subprocess.run([str(BUILDBOT_ODOO), "check", str(master.directory)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1, check.stdout + check.stderr
    assert (f"buildouts/MANIFEST.cfg:3: evil: watch: '{payload(marker)}': a URL cannot start "
            "with '-' (it would be read as an option)") in check.stdout.splitlines()
    try:
        with pytest.raises(ProcessError):
            master.start(timeout=120)
    finally:
        master.stop()
    assert not marker.exists()


def test_an_uploaded_watch_file_cannot_run_a_command_on_the_master(tmp_path):
    marker = tmp_path / "pwned-by-worker"
    deploy = GitRepo(tmp_path / "deploy")
    deploy.commit("buildout.cfg", "[buildout]\n")
    buildout = f"git {deploy.url} main buildout.cfg"
    master = MasterProcess(tmp_path / "master")
    master.create(MASTER_CFG, {"workers.cfg": WORKERS,
                               "buildouts/MANIFEST.cfg": AUTO_MANIFEST.format(deploy=deploy.url)})
    with Site(tmp_path, master):
        assert master.api.names("changesources") == {f"git {deploy.url} main"}
        # what a compromised worker's upload-auto-watch step would leave in watch/auto
        master.write("watch/auto", json.dumps({
            "format": 1, "build": "auto", "buildout": buildout, "part": "odoo",
            "sources": [{"vcs": "git", "url": payload(marker), "branch": "main"},
                        {"vcs": "hg", "url": "https://hg.example.invalid/r",
                         "branch": "--config=hooks.pre-pull=touch"}],
            "fixed": []}))
        master.reconfig()
        assert master.api.names("changesources") == {f"git {deploy.url} main"}
        log = master.log.read_text()
        assert ("watch/auto: auto: warning: unusable auto-watch data, skipped: sources[0]: "
                f"'{payload(marker)}': a URL cannot start with '-'") in log
    assert not marker.exists()


def test_a_folded_password_line_is_never_in_twistd_log(tmp_path):
    master = MasterProcess(tmp_path / "master")
    master.create(MASTER_CFG, {
        "workers.cfg": "[w1]\nmax_builds = 2\n  password = hunter2\n"
                       "[w2] password = hunter3\n",
        "buildouts/b.cfg": "[buildout]\n",
        "buildouts/MANIFEST.cfg": "[a]\nbuildout = standalone b.cfg\n"
                                  "build-for = postgresql\n  PGPASSWORD: hunter4\n"})
    try:
        with pytest.raises(ProcessError) as caught:
            master.start(timeout=120)
    finally:
        master.stop()
    log = master.log.read_text()
    assert ("workers.cfg:3: w1: max_builds: this indented line continues max_builds but "
            "looks like a 'password' option") in log
    for secret in ("hunter2", "hunter3", "hunter4"):
        assert secret not in log and secret not in str(caught.value)
