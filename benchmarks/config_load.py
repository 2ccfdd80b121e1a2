"""Benchmark: loading the configuration of a large fleet, against a hand-written master.cfg.

The fleet of issue 16: 1,000 workers and 500 builds, about 3,841 builders
(each build split by PostgreSQL, six in ten by Python too).  Printed side by
side, every figure made in the same run:

* ``populate``: ``BuildoutsConfigurator.populate`` (both files read and
  checked, dispatch, workers, builders, factories, schedulers, pollers), with
  its ``load`` part (files to a checked plan: plain Python) apart;
* ``reference``: what a hand-written master.cfg costs for the same workers
  and builders, the way Buildbot intends it -- one ``BuildFactory`` per build,
  holding as many ``ShellCommand`` steps as ours, shared by the build's
  builders, ``Worker``/``BuilderConfig`` objects with the same names, worker
  lists, properties and tags, and a force scheduler for them all (Buildbot
  refuses builders nothing schedules); the data is made before the clock
  starts, as a master.cfg holds it literally.  Target: ``populate`` at most 3x this;
* linearity: the same with twice the workers, twice the builds, and both,
  as ratios to the first fleet: linear means at most 2 for each doubling
  (the builders' worker lists grow as workers x builders: both doubled, up to 4);
* ``buildbot checkconfig``: the real command on a generated master directory
  (master.cfg calling ``configure_from_buildouts``), next to the same command
  on the hand-written master.cfg (the reference above, reading its data from a
  JSON file) and on a master.cfg making one worker and one builder (Buildbot's
  own start-up).  Target: under 3 s.

In-process figures are CPU seconds of this process (``time.process_time``),
medians of ``--repeat`` runs made in alternation: the machine may be shared,
and waiting for a core is no cost of the code.  They are printed twice: as a
master runs the code, and with Python's cyclic garbage collector paused, whose
full collections walk the whole heap of the process (what else it holds, here
the reference's data, weighs on them): the second table is the code's own work,
where linearity shows.  ``checkconfig`` is timed by the wall clock (and the
command's CPU time is printed beside it).

Run: ``.venv/bin/python benchmarks/config_load.py [--repeat N] [--no-checkconfig]``.
``--profile`` prints cProfile's top functions of one ``populate`` instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from buildbot.config import BuilderConfig
from buildbot.plugins import schedulers, steps, util, worker
from dispatch import write_fleet  # the sibling benchmark's fleet generator

from buildbot_odoo import BuildoutsConfigurator

BUILDBOT = Path(sys.executable).parent / "buildbot"
TARGET_RATIO = 3.0
TARGET_CHECKCONFIG = 3.0
#: builds also split by Python: gives the issue's fleet about 3,841 builders
PYTHON_SPLIT = 0.58

MASTER_CFG = """\
from buildbot_odoo import configure_from_buildouts

c = BuildmasterConfig = {}
c["protocols"] = {"pb": {"port": "tcp:0:interface=127.0.0.1"}}
c["db"] = {"db_url": "sqlite:///state.sqlite"}
c["buildbotURL"] = "http://localhost:8010/"
configure_from_buildouts(basedir, c)
"""

#: the reference as a master.cfg: the same objects, one factory per build, from literal data
REFERENCE_CFG = """\
import json
from buildbot.config import BuilderConfig
from buildbot.plugins import schedulers, steps, util, worker

c = BuildmasterConfig = {}
c["protocols"] = {"pb": {"port": "tcp:0:interface=127.0.0.1"}}
c["db"] = {"db_url": "sqlite:///state.sqlite"}
c["buildbotURL"] = "http://localhost:8010/"
with open("reference.json") as data:
    fleet = json.load(data)
c["workers"] = [worker.Worker(w["name"], w["password"], properties=w["properties"])
                for w in fleet["workers"]]
c["builders"] = []
for build in fleet["builds"]:
    factory = util.BuildFactory([steps.ShellCommand(command=["true", str(n)], name=f"s{n}")
                                 for n in range(build["steps"])])
    for b in build["builders"]:
        c["builders"].append(BuilderConfig(
            name=b["name"], workernames=b["workers"], factory=factory, tags=b["tags"] or None,
            properties=b["properties"], description=b["description"]))
c["schedulers"] = [schedulers.ForceScheduler(
    name="force", builderNames=[b.name for b in c["builders"]])]
"""

#: one worker, one builder: what Buildbot itself costs to start checking a configuration
MINIMAL_CFG = """\
from buildbot.plugins import schedulers, steps, util, worker

