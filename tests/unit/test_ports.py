"""``odoo.use-port``: the claim script run for real, and the steps around it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from buildbot.locks import WorkerLock
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.master.buildsteps import build_steps
from buildbot_odoo.master.subfactories import ports
from buildbot_odoo.master.subfactories.retrieval import worker_script

from .subfactory_support import BUILDDIR, ENV, by_name, configurator, render, run_script
from .test_retrieval import options_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def claim(directory: Path, low: int, high: int, owner: str = "/w/a", step: int = 1,
          *extra: str) -> subprocess.CompletedProcess:
    return run_script("reserve_port.py", "claim", "--dir", str(directory), "--owner", owner,
                      "--min", str(low), "--max", str(high), "--step", str(step), *extra)


def claims(directory: Path) -> dict[int, dict]:
    return {int(p.name.split(".")[0]): json.loads(p.read_text())
            for p in directory.glob("*.claim")}


# --- the worker script


def test_claim_prints_a_port_and_records_its_owner(tmp_path):
    port = free_port()
    done = claim(tmp_path, port, port, "/w/sale-pg15", 1, "--note", "sale-pg15 #3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(port)
    assert claims(tmp_path)[port]["owner"] == "/w/sale-pg15"
    assert claims(tmp_path)[port]["note"] == "sale-pg15 #3"


def test_a_claimed_port_is_not_given_twice_and_release_frees_it(tmp_path):
    port = free_port()
    assert claim(tmp_path, port, port, "/w/a").returncode == 0
    second = claim(tmp_path, port, port, "/w/b")
    assert second.returncode == 1
    assert f"no free port between {port} and {port}" in second.stderr
    other = run_script("reserve_port.py", "release", "--dir", str(tmp_path), "--owner", "/w/b",
                       "--port", str(port))
    assert "left alone" in other.stdout and port in claims(tmp_path)
    mine = run_script("reserve_port.py", "release", "--dir", str(tmp_path), "--owner", "/w/a",
                      "--port", str(port))
    assert mine.returncode == 0 and f"released port {port}" in mine.stdout
    assert claims(tmp_path) == {}
    assert claim(tmp_path, port, port, "/w/b").stdout.strip() == str(port)


def test_a_port_some_process_listens_on_is_skipped(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = claim(tmp_path, port, port)
        assert done.returncode == 1
        assert f"port {port} is in use by a process outside the claims" in done.stderr
    assert claims(tmp_path) == {}, "the claim of a busy port must not stay"


def test_a_claim_left_by_the_same_builder_is_reclaimed(tmp_path):
    port = free_port()
    assert claim(tmp_path, port, port, "/w/sale").returncode == 0
    again = claim(tmp_path, port, port, "/w/sale")  # its previous build never released
    assert again.returncode == 0 and again.stdout.strip() == str(port)
    assert "reclaiming stale claim" in again.stderr


def test_an_old_claim_is_reclaimed_only_when_its_port_is_free(tmp_path):
    port = free_port()
    assert claim(tmp_path, port, port, "/w/gone").returncode == 0
    path = tmp_path / f"{port}.claim"
    assert claim(tmp_path, port, port, "/w/b", 1, "--max-age", "60").returncode == 1
    old = time.time() - 3600
    os.utime(path, (old, old))
    with socket.socket() as busy:  # an Odoo of the crashed build still serving
        busy.bind(("0.0.0.0", port))
        busy.listen()
        assert claim(tmp_path, port, port, "/w/b", 1, "--max-age", "60").returncode == 1
    taken = claim(tmp_path, port, port, "/w/b", 1, "--max-age", "60")
    assert taken.returncode == 0 and claims(tmp_path)[port]["owner"] == "/w/b"


def test_concurrent_claims_get_distinct_ports(tmp_path):
    base = 43100
    processes = [subprocess.Popen(
        [sys.executable, worker_script("reserve_port.py"), "claim", "--dir", str(tmp_path),
         "--owner", f"/w/builder{i}", "--min", str(base), "--max", str(base + 400),
         "--step", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(8)]
    results = [p.communicate(timeout=60) for p in processes]
    got = [int(out) for out, _ in results]
    assert all(p.returncode == 0 for p in processes), results
    assert len(set(got)) == 8
    assert all((port - base) % 10 == 0 for port in got)
    assert {c["owner"] for c in claims(tmp_path).values()} == {f"/w/builder{i}"
                                                                for i in range(8)}


def test_a_bad_range_is_refused(tmp_path):
    done = claim(tmp_path, 9000, 8000)
    assert done.returncode == 2 and "bad port range" in done.stderr


# --- the steps


def test_reservation_steps_claim_under_the_worker_lock():
    send, reserve = ports.reserve_http_port(None, options_for(
        use_port=True, http_port_min=9000, http_port_max=9500, http_port_step=5),
        "odoo.cfg", ENV)
    assert send.workerdest == "worker-scripts/reserve_port.py"
    assert send.mastersrc == worker_script("reserve_port.py")
    assert render(reserve.command) == [
        "python3", "worker-scripts/reserve_port.py", "claim",
        "--dir", "/home/worker/w1/port-claims", "--owner", BUILDDIR,
        "--min", "9000", "--max", "9500", "--step", "5", "--note", "sale-pg15 #7"]
    assert reserve.workdir == "." and reserve.env is ENV and reserve.haltOnFailure
    assert [(a.lockid.name, a.mode) for a in reserve.locks] == [("odoo http ports", "exclusive")]
    assert isinstance(ports.PORTS_LOCK, WorkerLock) and ports.PORTS_LOCK.maxCount == 1


def test_a_worker_property_shares_the_claims_directory_between_workers():
    assert render(ports.ClaimsDir(), port_claims_dir="/var/lib/ci/ports") == "/var/lib/ci/ports"
    assert render(ports.ClaimsDir()) == "/home/worker/w1/port-claims"


def test_release_is_a_final_cleanup_that_only_runs_once_a_port_is_claimed():
    assert ports.reserve_http_port.final_cleanup_steps is ports.release_http_port
    [release] = ports.release_http_port(None, options_for(), ENV)
    assert render(release.command, odoo_http_port=9005) == [
        "python3", "worker-scripts/reserve_port.py", "release",
        "--dir", "/home/worker/w1/port-claims", "--owner", BUILDDIR, "--port", "9005"]
    assert release.alwaysRun and not release.flunkOnFailure and release.warnOnFailure


@pytest.mark.parametrize(("fields", "steps", "expected"), [
    ({}, ["install-modules-test"], False),
    ({"use_port": True}, ["install-modules-test"], True),
    ({}, ["install-modules", "functional"], True),  # functional serves HTTP itself
])
def test_which_builds_reserve_a_port(fields, steps, expected):
    options = options_for(post_buildout_steps=steps, raw={"functional.command": "t"}, **fields)
    assert ports.reserves_port(configurator(), options) is expected
    names = [s.name for s in build_steps(configurator(), options, "odoo.cfg", ENV)]
    assert ("reserve-http-port" in names) is expected
    assert ("release-http-port" in names) is expected
    if expected:  # reserved after the database, released after the subfactories' clean-ups
        assert names.index("reserve-http-port") > names.index("disable-outgoing-mail")
        assert names.index("reserve-http-port") < names.index(
            "remove-old-install-modules-log" if "install-modules" in steps
            else "remove-old-odoo-log")
        assert names[-2:] == ["release-http-port", "drop-testing-database"]


class ReserveHttpPortStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    COMMAND = ["python3", "worker-scripts/reserve_port.py", "claim"]

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _expect(self, stdout: str, rc: int, stderr: str = ""):
        self.setup_step(ports.ReserveHttpPort(command=self.COMMAND, workdir="."))
        shell = ExpectShell(workdir=".", command=self.COMMAND).stdout(stdout)
        if stderr:
            shell.stderr(stderr)
        self.expect_commands(shell.exit(rc))

    @defer.inlineCallbacks
    def test_the_port_becomes_an_integer_property(self):
        self._expect("9010\n", 0)
        self.expect_outcome(result=SUCCESS)
        self.expect_property("odoo_http_port", 9010)
        self.expect_result_summary({"step": "HTTP port 9010"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_no_free_port_fails_the_build_early(self):
        self._expect("", 1, "no free port between 9000 and 9010 (step 5)\n")
        self.expect_outcome(result=FAILURE)
        self.expect_no_property("odoo_http_port")
        self.expect_result_summary({"step": "no free HTTP port"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_unexpected_output_is_a_failure(self):
        self._expect("Traceback\n", 0)
        self.expect_outcome(result=FAILURE)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_release_is_skipped_without_a_claim(self):
        [release] = ports.release_http_port(None, options_for(), ENV)
        self.setup_step(release)
        self.build.setProperty("builddir", BUILDDIR, "test")
        self.expect_outcome(result=SKIPPED)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_release_runs_with_a_claim(self):
        [release] = ports.release_http_port(None, options_for(), ENV)
        self.setup_step(release)
        self.build.setProperty("odoo_http_port", 9010, "test")
        self.build.setProperty("builddir", BUILDDIR, "test")
        self.expect_commands(ExpectShell(workdir=".", env=ENV, command=[
            "python3", "worker-scripts/reserve_port.py", "release",
            "--dir", "/home/worker/w1/port-claims", "--owner", BUILDDIR,
            "--port", "9010"]).stdout("released port 9010\n").exit(0))
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()


def test_by_name_helper_sees_every_step():
    made = ports.reserve_http_port(None, options_for(use_port=True), "b.cfg", ENV)
    assert set(by_name(made)) == {"download-reserve-port", "reserve-http-port"}
