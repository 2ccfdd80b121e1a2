"""Buildbot's own ``checkconfig`` accepts a master.cfg using the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..conftest import DATA

BUILDBOT = Path(sys.executable).parent / "buildbot"


def test_buildbot_checkconfig_accepts_sample_master(tmp_path):
    master = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", master)
    run = subprocess.run([str(BUILDBOT), "checkconfig", str(master)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Config file is good" in run.stdout


def test_buildbot_checkconfig_reports_our_errors(tmp_path):
    master = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", master)
    manifest = master / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + "\n[broken]\nbuildout = standalone x.cfg\n"
                        "build-for = postgresql 9.1\n")
    run = subprocess.run([str(BUILDBOT), "checkconfig", str(master)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "buildouts/MANIFEST.cfg:" in output and "broken: build-for:" in output
    assert "'9.1' has no operator" in output


def test_buildbot_checkconfig_accepts_init_directory(tmp_path):
    master = tmp_path / "fresh"
    init = subprocess.run([sys.executable, "-m", "buildbot_odoo.cli", "init", str(master)],
                          capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    run = subprocess.run([str(BUILDBOT), "checkconfig", str(master)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
