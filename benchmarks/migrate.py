"""Benchmark: ``buildbot-odoo migrate``, and reading old spellings, on synthetic manifests.

For manifests of 100 to 1000 builds written with anybox.buildbot.odoo's
spellings (old options in ``[DEFAULT]``, in parents and in every build, step
names, ``doc.upload-root`` joined per build, ``[DEFAULT]`` winning over a
parent's value), prints

* the time ``migrate`` takes to compute the rewrite (nothing written);
* the time the manifest loader takes on the old file, and, as the baseline
  made in the same run, on the migrated file (today's spellings): the cost
  of reading through the table of old spellings.

Run: ``.venv/bin/python benchmarks/migrate.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from buildbot_odoo.config.manifest import load_manifests
from buildbot_odoo.errors import Problems
from buildbot_odoo.migration import migrate_directory


def write_master(directory: Path, builds: int) -> None:
    (directory / "buildouts").mkdir(parents=True)
    (directory / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (directory / "workers.cfg").write_text("[w]\npasswd = x\nslave_priority = 2\n"
                                           "capability = postgresql 15\n")
    lines = ["[DEFAULT]", "bootstrap-virtualenv = true", "bootstrap-type = v2",
             "bootstrap-version = 2.13.3", "doc.upload-root = /srv/docs", ""]
    for i in range(0, builds, 10):  # one parent per ten builds
        lines += [f"[base{i}]", "bootstrap-version = 2.9.5", "build-for = postgresql >= 12",
                  "post-buildout-steps = test-odoo", ""]
    for i in range(builds):
        lines += [f"[b{i}]", f"inherit = base{i - i % 10}", "buildout = standalone b.cfg",
                  "functional.port-min = 9000", "static-analysis.flake-directories = src",
                  "doc.sphinx-mode = full ; as before", f"doc.upload-dir = b{i}"]
        if i % 3 == 0:
            lines.append("post-buildout-steps = static-analysis doc test-odoo")
        lines.append("")
    (directory / "buildouts" / "MANIFEST.cfg").write_text("\n".join(lines))


def timed(function, argument: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load(path: Path) -> None:
    load_manifests([(path, "MANIFEST.cfg")], Problems())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'builds':>6} {'lines':>6} {'migrate s':>10} {'load old s':>11} "
          f"{'load new s':>11} {'ratio':>6}")
    for builds in (100, 300, 1000):
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_master(directory, builds)
            manifest = directory / "buildouts" / "MANIFEST.cfg"
            lines = len(manifest.read_text().splitlines())
            migrate_seconds = timed(migrate_directory, directory, args.repeat)
            old_seconds = timed(load, manifest, args.repeat)
            migration = migrate_directory(directory)
            assert not migration.problems.errors, [str(p) for p in migration.problems]
            migration.write()
            new_seconds = timed(load, manifest, args.repeat)
            print(f"{builds:>6} {lines:>6} {migrate_seconds:>10.3f} {old_seconds:>11.3f} "
                  f"{new_seconds:>11.3f} {old_seconds / new_seconds:>6.2f}")


if __name__ == "__main__":
    main()
