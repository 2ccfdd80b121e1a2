"""Benchmark: the time of every step of a real build, cold and warm.

A real master and worker (``buildbot start``, ``buildbot-worker start``), a
real PostgreSQL server and real zc.buildout build the Odoo stand-in of the
tests (``tests/support``).  Two builders run the same buildout on the one
worker:

* ``reuse``: the product's default (``bootstrap-reuse = true``): the build
  virtualenv with zc.buildout is made once, then reused while the interpreter
  and the ``bootstrap-*`` values stay the same;
* ``baseline``: ``bootstrap-reuse = false``, every build makes a fresh
  virtualenv and pip-installs zc.buildout (the behaviour before reuse).

Each builder is forced once *cold* (its first build on the worker: no
virtualenv yet; the worker's shared pip and egg caches are filled by the very
first build of the run, the baseline's), then ``--warm`` times, alternately.
For every step the table shows its duration: the REST API's ``started_at`` /
``complete_at`` are whole seconds, so the master.cfg of the benchmark adds a
service that timestamps the same ``started``/``finished`` step events on the
master's message queue (``master.mq``) with ``time.monotonic()``.  *outside*
is the build's duration minus its buildout and Odoo steps (``buildout``,
``odoo-*``, ``install-modules*``, ``update-modules*``): what the product itself
costs per build.  Warm figures are medians.

Run: ``.venv/bin/python benchmarks/build_steps.py [--warm 5] [--max-load 1.5]``; the
machine's load average is printed with the figures (``--max-load`` first waits
for a quieter machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.buildbot_processes import Site, standin_site
from tests.support.postgres import (
    PgServer,
    find_pg_installations,
    newest_install,
    require_installations,
)

CLOCK_FILE = "step-clock.jsonl"
MASTER_CFG = f'''\
import json, time
from buildbot.util import service
from twisted.internet import defer
from buildbot_odoo import configure_from_buildouts


class StepClock(service.BuildbotService):
    """Appends (monotonic time, kind, event, id, build, name) of build and step events.

    A build's first event is ``new`` (made when it starts), a step's ``started``;
    both end with ``finished``.
    """

    name = "step-clock"

    @defer.inlineCallbacks
    def startService(self):
        yield super().startService()
        self._consumers = []
        for kind in ("builds", "steps"):
            consumer = yield self.master.mq.startConsuming(self._record, (kind, None, None))
            self._consumers.append(consumer)

    def stopService(self):
        for consumer in self._consumers:
            consumer.stopConsuming()
        return super().stopService()

    def _record(self, key, message):
        kind, _ident, event = key
        if event not in ("new", "started", "finished"):
            return
        row = {{"t": time.monotonic(), "kind": kind, "event": event,
               "build": message.get("buildid"), "id": message.get(kind[:-1] + "id"),
               "name": message.get("name"), "number": message.get("number")}}
        with open({CLOCK_FILE!r}, "a") as out:
            out.write(json.dumps(row) + "\\n")


c["services"] = [StepClock()]
configure_from_buildouts(basedir, c)
'''

MANIFEST = """\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok

[reuse]

[baseline]
bootstrap-reuse = false
"""

BUILDOUT_STEPS = ("buildout",)
ODOO_STEP_PREFIXES = ("odoo-", "install-modules", "update-modules")


def is_buildout_or_odoo(step: str) -> bool:
    return step in BUILDOUT_STEPS or step.startswith(ODOO_STEP_PREFIXES)


def read_clock(path: Path) -> dict[int, dict]:
    """Per build id: its duration and ``steps`` (name -> seconds), in pipeline order."""
    started: dict[tuple[str, int], float] = {}
    builds: dict[int, dict] = defaultdict(lambda: {"steps": {}, "duration": None})
    for line in path.read_text().splitlines():
        row = json.loads(line)
        key = (row["kind"], row["id"])
        if row["event"] in ("new", "started"):
            started[key] = row["t"]
            if row["kind"] == "steps":
                builds[row["build"]]["steps"].setdefault(row["name"], None)
            continue
        if key not in started:
            continue
        seconds = row["t"] - started[key]
        if row["kind"] == "builds":
            builds[row["id"]]["duration"] = seconds
        else:
            builds[row["build"]]["steps"][row["name"]] = seconds
    return builds


def outside(build: dict) -> float:
    """The build's duration minus its buildout and Odoo steps."""
    inside = sum(s or 0.0 for n, s in build["steps"].items() if is_buildout_or_odoo(n))
    return build["duration"] - inside