c = BuildmasterConfig = {}
c["protocols"] = {"pb": {"port": "tcp:0:interface=127.0.0.1"}}
c["db"] = {"db_url": "sqlite:///state.sqlite"}
c["workers"] = [worker.Worker("w", "p")]
c["builders"] = [util.BuilderConfig(name="b", workernames=["w"],
                                    factory=util.BuildFactory([steps.ShellCommand(command=["true"])]))]
c["schedulers"] = [schedulers.ForceScheduler(name="force", builderNames=["b"])]
"""


def split_by_python(directory: Path, fraction: float = PYTHON_SPLIT, seed: int = 7) -> None:
    """About ``fraction`` of the builds also split by the workers' Python versions."""
    rng = random.Random(seed)
    path = directory / "buildouts" / "MANIFEST.cfg"
    sections = path.read_text().split("\n[")
    for i in range(1, len(sections)):
        if rng.random() >= fraction:
            continue
        if "build-for" in sections[i]:
            sections[i] = sections[i].replace("build-for = postgresql >= 15\n",
                                              "build-for = postgresql >= 15\n    python\n")
        else:
            sections[i] += "build-for = postgresql >= 12\n    python\n"
    path.write_text("\n[".join(sections))


def write_master(directory: Path, n_workers: int, n_builds: int) -> None:
    write_fleet(directory, n_workers, n_builds)
    split_by_python(directory)
    (directory / "master.cfg").write_text(MASTER_CFG)


def reference_data(directory: Path) -> dict:
    """What a hand-written master.cfg would hold for the fleet: names, worker lists,
    properties, and each build's number of steps (as many as ours)."""
    conf = BuildoutsConfigurator(directory)
    config: dict = {}
    conf.populate(config)
    assert conf.plan is not None
    made = {b.name: b for b in config["builders"]}
    workers = [{"name": w.name, "password": w.password,
                "properties": {k: v for k, (v, _) in w.properties.asDict().items()}}
               for w in config["workers"]]
    builds: dict[str, dict] = {}
    for plan in conf.plan.dispatch.builders:
        b = made[plan.name]
        entry = builds.setdefault(plan.build.name, {"steps": len(b.factory.steps),
                                                    "builders": []})
        entry["builders"].append({"name": b.name, "workers": list(b.workernames),
                                  "tags": list(b.tags or []), "properties": dict(b.properties),
                                  "description": b.description})
    return {"workers": workers, "builds": list(builds.values())}


def make_reference(data: dict) -> tuple[list, list, list]:
    """The reference's objects: what REFERENCE_CFG makes, in this process."""
    workers = [worker.Worker(w["name"], w["password"], properties=w["properties"])
               for w in data["workers"]]
    builders = []
    for build in data["builds"]:
        factory = util.BuildFactory([steps.ShellCommand(command=["true", str(n)], name=f"s{n}")
                                     for n in range(build["steps"])])
        for b in build["builders"]:
            builders.append(BuilderConfig(
                name=b["name"], workernames=b["workers"], factory=factory,
                tags=b["tags"] or None, properties=b["properties"],
                description=b["description"]))
    # Buildbot refuses builders no scheduler drives
    force = [schedulers.ForceScheduler(name="force", builderNames=[b.name for b in builders])]
    return workers, builders, force


def timed(action: Callable[[], object], gc_paused: bool = False) -> float:
    """CPU seconds ``action`` takes in this process: the machine is shared, and waiting for
    a core is no cost of the code measured.  ``gc_paused``: without Python's cyclic garbage
    collector, whose full collections walk the whole heap (so grow with everything else
    the process holds): what is left is the code's own work."""
    gc.collect()
    if gc_paused:
        gc.disable()
    try:
        start = time.process_time()
        action()
        return time.process_time() - start
    finally:
        gc.enable()


def populate(directory: Path) -> dict:
    config: dict = {}
    BuildoutsConfigurator(directory).populate(config)
    return config


