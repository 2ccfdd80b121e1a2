"""Benchmark: populate a config for a synthetic fleet vs. making BuilderConfigs by hand.

Prints, for several fleet sizes, the time ``BuildoutsConfigurator.populate``
takes (parsing both files, dispatch, Buildbot objects) next to the time to
construct the same number of ``BuilderConfig`` objects directly (each with a
one-step factory), and their ratio.  Run: ``.venv/bin/python benchmarks/dispatch.py``.
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


def time_populate(directory: Path) -> tuple[float, int]:
    start = time.perf_counter()
    config: dict = {}
    BuildoutsConfigurator(directory).populate(config)
    return time.perf_counter() - start, len(config["builders"])


def time_baseline(n_builders: int, workernames: list[str]) -> float:
    start = time.perf_counter()
    for i in range(n_builders):
        factory = util.BuildFactory([steps.ShellCommand(command=["true"])])
        BuilderConfig(name=f"b{i}", workernames=workernames, factory=factory)
    return time.perf_counter() - start


def measure(n_workers: int, n_builds: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_fleet(directory, n_workers, n_builds)
        runs = [time_populate(directory) for _ in range(repeat)]
        populate = statistics.median(r[0] for r in runs)
        n_builders = runs[0][1]
        names = [f"w{i}" for i in range(min(n_workers, 50))]
        baseline = statistics.median(time_baseline(n_builders, names) for _ in range(repeat))
    print(f"{n_workers:>5} workers {n_builds:>4} builds -> {n_builders:>5} builders: "
          f"populate {populate * 1000:8.1f} ms, BuilderConfig x{n_builders} "
          f"{baseline * 1000:8.1f} ms, ratio {populate / baseline:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n_workers, n_builds in ((125, 75), (250, 150), (500, 300), (1000, 600)):
        measure(n_workers, n_builds, args.repeat)


if __name__ == "__main__":
    main()