def run(site: Site, warm: int) -> dict[str, list[dict]]:
    """Cold builds (baseline first: it fills the caches), then ``warm`` rounds of both."""
    names = {b["name"].split("-pg")[0]: b["name"] for b in site.api.builders()}
    order = ["baseline", "reuse"]
    made: dict[str, list[int]] = {key: [] for key in order}
    rest: dict[int, dict] = {}
    for round_ in range(warm + 1):
        for key in order:
            build = site.api.build(names[key])
            if build.result != 0:
                raise SystemExit(f"{key} build {round_} failed:\n{build.explain()}")
            made[key].append(build.data["buildid"])
            rest[build.data["buildid"]] = {
                s["name"]: (s["complete_at"] or 0) - (s["started_at"] or 0) for s in build.steps}
            print(f"  {key:8} {'cold' if round_ == 0 else 'warm'} build done "
                  f"({build.wall:.1f} s)", file=sys.stderr, flush=True)
    clock = wait_clock(site.master.directory / CLOCK_FILE, [b for ids in made.values()
                                                            for b in ids])
    return {key: [{**clock[i], "rest": rest[i]} for i in ids] for key, ids in made.items()}


def wait_clock(path: Path, buildids: list[int], timeout: float = 30) -> dict[int, dict]:
    """The clock file once it holds every build's end (events are written as they come)."""
    deadline = time.monotonic() + timeout
    while True:
        clock = read_clock(path) if path.exists() else {}
        if all(clock.get(b, {}).get("duration") is not None for b in buildids):
            return clock
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} lacks the end of some builds")
        time.sleep(0.2)


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def report(results: dict[str, list[dict]]) -> None:
    columns = [("baseline", "cold"), ("reuse", "cold"), ("baseline", "warm"), ("reuse", "warm")]

    def pick(key: str, when: str) -> list[dict]:
        builds = results[key]
        return builds[:1] if when == "cold" else builds[1:]

    step_names: list[str] = []
    for builds in results.values():
        for build in builds:
            step_names += [n for n in build["steps"] if n not in step_names]
    width = max(len(n) for n in step_names) + 2
    header = "".join(f"{k + ' ' + w:>16}" for k, w in columns)
    print(f"\nstep times in seconds (warm: median of {len(results['reuse']) - 1} builds; "
          f"* = buildout or Odoo step)")
    print(f"{'step':<{width}}{header}")
    for name in step_names:
        cells = []
        for key, when in columns:
            value = median([b["steps"].get(name) for b in pick(key, when)])
            cells.append(f"{value:16.3f}" if value is not None else f"{'-':>16}")
        mark = "*" if is_buildout_or_odoo(name) else " "
        print(f"{mark}{name:<{width - 1}}{''.join(cells)}")
    for label, measure in (("build", lambda b: b["duration"]), ("outside *", outside)):
        cells = "".join(f"{median([measure(b) for b in pick(k, w)]):16.3f}" for k, w in columns)
        print(f"{'= ' + label:<{width}}{cells}")
    base = median([outside(b) for b in pick("baseline", "warm")])
    mine = median([outside(b) for b in pick("reuse", "warm")])
    print(f"\nwarm build outside buildout/Odoo steps: reuse {mine:.2f} s, baseline {base:.2f} s "
          f"(x{base / mine:.1f}); target < 2 s: {'met' if mine < 2 else 'MISSED'}")
    rest = median([sum(b["rest"].get(n, 0) for n in b["rest"] if not is_buildout_or_odoo(n))
                   for b in pick("reuse", "warm")])
    print(f"(REST API, whole seconds, same warm reuse builds: {rest} s outside)")


@contextlib.contextmanager
def bench_root(prefix: str, keep: bool) -> Iterator[tuple[Path, PgServer]]:
    """A temporary directory and the newest PostgreSQL server in it, for one benchmark
    run: the server stopped at the end, the directory removed, or kept and printed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    pg = PgServer(newest_install(require_installations(find_pg_installations())), root).start()
    try:
        yield root, pg
    finally:
        pg.stop()
        if keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def wait_for_load(limit: float, timeout: float = 1800) -> None:
    """Step times on a shared machine measure its load as much as the product."""
    deadline = time.monotonic() + timeout
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(10)
    if os.getloadavg()[0] >= limit:
        print(f"load average still {os.getloadavg()[0]:.1f} after {timeout:.0f} s: going on",
              file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=5, help="warm builds per builder")
    parser.add_argument("--keep", action="store_true", help="keep the directory, print it")
    parser.add_argument("--max-load", type=float, default=None,
                        help="first wait (30 min at most) for a 1-minute load average below this")
    args = parser.parse_args()
    if args.max_load is not None:
        wait_for_load(args.max_load)
    with bench_root("bench-build-steps-", args.keep) as (root, pg):
        (root / "site").mkdir()
        site = standin_site(root / "site", pg, MASTER_CFG, MANIFEST)
        load_before = os.getloadavg()
        with site:
            results = run(site, args.warm)
        report(results)
        print(f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before the "
              f"builds, {os.getloadavg()[0]:.1f} after (1 min): step times grow with it")


if __name__ == "__main__":
    main()
