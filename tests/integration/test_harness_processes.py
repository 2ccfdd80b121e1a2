"""The real-process test harness never leaves a process behind (tests/support)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.buildbot_processes import stop_twistd

STUBBORN = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\ntime.sleep(600)\n")


def test_a_process_that_outlives_its_stop_command_is_killed(tmp_path: Path) -> None:
    # what a master whose shutdown hangs looks like to `buildbot stop`: SIGTERM is
    # sent, the process stays, and the command gives up with exit code 1
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline() == "ready\n"  # SIGTERM is ignored from now on
    (tmp_path / "twistd.pid").write_text(str(process.pid))
    stop = tmp_path / "stop"
    stop.write_text("#!/bin/sh\nkill -TERM \"$(cat \"$2/twistd.pid\")\"\nexit 1\n")
    stop.chmod(0o755)
    stop_twistd(stop, tmp_path, "the stubborn master", timeout=5)
    assert process.wait(timeout=10) == -9
    assert "the stubborn master did not stop on SIGTERM: killed" in (
        tmp_path / "twistd.log").read_text()
