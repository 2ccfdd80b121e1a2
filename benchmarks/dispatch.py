"""Benchmark: populate a config for a synthetic fleet vs. making BuilderConfigs by hand.

For several fleet sizes, prints the time ``BuildoutsConfigurator.populate``
takes (parsing both files, dispatch, Buildbot objects), split into *load*
(parsing, validation and dispatch: plain Python) and the rest (Buildbot
objects), next to two baselines made in the same run:

* ``1-step``: the same number of ``BuilderConfig`` objects, each with a
  one-step factory -- the cheapest builders Buildbot can have;
* ``N-step``: the same number of ``BuilderConfig`` objects sharing as many
  factories as ours (one per build), each of as many ``ShellCommand`` steps
  as ours -- what writing these builders by hand in a master.cfg would cost.

``benchmarks/config_load.py`` compares with a hand-written master.cfg in
more detail (same names, worker lists and properties), at the fleet of
issue 16, and times ``buildbot checkconfig``.

The ratio against ``N-step`` is the overhead of the package itself; the load
column shows dispatch is not quadratic in workers x builds.
Run: ``.venv/bin/python benchmarks/dispatch.py``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from buildbot.config import BuilderConfig
from buildbot.plugins import steps, util

from buildbot_odoo import BuildoutsConfigurator

PG_VERSIONS = ["12", "13", "15", "16"]
OTHER_CAPS = ["rabbitmq 3.12", "wkhtmltopdf 0.12", "selenium-server 4.1", "redis 7.2"]


def write_fleet(directory: Path, n_workers: int, n_builds: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    workers = []
    for i in range(n_workers):
        versions = rng.sample(PG_VERSIONS, rng.randint(1, len(PG_VERSIONS)))
        caps = [f"postgresql {v} port={5430 + PG_VERSIONS.index(v)}" for v in versions]
        caps += rng.sample(OTHER_CAPS, rng.randint(0, 2))
        caps.append(f"python 3.{rng.choice([10, 11, 12])}")
        body = "\n    ".join(caps)
        workers.append(f"[w{i}]\npassword = p{i}\ncapability = {body}\n"
                       f"worker_priority = {rng.randint(0, 3)}\n")
    (directory / "workers.cfg").write_text("\n".join(workers))
    (directory / "buildouts").mkdir()
    (directory / "buildouts" / "b.cfg").write_text("[buildout]\nparts =\n")
    builds = ["[base]\nbuildout = standalone b.cfg\nbuild-for = postgresql >= 12\n"]
    for i in range(n_builds - 1):
        extra = rng.choice(["", "build-requires = rabbitmq\n", "build-requires = redis >= 7\n",
                            "build-for = postgresql >= 15\n"])
        builds.append(f"[b{i}]\ninherit = base\n{extra}")
    (directory / "buildouts" / "MANIFEST.cfg").write_text("\n".join(builds))


def time_populate(directory: Path) -> tuple[float, float, int, int, int]:
    """(populate seconds, load seconds, builders made, steps per builder, factories)."""
    start = time.perf_counter()
    BuildoutsConfigurator(directory).load()
    load = time.perf_counter() - start
    config: dict = {}
    start = time.perf_counter()
    BuildoutsConfigurator(directory).populate(config)
    populate = time.perf_counter() - start
    builders = config["builders"]
    factories = len({id(b.factory) for b in builders})
    return populate, load, len(builders), len(builders[0].factory.steps), factories


def time_baseline(n_builders: int, n_steps: int, workernames: list[str],
                  n_factories: int) -> float:
    """``n_builders`` builders sharing ``n_factories`` factories of ``n_steps`` steps."""
    start = time.perf_counter()
    factories = [util.BuildFactory([steps.ShellCommand(command=["true", str(n)])
                                    for n in range(n_steps)]) for _ in range(n_factories)]
    for i in range(n_builders):
        BuilderConfig(name=f"b{i}", workernames=workernames,
                      factory=factories[i % n_factories])
    return time.perf_counter() - start


def measure(n_workers: int, n_builds: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_fleet(directory, n_workers, n_builds)
        runs = [time_populate(directory) for _ in range(repeat)]
    populate = statistics.median(r[0] for r in runs)
    load = statistics.median(r[1] for r in runs)
    n_builders, n_steps, n_factories = runs[0][2], runs[0][3], runs[0][4]
    names = [f"w{i}" for i in range(min(n_workers, 50))]
    one = statistics.median(time_baseline(n_builders, 1, names, n_builders)
                            for _ in range(repeat))
    same = statistics.median(time_baseline(n_builders, n_steps, names, n_factories)
                             for _ in range(repeat))
    print(f"{n_workers:>5} workers {n_builds:>4} builds -> {n_builders:>5} builders "
          f"({n_steps} steps): populate {populate * 1000:7.1f} ms (load {load * 1000:6.1f} ms) | "
          f"1-step {one * 1000:6.1f} ms, ratio {populate / one:5.1f} | "
          f"{n_steps}-step {same * 1000:7.1f} ms, ratio {populate / same:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n_workers, n_builds in ((125, 75), (250, 150), (500, 300), (1000, 600)):
        measure(n_workers, n_builds, args.repeat)


if __name__ == "__main__":
    main()
