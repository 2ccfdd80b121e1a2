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


def test_buildbot_checkconfig_prints_each_problem_once_without_traceback(tmp_path):
    # our problems reach Buildbot as its own ConfigErrors: listed under
    # "Configuration Errors:", one per line, not a traceback plus a joined copy
    master = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", master)
    manifest = master / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + "\n[broken]\nbuildout = standalone x.cfg\n"
                        "build-for = postgresql 9.1\n")
    run = subprocess.run([str(BUILDBOT), "checkconfig", str(master)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "error while parsing config file" not in output
    errors = run.stderr[run.stderr.index("Configuration Errors:"):].splitlines()
    assert errors == [
        "Configuration Errors:",
        "  buildouts/MANIFEST.cfg:31: broken: buildout: 'standalone x.cfg': standalone "
        f"buildout file '{master}/buildouts/x.cfg' does not exist",
        "  buildouts/MANIFEST.cfg:32: broken: build-for: Invalid requirement: "
        "'postgresql 9.1': '9.1' has no operator (expected one of == != < <= > >= before it)",
    ]
    for line in errors[1:]:
        assert output.count(line.strip()) == 1, output


def test_buildbot_start_logs_each_problem_once_without_traceback(tmp_path):
    master = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", master)
    manifest = master / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + "\n[broken]\nbuildout = standalone x.cfg\n")
    create = subprocess.run([str(BUILDBOT), "create-master", "-q", str(master)],
                            capture_output=True, text=True, timeout=120)
    assert create.returncode == 0, create.stdout + create.stderr
    start = subprocess.run([str(BUILDBOT), "start", str(master)],
                           capture_output=True, text=True, timeout=120)
    assert start.returncode != 0, start.stdout
    log = (master / "twistd.log").read_text()
    assert "BuildMaster startup failed" in log
    assert "Traceback" not in log and "error while parsing config file" not in log
    problem = (f"buildouts/MANIFEST.cfg:31: broken: buildout: 'standalone x.cfg': standalone "
               f"buildout file '{master}/buildouts/x.cfg' does not exist")
    assert log.count(problem) == 1, log
    assert "Configuration Errors:" in log
