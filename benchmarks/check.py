"""Benchmark: ``buildbot-odoo check`` and ``plan`` on synthetic master directories.

``check`` loads both files, dispatches, and makes every builder's Buildbot
factory (as ``populate`` would); ``plan --format json`` the same without the
factories.  Printed for several fleet sizes, on a valid directory and on one
where every tenth build and worker is broken (the problems are all collected).
Run: ``.venv/bin/python benchmarks/check.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch import write_fleet  # the sibling benchmark's fleet generator

from buildbot_odoo.cli import main


def break_every_tenth(directory: Path) -> None:
    for name in ("workers.cfg", "buildouts/MANIFEST.cfg"):
        path = directory / name
        sections = path.read_text().split("\n[")
        for i in range(1, len(sections), 10):
            sections[i] += "max_builds = none\nbuild-for = postgresql 12\n"
        path.write_text("\n[".join(sections))


def timed(argv: list[str], repeat: int) -> tuple[float, int, int]:
    times, code, lines = [], 0, 0
    for _ in range(repeat):
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(argv)
        times.append(time.perf_counter() - start)
        lines = len(out.getvalue().splitlines())
    return statistics.median(times), code, lines


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'workers':>7} {'builds':>6} {'variant':>7} {'command':>12} {'median s':>9} "
          f"{'exit':>4} {'lines':>6}")
    for n_workers, n_builds in ((10, 50), (50, 300), (200, 1000)):
        for variant in ("valid", "broken"):
            with tempfile.TemporaryDirectory() as tmp:
                directory = Path(tmp)
                write_fleet(directory, n_workers, n_builds)
                if variant == "broken":
                    break_every_tenth(directory)
                for label, argv in (("check", ["check", tmp, "--no-master-cfg"]),
                                    ("plan --json", ["plan", tmp, "--no-master-cfg",
                                                     "--format", "json"])):
                    seconds, code, lines = timed(argv, args.repeat)
                    print(f"{n_workers:>7} {n_builds:>6} {variant:>7} {label:>12} "
                          f"{seconds:>9.3f} {code:>4} {lines:>6}")


if __name__ == "__main__":
    main_benchmark()
