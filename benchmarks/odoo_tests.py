"""Benchmark: testing a two-test addon, first and later builds of one builder.

A real master and worker, a real PostgreSQL server and real zc.buildout
(``tests/support``) build the stand-in Odoo buildout, or, with ``--odoo-src
DIR``, the same buildout on a real Odoo tree (``version = local`` a copy of
DIR, ``apply-requirements-file = true``: the first build installs Odoo's
requirements from the package index into the worker's egg cache, which takes
minutes and needs the -dev packages docs/worker-setup.md lists).  The addon
under test, ``bench_two_tests``, depends on ``bench_dependency`` (a module of
its own, whose one test fails, as Odoo's own base tests fail on a host
without wkhtmltopdf) and on ``web`` (real Odoo) or ``base`` (the stand-in).

Two builders of the same buildout:

* ``addons``: the default: dependencies installed once into the builder's
  template database, copied for each build, the addon's tests only;
* ``whole``: ``install-modules-test.scope = all``, the behaviour before: the
  addon installed with its dependencies into a new database, every module's
  tests run (the baseline, red when a dependency's test fails).

Each is built once *cold* (its first build: the template is made) and
``--warm`` times.  Step times come from the master's message queue
(``benchmarks/build_steps.py``'s clock).  *outside* is the build's duration
minus the buildout step, the Odoo test step and the dependencies step when
it installed something: what the product itself costs per build.

Run: ``.venv/bin/python benchmarks/odoo_tests.py [--warm 3] [--odoo-src DIR]
[--max-load 1.5]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from build_steps import CLOCK_FILE, MASTER_CFG, bench_root, wait_clock, wait_for_load  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402

from tests.support.buildbot_processes import (  # noqa: E402
    STANDIN_SOURCES_DIR,
    Site,
    standin_site,
)
from tests.support.postgres import (  # noqa: E402
    PgServer,
)
from tests.support.standin import ODOO_DIR_NAME, build_buildout  # noqa: E402

MANIFEST = """\
[DEFAULT]
buildout = standalone bench.cfg
build-for = postgresql >= 12
odoo-addons = bench_two_tests

[addons]

[whole]
install-modules-test.scope = all
"""

ADDON_TESTS = '''\
from odoo.tests.common import TransactionCase, tagged


class TestTwo(TransactionCase):
    def test_one(self):
        self.assertEqual(1 + 1, 2)


@tagged("-at_install", "post_install")
class TestAfterInstall(TransactionCase):
    def test_two(self):
        self.assertTrue(self.env["ir.module.module"].search([("name", "=", "bench_two_tests")]))
'''
STANDIN_ADDON_TESTS = '''\
import unittest


class TestTwo(unittest.TestCase):
    def test_one(self):
        self.assertEqual(1 + 1, 2)

    def test_two(self):
        self.assertTrue(True)
'''
DEPENDENCY_TESTS = '''\
import unittest


class TestDependency(unittest.TestCase):
    def test_fails_like_odoos_own_tests_can(self):
        self.assertEqual(1, 2, "a dependency's own test failing")
'''


def write_addons(root: Path, real: bool) -> Path:
    """``bench_dependency`` (one failing test) and ``bench_two_tests`` (two passing)."""
    addons = root / "bench-addons"
    base = "web" if real else "base"
    for name, depends, tests in (
            ("bench_dependency", ["base"], DEPENDENCY_TESTS),
            ("bench_two_tests", ["bench_dependency", base],
             ADDON_TESTS if real else STANDIN_ADDON_TESTS)):
        directory = addons / name / "tests"
        directory.mkdir(parents=True)
        (addons / name / "__manifest__.py").write_text(repr(
            {"name": name, "version": "17.0.1.0.0", "depends": depends, "license": "LGPL-3"}))
        (addons / name / "__init__.py").write_text("")
        (directory / "__init__.py").write_text("from . import test_bench\n")
        (directory / "test_bench.py").write_text(tests)
    return addons


def pins(odoo_src: Path) -> list[tuple[str, str]]:
    """Odoo's requirements.txt as ``[versions]`` pins (markers evaluated here), as a
    buildout of a real project pins them: without, zc.buildout may pick another version
    of a distribution first (from its egg cache) and stop at the pin with a conflict."""
    found = []
    for line in (odoo_src / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        if (requirement.marker is None or requirement.marker.evaluate()) and len(specs) == 1 \
                and specs[0].operator == "==":
            found.append((requirement.name, specs[0].version))
    return found


def make_site(root: Path, pg: PgServer, odoo_src: Path | None,
              caches: Path | None = None) -> Site:
    """The stand-in site, its buildout pointed at the benchmark's addons (and Odoo);
    the worker's buildout caches in ``caches`` when given (kept from run to run)."""
    site = standin_site(root / "site", pg, MASTER_CFG, MANIFEST)
    if caches is not None:
        caches.mkdir(parents=True, exist_ok=True)
        site.workers[0].directory.mkdir(parents=True, exist_ok=True)
        (site.workers[0].directory / "buildout-caches").symlink_to(caches.resolve())
    sources = root / "site" / STANDIN_SOURCES_DIR
    more = ""
    if odoo_src is not None:
        target = sources / ODOO_DIR_NAME
        shutil.rmtree(target)
        shutil.copytree(odoo_src, target, symlinks=True,
                        ignore=shutil.ignore_patterns("*.pyc", "__pycache__", ".git"))
        pinned = pins(odoo_src)
        # oca.recipe.odoo's apply_odoo_requirements_file skips a requirement that
        # [versions] pins: the part names those eggs itself
        more = ("\n[odoo]\napply-requirements-file = true\neggs =\n"
                + "".join(f"    {name}\n" for name, _ in pinned) + "\n[versions]\n"
                + "".join(f"{name} = {version}\n" for name, version in pinned))
    addons = write_addons(root, real=odoo_src is not None)
    buildouts = site.master.directory / "buildouts"
    (buildouts / "bench.cfg").write_text(build_buildout(sources, more=more, addons_dir=addons))
    return site