def measure_fleet(n_workers: int, n_builds: int, repeat: int) -> dict:
    """Median seconds of populate, its load part and the reference, in alternation."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_master(directory, n_workers, n_builds)
        data = reference_data(directory)
        runs = []
        for _ in range(repeat):
            runs.append((timed(lambda: populate(directory)),
                         timed(lambda: BuildoutsConfigurator(directory).load()),
                         timed(lambda: make_reference(data)),
                         timed(lambda: populate(directory), gc_paused=True),
                         timed(lambda: BuildoutsConfigurator(directory).load(), gc_paused=True),
                         timed(lambda: make_reference(data), gc_paused=True)))
        config = populate(directory)
    factories = {id(b.factory) for b in config["builders"]}
    return {
        "workers": n_workers, "builds": n_builds, "builders": len(config["builders"]),
        "factories": len(factories),
        "steps": sum(len(b.factory.steps) for b in {id(b.factory): b for b in
                                                     config["builders"]}.values()),
        "populate": statistics.median(r[0] for r in runs),
        "load": statistics.median(r[1] for r in runs),
        "reference": statistics.median(r[2] for r in runs),
        "populate, gc paused": statistics.median(r[3] for r in runs),
        "load, gc paused": statistics.median(r[4] for r in runs),
        "reference, gc paused": statistics.median(r[5] for r in runs),
    }


def checkconfig_seconds(directory: Path, repeat: int) -> tuple[float, float]:
    """Median (wall-clock, CPU) seconds of ``buildbot checkconfig DIRECTORY``."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = subprocess.run([str(BUILDBOT), "checkconfig", str(directory)],
                             capture_output=True, text=True, cwd=directory, timeout=600)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if run.returncode != 0:
            output = (run.stdout + run.stderr)[-3000:]
            raise SystemExit(f"checkconfig failed in {directory}:\n{output}")
    return statistics.median(walls), statistics.median(cpus)


def measure_checkconfig(n_workers: int, n_builds: int,
                        repeat: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        ours, reference, minimal = (Path(tmp) / name for name in ("ours", "reference", "minimal"))
        for directory in (ours, reference, minimal):
            directory.mkdir()
        write_master(ours, n_workers, n_builds)
        (reference / "reference.json").write_text(json.dumps(reference_data(ours)))
        (reference / "master.cfg").write_text(REFERENCE_CFG)
        (minimal / "master.cfg").write_text(MINIMAL_CFG)
        return {"buildbot-odoo": checkconfig_seconds(ours, repeat),
                "hand-written": checkconfig_seconds(reference, repeat),
                "one builder": checkconfig_seconds(minimal, repeat)}


def profile(n_workers: int, n_builds: int, top: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_master(directory, n_workers, n_builds)
        populate(directory)  # imports and caches warm, as on a reconfig
        profiler = cProfile.Profile()
        profiler.enable()
        populate(directory)
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--builds", type=int, default=500)
    parser.add_argument("--no-checkconfig", action="store_true")
    parser.add_argument("--profile", type=int, metavar="TOP", default=0,
                        help="print cProfile's TOP functions of one populate, nothing else")
    args = parser.parse_args()
    w, b = args.workers, args.builds
    if args.profile:
        profile(w, b, args.profile)
        return
    fleets = [measure_fleet(nw, nb, args.repeat)
              for nw, nb in ((w, b), (2 * w, b), (w, 2 * b), (2 * w, 2 * b))]
    first = fleets[0]
    for suffix, title in (("", "as a master runs it"),
                          (", gc paused", "Python's cyclic GC paused: the code's own work")):
        print(f"CPU seconds, medians of {args.repeat} runs, {title}:")
        print(f"{'workers':>7} {'builds':>6} {'builders':>8} {'factories':>9} {'steps':>6} "
              f"{'populate s':>10} {'load s':>7} {'reference s':>11} {'ratio':>6}")
        for f in fleets:
            print(f"{f['workers']:>7} {f['builds']:>6} {f['builders']:>8} {f['factories']:>9} "
                  f"{f['steps']:>6} {f['populate' + suffix]:>10.3f} {f['load' + suffix]:>7.3f} "
                  f"{f['reference' + suffix]:>11.3f} "
                  f"{f['populate' + suffix] / f['reference' + suffix]:>6.2f}")
        ratio = first["populate" + suffix] / first["reference" + suffix]
        print(f"populate / reference at {w} workers x {b} builds: {ratio:.2f} "
              f"(target <= {TARGET_RATIO:g}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})")
        for f, label in zip(fleets[1:], ("2x workers", "2x builds", "2x both"), strict=True):
            times = {k: f[k + suffix] / first[k + suffix]
                     for k in ("populate", "load", "reference")}
            print(f"{label:>10}: " + ", ".join(f"{k} x{v:.2f}" for k, v in times.items())
                  + f", builders x{f['builders'] / first['builders']:.2f}")
    if args.no_checkconfig:
        return
    seconds = measure_checkconfig(w, b, args.repeat)
    print("buildbot checkconfig (wall-clock s / CPU s): " + ", ".join(
        f"{k} {wall:.2f} / {cpu:.2f}" for k, (wall, cpu) in seconds.items()))
    wall = seconds["buildbot-odoo"][0]
    print(f"buildbot checkconfig with buildbot-odoo: {wall:.2f} s (target < "
          f"{TARGET_CHECKCONFIG:g} s: {'met' if wall < TARGET_CHECKCONFIG else 'NOT met'})")


if __name__ == "__main__":
    main()
