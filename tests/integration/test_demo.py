"""The demo program, as ``./scripts/demo.sh`` runs it (after bootstrap): ``python -m demo``.

One run with ``--once --with-failure --push``: every sample build runs on the
real fleet, the table shows one line per build with the PostgreSQL server each
one saw, the deliberately failing build is the only red one and makes the exit
status 1; the demo prints the push hook's URL and a curl line, which
``--push`` runs: it builds the standin build's builders once each; and
nothing is left behind: neither the directory nor a process.
(The fleet itself is asserted through the REST API in test_fleet_e2e.py.)

One run with ``--once --masters 2 --push``: the same builds on a cluster of two
masters (docs/scale-out.md), the workers split between them through HAProxy,
each build run by the master of its worker, the push built too; nothing left
behind, the router and the proxy included.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.postgres import find_pg_installations, one_install_per_major

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def processes_under(root: Path) -> list[int]:
    """Processes whose working directory is under ``root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).is_relative_to(root):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def table(output: str, which: int = 0) -> dict[str, list[str]]:
    """The demo's result table (``which``: the first, or the push's):
    builder -> [worker, server version, tests, result]."""
    lines = output.splitlines()
    start = [i for i, line in enumerate(lines)
             if line.startswith("BUILDER ") and line.endswith("RESULT")][which]
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


def test_demo_once_with_a_failing_build(tmp_path):
    root = tmp_path / "demo"
    run = subprocess.run([sys.executable, "-m", "demo", "--once", "--with-failure", "--push",
                          "--dir", str(root)], cwd=REPO, capture_output=True, text=True,
                         timeout=1500)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    majors = one_install_per_major(find_pg_installations())
    old, new = majors[min(majors)], majors[max(majors)]
    old_v, new_v = old.major_version, new.major_version
    rows = table(run.stdout)
    assert {name: (row[0], row[3]) for name, row in rows.items()} == {
        f"standin-failing-pg{new_v}": (rows[f"standin-failing-pg{new_v}"][0], "failure"),
        f"standin-pg{old_v}": ("pg-both", "success"),
        f"standin-pg{new_v}": (rows[f"standin-pg{new_v}"][0], "success"),
        f"standin-queue-pg{new_v}": ("pg-new-rabbitmq", "success"),
        f"standin-ui-pg{old_v}": ("selenium", "success"),
    }, run.stdout
    for name, (worker, seen, tests, _) in rows.items():
        version = old.version if name.endswith(f"-pg{old_v}") else new.version
        assert seen == version, (name, seen)
        assert worker in {"pg-both", "pg-new-rabbitmq", "selenium"}
        expected = "1 passed, 1 failed, 0 skipped" if "failing" in name else \
            "2 passed, 0 failed, 1 skipped"
        assert tests == expected, (name, tests)
    assert (f"standin-queue-pg{new_v} on pg-new-rabbitmq: show-env printed "
            "amqp://localhost:5672/, rabbitmqctl, False") in run.stdout
    assert re.search(r"^demo: Fleet page \(workers, capabilities, the build matrix\): "
                     r"http://127\.0\.0\.1:[0-9]+/#/fleet$", run.stdout, re.MULTILINE), run.stdout
    assert f"failed: standin-failing-pg{new_v}" in run.stdout
    hook = re.search(r"^demo: push hook \(GitHub's dialect\): (http://127\.0\.0\.1:[0-9]+/"
                     r"change_hook/github) \(its secret: \S+/secrets/github-webhook\)$",
                     run.stdout, re.MULTILINE)
    assert hook, run.stdout
    curl = re.search(r"^  (curl -sS .*)$", run.stdout, re.MULTILINE)
    assert curl and curl.group(1).endswith(hook.group(1)), run.stdout
    assert "-H 'X-Hub-Signature: sha1=" in curl.group(1)
    assert "demo: the master answered: 1 change found" in run.stdout
    pushed = table(run.stdout, 1)
    assert {name: row[3] for name, row in pushed.items()} == {
        f"standin-pg{old_v}": "success", f"standin-pg{new_v}": "success"}, run.stdout
    assert run.stdout.rstrip().endswith("demo: stopped")
    assert not root.exists()
    assert processes_under(root) == []


def test_demo_once_on_two_masters(tmp_path):
    root = tmp_path / "demo"
    run = subprocess.run([sys.executable, "-m", "demo", "--once", "--masters", "2", "--push",
                          "--dir", str(root)], cwd=REPO, capture_output=True, text=True,
                         timeout=1500)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    majors = one_install_per_major(find_pg_installations())
    old_v, new_v = majors[min(majors)].major_version, majors[max(majors)].major_version
    # the workers are given to master-a and master-b in turn, and connect through the proxy
    homes = dict(re.findall(r"^demo: worker (\S+) is on (master-[ab])$", run.stdout,
                            re.MULTILINE))
    assert homes == {"pg-both": "master-a", "pg-new-rabbitmq": "master-b",
                     "selenium": "master-a"}, run.stdout
    rows = table(run.stdout)  # builder -> [master, worker, server version, tests, result]
    assert {name: row[-1] for name, row in rows.items()} == {
        f"standin-pg{old_v}": "success", f"standin-pg{new_v}": "success",
        f"standin-queue-pg{new_v}": "success", f"standin-ui-pg{old_v}": "success"}, run.stdout
    assert all(homes[worker] == master for master, worker, *_ in rows.values()), run.stdout
    assert {master for master, *_ in rows.values()} == {"master-a", "master-b"}
    for name in ("master-a", "master-b"):
        assert re.search(rf"^demo: Fleet page of {name} \(the whole fleet, as every master "
                         r"sees it\): http://127\.0\.0\.1:[0-9]+/#/fleet$", run.stdout,
                         re.MULTILINE), run.stdout
    assert "demo: the master answered: 1 change found" in run.stdout
    pushed = table(run.stdout, 1)
    assert {name: row[-1] for name, row in pushed.items()} == {
        f"standin-pg{old_v}": "success", f"standin-pg{new_v}": "success"}, run.stdout
    assert run.stdout.rstrip().endswith("demo: stopped")
    assert not root.exists()
    assert processes_under(root) == []
