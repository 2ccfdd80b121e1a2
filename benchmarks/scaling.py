"""Benchmark: inputs whose handling used to grow quadratically, against linear baselines.

* ``inherit``: a manifest of N sections each inheriting from the previous
  one, against N sections that inherit nothing (same options, same parsing);
* ``orphans``: N indented lines that continue nothing (after a comment line),
  each reported with its explanation, against N valid ``option = value`` lines.

Each baseline is made in the same run.  Handling linear in N keeps the ratio
flat as N doubles; a quadratic one doubles it.
Run: ``.venv/bin/python benchmarks/scaling.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from buildbot_odoo.config.ini import parse_ini
from buildbot_odoo.config.manifest import load_manifests
from buildbot_odoo.errors import Problems

OPTIONS = "odoo-addons = sale, stock\nbuild-category = odoo\ntree-stable-timer = 60\n"


def manifest(directory: Path, sections: int, chained: bool) -> Path:
    (directory / "b.cfg").write_text("[buildout]\n")
    parts = [f"[s0]\nbuildout = standalone b.cfg\n{OPTIONS}"]
    for i in range(1, sections):
        own = f"inherit = s{i - 1}\n" if chained else f"buildout = standalone b.cfg\n{OPTIONS}"
        parts.append(f"[s{i}]\n{own}")
    path = directory / f"MANIFEST-{sections}-{chained}.cfg"
    path.write_text("\n".join(parts))
    return path


def timed(path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        problems = Problems()
        start = time.perf_counter()
        builds = load_manifests([(path, path.name)], problems)
        times.append(time.perf_counter() - start)
        assert not problems.errors and builds, [str(p) for p in problems]
    return statistics.median(times)


def timed_ini(text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        parse_ini(text, "bench.cfg", Problems())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'inherit':>8} {'chain s':>8} {'flat s':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (100, 200, 400, 800, 900, 1600):
            try:
                chain = timed(manifest(Path(tmp), size, True), args.repeat)
            except RecursionError:
                print(f"{size:>8} {'RecursionError':>8}")
                continue
            flat = timed(manifest(Path(tmp), size, False), args.repeat)
            print(f"{size:>8} {chain:>8.3f} {flat:>8.3f} {chain / flat:>6.2f}")
    print(f"{'orphans':>8} {'orphan s':>8} {'valid s':>8} {'ratio':>6}")
    for size in (1000, 2000, 4000, 8000):
        orphans = timed_ini("[a]\nx = 1\n# comment\n" + "  orphan\n" * size, args.repeat)
        valid = timed_ini("[a]\n" + "".join(f"x{i} = 1\n" for i in range(size)), args.repeat)
        print(f"{size:>8} {orphans:>8.3f} {valid:>8.3f} {orphans / valid:>6.2f}")


if __name__ == "__main__":
    main()
