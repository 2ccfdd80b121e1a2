"""Benchmark: the Fleet page's render time on the master, with 1,000 workers and 500 builds.

What the master does for each request of the page once the data API has
answered: build the page model (matrix rows and columns, the reason of every
cell without builder, workers' rows) from the configurator's plan and the
live state, then the HTML.  The live state is **faked** here (plain data of
the shape ``read_live_state`` returns: 80 % of the workers connected, a last
build for 90 % of the builders with mixed results); the data API reads
themselves are not measured.  The plan is loaded once, as the configurator
holds it.

Baselines, in the same run and on the same plan: ``plan --format json``'s own
rendering of that plan (``plan_as_data`` + ``json.dumps``), and the whole
``buildbot-odoo plan --format json`` command (which loads the files too).
Target: the page under 1 s.  Run: ``.venv/bin/python benchmarks/fleet_page.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch import write_fleet  # the sibling benchmark's fleet generator

from buildbot_odoo.cli import Loaded, main, plan_as_data
from buildbot_odoo.fleetpage.model import LastBuild, LiveState, WorkerState, build_page
from buildbot_odoo.fleetpage.render import render_page
from buildbot_odoo.master.configurator import BuildoutsConfigurator

TARGET_SECONDS = 1.0


def add_matrix_builds(directory: Path, every: int = 5) -> None:
    """Every ``every``-th build split by PostgreSQL and Python, one combination excluded."""
    path = directory / "buildouts" / "MANIFEST.cfg"
    sections = path.read_text().split("\n[")
    for i in range(1, len(sections), every):
        if "build-for" not in sections[i]:
            sections[i] += ("build-for = postgresql >= 12\n    python\n"
                            "build-exclude = postgresql == 12 AND python >= 3.12\n")
    path.write_text("\n[".join(sections))


def fake_live_state(plan, seed: int = 7) -> LiveState:
    rng = random.Random(seed)
    live = LiveState()
    for worker in plan.workers:
        live.workers[worker.name] = WorkerState(rng.random() < 0.8, rng.random() < 0.05)
    for n, builder in enumerate(plan.dispatch.builders, start=1):
        live.builder_ids[builder.name] = n
        if rng.random() < 0.9:
            complete = rng.random() < 0.95
            live.last_builds[builder.name] = LastBuild(
                rng.randint(1, 500), rng.choice([0, 0, 0, 1, 2, 4]) if complete else None,
                complete, "build successful" if complete else "building")
    return live


def median_time(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cli_plan_json(directory: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["plan", str(directory), "--no-master-cfg", "--format", "json"])
    return out.getvalue()


def measure(n_workers: int, n_builds: int, repeat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_fleet(directory, n_workers, n_builds)
        add_matrix_builds(directory)
        conf = BuildoutsConfigurator(directory)
        plan = conf.load()
        live = fake_live_state(plan)
        model_s, page = median_time(lambda: build_page(plan, live), repeat)
        html_s, html = median_time(lambda: render_page(page), repeat)
        both_s, _ = median_time(lambda: render_page(build_page(plan, live)), repeat)
        loaded = Loaded(directory, [plan])
        json_s, text = median_time(
            lambda: json.dumps(plan_as_data(loaded), indent=2, sort_keys=True), repeat)
        cli_s, _ = median_time(lambda: cli_plan_json(directory), repeat)
    cells = sum(len(r.cells) for g in page.groups for r in g.rows)
    kinds = {kind: len(re.findall(f'data-kind="{kind}"', html))
             for kind in ("builder", "excluded", "no-worker", "not-targeted")}
    print(f"{n_workers:>5} workers {n_builds:>4} builds -> {len(plan.dispatch.builders):>5} "
          f"builders, {len(page.groups)} matrix groups, {cells} cells {kinds}, "
          f"HTML {len(html) / 1024:.0f} KiB")
    print(f"      page: model {model_s * 1000:7.1f} ms + HTML {html_s * 1000:6.1f} ms "
          f"= {both_s * 1000:7.1f} ms (median of {repeat})")
    print(f"      baseline plan --format json: render {json_s * 1000:7.1f} ms "
          f"({len(text) / 1024:.0f} KiB), ratio page/render {both_s / json_s:5.2f}; "
          f"whole command {cli_s * 1000:7.1f} ms, ratio page/command {both_s / cli_s:5.2f}")
    return both_s


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for n_workers, n_builds in ((250, 125), (500, 250)):
        measure(n_workers, n_builds, args.repeat)
    page_s = measure(1000, 500, args.repeat)
    verdict = "under" if page_s < TARGET_SECONDS else "OVER"
    print(f"target: 1000 workers, 500 builds under {TARGET_SECONDS:.0f} s: "
          f"{page_s * 1000:.0f} ms, {verdict} target")


if __name__ == "__main__":
    main_benchmark()