def run(site: Site, warm: int, timeout: float) -> dict[str, list[dict]]:
    names = {b["name"].split("-pg")[0]: b["name"] for b in site.api.builders()}
    made: dict[str, list[int]] = {"addons": [], "whole": []}
    for round_ in range(warm + 1):
        for key in made:
            build = site.api.build(names[key], timeout=timeout)
            made[key].append(build.data["buildid"])
            verdict = {0: "success", 1: "warnings", 2: "failure"}.get(build.result,
                                                                      build.result)
            tests = next((s.get("state_string") for s in build.steps
                          if s["name"] == "odoo-tests"), "")
            print(f"  {key:6} {'cold' if round_ == 0 else 'warm'} {build.wall:6.1f} s "
                  f"{verdict}: {tests}", file=sys.stderr, flush=True)
            if "odoo-tests" not in [s["name"] for s in build.steps]:
                raise SystemExit(f"{key} did not reach its tests:\n{build.explain()}")
    clock = wait_clock(site.master.directory / CLOCK_FILE,
                       [b for ids in made.values() for b in ids])
    return {key: [clock[i] for i in ids] for key, ids in made.items()}


def inside(build: dict, name: str) -> bool:
    """Steps of buildout and Odoo, not of the product: a dependencies step counts only
    when it had Odoo install the dependencies (longer than a plan and a copy)."""
    if name == "odoo-dependencies":
        return build["made_template"]
    return name == "buildout" or name in ("odoo-tests", "install-dependencies")


def outside(build: dict) -> float:
    return build["duration"] - sum(s or 0.0 for n, s in build["steps"].items()
                                   if inside(build, n))


def median(values) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def report(results: dict[str, list[dict]], warm: int) -> None:
    for builds in results.values():
        for index, build in enumerate(builds):
            build["made_template"] = index == 0
    columns = [(key, when) for key in ("whole", "addons") for when in ("cold", "warm")]

    def pick(key: str, when: str) -> list[dict]:
        return results[key][:1] if when == "cold" else results[key][1:]

    rows = ["odoo-dependencies", "createdb", "odoo-tests", "buildout"]
    print(f"\nseconds (warm: median of {warm}); whole = scope all (before), "
          "addons = the default")
    print(f"{'':22}" + "".join(f"{k + ' ' + w:>16}" for k, w in columns))
    for name in rows:
        cells = [median([b["steps"].get(name) for b in pick(k, w)]) for k, w in columns]
        print(f"{name:22}" + "".join(f"{c:16.2f}" if c is not None else f"{'-':>16}"
                                     for c in cells))
    for label, measure in (("= build", lambda b: b["duration"]), ("= outside", outside)):
        print(f"{label:22}" + "".join(f"{median([measure(b) for b in pick(k, w)]):16.2f}"
                                      for k, w in columns))
    before = median([b["steps"].get("odoo-tests") for b in pick("whole", "warm")])
    after = median([b["steps"].get("odoo-tests") for b in pick("addons", "warm")])
    print(f"\nwarm odoo-tests: {after:.2f} s against {before:.2f} s before "
          f"(x{before / after:.1f}); warm build outside buildout/Odoo: "
          f"{median([outside(b) for b in pick('addons', 'warm')]):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=3, help="warm builds per builder")
    parser.add_argument("--odoo-src", type=Path, help="a real Odoo source tree")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds a build may take (a real Odoo's first build compiles its "
                             "requirements)")
    parser.add_argument("--caches", type=Path,
                        help="the worker's buildout caches (eggs...), kept from run to run")
    parser.add_argument("--keep", action="store_true", help="keep the directory, print it")
    parser.add_argument("--max-load", type=float, default=None,
                        help="first wait (30 min at most) for a 1-minute load average below this")
    args = parser.parse_args()
    if args.max_load is not None:
        wait_for_load(args.max_load)
    with bench_root("bench-odoo-tests-", args.keep) as (root, pg):
        site = make_site(root, pg, args.odoo_src.resolve() if args.odoo_src else None,
                         args.caches)
        load = os.getloadavg()[0]
        with site:
            results = run(site, args.warm, args.timeout)
        report(results, args.warm)
        print(f"Odoo: {'real, ' + str(args.odoo_src) if args.odoo_src else 'the stand-in'}; "
              f"machine: {os.cpu_count()} CPUs, load average {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
