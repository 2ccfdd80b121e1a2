"""Truncated REST responses of a real master, with and without buildbot-odoo's writer.

Buildbot 4.2.0 to 4.3.0 write REST bodies from a thread pool thread, and
Twisted's transports are not thread-safe: now and then a piece is lost and
the client gets ``http.client.IncompleteRead`` (see
``buildbot_odoo/master/rest_writes.py``).  This script starts two real
masters in turn (``buildbot start``, plain Buildbot with ``--builders``
builders, so that ``/api/v2/builders`` is a sizeable response): the *stock*
one, then one whose master.cfg installs buildbot-odoo's writer, and hammers
each with ``--clients`` threads of GETs for ``--seconds``, counting the
truncated responses.

The loss needs the reactor thread to be handed the GIL in the middle of a
few bytecodes, which Python does every ``sys.getswitchinterval()`` (5 ms by
default) when threads contend: ``--switch-interval`` lowers it in the
masters to show the mechanism in seconds instead of hours, and ``--burn``
keeps every CPU busy meanwhile, as the failing test run had.

Run: ``.venv/bin/python benchmarks/rest_under_load.py --switch-interval 1e-6 --burn``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.buildbot_processes import MasterProcess, wait_for

MASTER_CFG = '''\
import sys

from buildbot.plugins import schedulers, util, worker
from buildbot.process.factory import BuildFactory

sys.setswitchinterval({switch})
c["workers"] = [worker.Worker("w", "p")]
c["builders"] = [util.BuilderConfig(
    name=f"builder-{{i:04d}}-with-a-name-as-long-as-real-ones-pg15", workernames=["w"],
    factory=BuildFactory(), tags=["odoo", "17.0"], description="d" * 80)
    for i in range({builders})]
c["schedulers"] = [schedulers.ForceScheduler(name="force",
                                             builderNames=[b.name for b in c["builders"]])]
if {fixed!r}:
    from buildbot_odoo.master.rest_writes import install

    install()
'''


def burn(cpu: int) -> None:
    """Keep one CPU busy until killed."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})
    while True:
        pass


def hammer(url: str, seconds: float, clients: int) -> Counter:
    counts: Counter = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    json.load(response)
                outcome = "complete"
            except http.client.IncompleteRead:
                outcome = "truncated"
            except (OSError, ValueError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            with lock:
                counts[outcome] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def measure(root: Path, fixed: bool, args: argparse.Namespace) -> Counter:
    master = MasterProcess(root / ("fixed" if fixed else "stock"))
    master.create(MASTER_CFG.format(switch=args.switch_interval, builders=args.builders,
                                    fixed=fixed))
    master.start()
    try:
        wait_for(master.api.builders, "the REST API", 60)
        return hammer(master.api.base + "/builders", args.seconds, args.clients)
    finally:
        master.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--builders", type=int, default=100)
    parser.add_argument("--switch-interval", type=float, default=0.005,
                        help="the masters' sys.setswitchinterval (Python's default: 0.005)")
    parser.add_argument("--burn", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args()
    burners = [multiprocessing.Process(target=burn, args=(cpu,), daemon=True)
               for cpu in range(os.cpu_count() or 1)] if args.burn else []
    for process in burners:
        process.start()
    try:
        with tempfile.TemporaryDirectory(prefix="rest-under-load-") as tmp:
            results = {"stock Buildbot": measure(Path(tmp), False, args),
                       "buildbot-odoo's writer": measure(Path(tmp), True, args)}
    finally:
        for process in burners:
            process.kill()
    print(f"GET /api/v2/builders ({args.builders} builders), {args.clients} clients, "
          f"{args.seconds:.0f} s each, switch interval {args.switch_interval} s, "
          f"CPUs {'busy' if burners else 'as they are'}")
    for name, counts in results.items():
        total = sum(counts.values())
        print(f"  {name:24} {total:6d} responses, {counts['truncated']:5d} truncated "
              f"({100 * counts['truncated'] / max(total, 1):.2f} %), other errors: "
              f"{dict((k, v) for k, v in counts.items() if k not in ('complete', 'truncated'))}")


if __name__ == "__main__":
    main()
