"""The installed ``buildbot-odoo`` command, run as a user would, and the master ``init`` makes.

The unit tests (tests/unit/test_cli.py) call ``main()``; here the console
script of the virtualenv runs in a subprocess, and the master directory
``init`` makes is started with ``buildbot start``: its web UI answers, and
refuses to force a build, since no account exists until auth is configured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from buildbot_odoo.master.scheduling import FORCE_SCHEDULER
from tests.support.postgres import free_port

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
COMMAND = BIN / "buildbot-odoo"


def command(*args, env=None, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([str(COMMAND), *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)
    if check_rc is not None:
        assert done.returncode == check_rc, done.stdout + done.stderr
    return done


def test_init_check_plan_from_the_installed_command(tmp_path):
    master = tmp_path / "master"
    init = command("init", master)
    secret = (master / "secrets" / "local-worker").read_text()
    assert secret not in init.stdout + init.stderr
    check = command("check", master)
    assert check.stdout.splitlines() == ["1 workers, 1 builds, 1 builders: 0 errors, 0 warnings"]
    plan = json.loads(command("plan", master, "--format", "json").stdout)
    assert plan["schema"] == "buildbot-odoo-plan/1"
    assert [(b["name"], b["workers"]) for b in plan["builders"]] == [
        ("odoo-17-pg15", ["local-worker"])]
    assert command("--help").stdout.startswith("usage: buildbot-odoo")


def test_check_of_a_bad_directory_exits_1_listing_every_problem(tmp_path):
    master = tmp_path / "master"
    command("init", master)
    (master / "workers.cfg").write_text("[a]\nmax_builds = x\n[b]\npassword = y\n[b]\n")
    manifest = master / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + "\n[broken]\nbuild-for = pg > 1 <\n")
    check = command("check", master, check_rc=1)
    # the sample build's line in the init template (its comments above it change)
    sample = manifest.read_text().splitlines().index("[odoo-17]") + 1
    assert check.stderr == ""
    assert check.stdout.splitlines() == [
        # b is valid once [b] is reported twice, but declares no capability
        f"buildouts/MANIFEST.cfg:{sample}: odoo-17: warning: no builder made: no worker has "
        "postgresql >= 12",
        f"buildouts/MANIFEST.cfg:{len(manifest.read_text().splitlines())}: broken: build-for: "
        "Invalid requirement: 'pg > 1 <': operator '<' has no version",
        "workers.cfg:1: a: missing required option 'password'",
        "workers.cfg:2: a: max_builds: 'x' is not a whole number",
        "workers.cfg:5: b: section [b] appears twice (first at line 3)",
        "1 workers, 1 builds, 0 builders: 4 errors, 1 warnings",
    ]
    plan = command("plan", master, check_rc=1)
    assert plan.stdout == "" and "4 errors: no plan" in plan.stderr


def test_init_master_runs_with_a_read_only_web_ui(tmp_path):
    master = tmp_path / "master"
    command("init", master)
    www = free_port()
    env = {**os.environ, "BUILDBOT_WWW_PORT": str(www),
           "BUILDBOT_PB_PORT": f"tcp:{free_port()}:interface=127.0.0.1",
           "BUILDBOT_URL": f"http://127.0.0.1:{www}/"}
    buildbot = str(BIN / "buildbot")
    subprocess.run([buildbot, "create-master", "-r", str(master)], check=True,
                   capture_output=True, timeout=120)
    started = subprocess.run([buildbot, "start", str(master)], capture_output=True, text=True,
                             env=env, timeout=180)
    try:
        assert started.returncode == 0, started.stdout + (master / "twistd.log").read_text()
        api = f"http://127.0.0.1:{www}/api/v2"
        with urllib.request.urlopen(f"{api}/builders", timeout=30) as response:
            builders = json.load(response)["builders"]
        assert [b["name"] for b in builders] == ["odoo-17-pg15"]
        body = json.dumps({"jsonrpc": "2.0", "method": "force", "id": 1,
                           "params": {"builderid": builders[0]["builderid"]}}).encode()
        request = urllib.request.Request(f"{api}/forceschedulers/{FORCE_SCHEDULER}", data=body,
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
        with urllib.request.urlopen(f"{api}/buildrequests", timeout=30) as response:
            assert json.load(response)["buildrequests"] == []
    finally:
        subprocess.run([buildbot, "stop", str(master)], capture_output=True, timeout=120)
