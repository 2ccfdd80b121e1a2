"""Benchmark: from a forge's push hook to the build, against forcing it; and why no polling.

1. **Push to build.** A real master, worker and PostgreSQL server build the
   demo's build (the Odoo stand-in, ``tests/support``): builder ``standin``
   watches ``https://github.com/bench/addons.git``, which comes by GitHub's
   push hook (``conf.change_hooks``), ``tree-stable-timer = 0``.  After a
   cold build (the worker is warm from then on), rounds alternate:

   * *hook*: a commit in a local repository, its push delivered as GitHub
     sends it (signed, ``tests/support/forges.py``) to ``/change_hook/github``;
   * *force* (the baseline, same run): the force scheduler's REST call.

   For each, the time from just before the HTTP request to the build's first
   step (``started`` on the master's message queue, timestamped with the same
   system-wide monotonic clock, as in build_steps.py) and to its end.
   Target: first step within 2 s of the push.

2. **One build per commit.** Two masters without workers, each with a build
   (``tree-stable-timer = 0``) watching one local repository, polled every
   ``--poll`` seconds unless hooked.  The same commit is pushed to both:
   *hooked* lists the repository in ``change_hooks`` (not polled), *polled
   too* does not (the hook still accepted).  Printed: the changes and build
   requests the commit made, and how long after the hook's change the
   poller's came.

Run: ``.venv/bin/python benchmarks/webhooks.py [--rounds 5] [--poll 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_steps import CLOCK_FILE, bench_root
from build_steps import MASTER_CFG as CLOCKED_MASTER_CFG

from tests.support.buildbot_processes import (
    MasterProcess,
    Site,
    standin_site,
    wait_for,
)
from tests.support.forges import GITHUB, Forge, deliver
from tests.support.postgres import (
    PgServer,
)
from tests.support.repos import GitRepo

SECRET = "github-webhook"
HOOKS = '''
import os
from buildbot.plugins import secrets as _secrets
from buildbot_odoo import BuildoutsConfigurator
c["secretsProviders"] = [_secrets.SecretInAFile(dirname=os.path.join(basedir, "secrets"))]
conf = BuildoutsConfigurator(basedir)
conf.poll_interval = {poll}
conf.change_hooks = {{"github": {{"secret": "{secret}", "repositories": {repositories!r}}}}}
conf.populate(c)
'''
MASTER_CFG = CLOCKED_MASTER_CFG.replace(
    "configure_from_buildouts(basedir, c)\n",
    HOOKS.format(poll=300, secret=SECRET, repositories=["https://github.com/bench/"]))
MANIFEST = """\
[standin]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok
watch = git https://github.com/bench/addons.git main
tree-stable-timer = 0
"""


def write_secret(master: MasterProcess, value: str) -> None:
    path = master.write(f"secrets/{SECRET}", value)
    path.chmod(0o600)
    (master.directory / "secrets").chmod(0o700)


def clock_rows(master: MasterProcess) -> list[dict]:
    path = master.directory / CLOCK_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def first_step_and_end(master: MasterProcess, buildid: int) -> tuple[float, float]:
    """Monotonic times of the build's first step start and of its end (the clock file)."""
    def found():
        rows = clock_rows(master)
        starts = [r["t"] for r in rows if r["kind"] == "steps" and r["build"] == buildid
                  and r["event"] == "started"]
        ends = [r["t"] for r in rows if r["kind"] == "builds" and r["id"] == buildid
                and r["event"] == "finished"]
        return (min(starts), ends[0]) if starts and ends else None
    return wait_for(found, f"the clock of build {buildid}", 60)


def newest_request(site: Site) -> int:
    found = site.api.get("/buildrequests?order=-buildrequestid&limit=1")["buildrequests"]
    return found[0]["buildrequestid"] if found else 0


def hook_round(site: Site, repo: GitRepo, secret: str, index: int) -> tuple[float, float]:
    before = repo.head()
    after = repo.commit(f"round{index}.txt", f"{index}\n")
    delivery = GITHUB.push(repo.path, "bench/addons", "main", before, after, secret)
    last = newest_request(site)
    started = time.monotonic()
    status, body = deliver(site.master.url, delivery)
    if status != 200:
        raise SystemExit(f"the hook answered {status}: {body}")
    brid = wait_for(lambda: newest_request(site) if newest_request(site) > last else None,
                    "the push's build request", 60)
    return timed(site, brid, started)


def force_round(site: Site, builder: str) -> tuple[float, float]:
    started = time.monotonic()
    return timed(site, site.api.force(builder, "benchmark"), started)


def timed(site: Site, brid: int, started: float) -> tuple[float, float]:
    site.api.wait_complete(brid, f"build request {brid}", 600)
    build = site.api.build_of_request(brid)
    if build["results"] != 0:
        raise SystemExit(f"build {build['buildid']} failed")
    first, end = first_step_and_end(site.master, build["buildid"])
    return first - started, end - started


def push_to_build(root: Path, pg: PgServer, rounds: int) -> dict[str, list[tuple]]:
    secret = secrets.token_hex(16)
    site = standin_site(root, pg, MASTER_CFG, MANIFEST)
    write_secret(site.master, secret)
    repo = GitRepo(root / "bench-addons")
    results: dict[str, list[tuple]] = {"hook": [], "force": []}
    with site:
        (builder,) = [b["name"] for b in site.api.builders()]
        cold = force_round(site, builder)
        print(f"  cold build: first step {cold[0]:.2f} s, end {cold[1]:.1f} s", file=sys.stderr)
        for index in range(rounds):
            results["hook"].append(hook_round(site, repo, secret, index))
            results["force"].append(force_round(site, builder))
            print(f"  round {index + 1}: hook {results['hook'][-1][0]:.2f} s, force "
                  f"{results['force'][-1][0]:.2f} s to the first step", file=sys.stderr)
    return results


DUP_MANIFEST = """\
[watcher]
buildout = standalone b.cfg
watch = git {url} main
tree-stable-timer = 0
"""


def one_commit_two_masters(root: Path, poll: int) -> dict[str, dict]:
    """The same commit pushed to a master where its repository is hooked, and to one
    where it is polled too."""
    repo = GitRepo(root / "repos" / "bench" / "addons")
    forge = Forge("github", "github.com", web_base=(root / "repos").as_uri())
    secret = secrets.token_hex(16)
    masters = {}
    for name, listed in (("hooked", repo.url), ("polled too", "https://example.invalid/")):
        master = MasterProcess(root / name.replace(" ", "-"))
        master.create(HOOKS.format(poll=poll, secret=SECRET, repositories=[listed]), {
            "workers.cfg": "[w1]\npassword = never-connects\n",
            "buildouts/b.cfg": "[buildout]\n",
            "buildouts/MANIFEST.cfg": DUP_MANIFEST.format(url=repo.url)})
        write_secret(master, secret)
        masters[name] = master
    sites = [Site(m.directory.parent / (m.directory.name + "-site"), m) for m in masters.values()]
    for site in sites:
        site.start()
    try:
        polled = masters["polled too"]
        # its poller's first poll records where main stands: later commits are changes
        wait_for(lambda: (polled.directory / "pollers").exists() and any(
            (polled.directory / "pollers").iterdir()), "the first poll", 60)
        time.sleep(poll + 1)  # a benchmark may wait: the first poll is done by then
        before = repo.head()
        after = repo.commit("pushed.txt", "1\n")
        delivery = forge.push(repo.path, "bench/addons", "main", before, after, secret)
        out = {}
        for name, master in masters.items():
            status, _ = deliver(master.url, delivery)
            out[name] = {"status": status, "pollers": len(master.api.names("changesources"))}
        t_hook = time.monotonic()
        wait_for(lambda: len(polled.api.get("/changes")["changes"]) >= 2,
                 "the poller's change", poll * 3 + 30)
        out["polled too"]["poller_after"] = time.monotonic() - t_hook
        time.sleep(poll * 2)  # time for the hooked master to show anything more (it cannot)
        for name, master in masters.items():
            out[name]["changes"] = len(master.api.get("/changes")["changes"])
            out[name]["requests"] = sum(master.api.build_request_counts().values())
        return out
    finally:
        for site in sites:
            site.stop()


def report(results: dict[str, list[tuple]], dup: dict[str, dict], poll: int) -> None:
    def med(kind: str, which: int) -> float:
        return statistics.median(r[which] for r in results[kind])

    n = len(results["hook"])
    print(f"\nfrom the HTTP request to the build (medians of {n} warm builds, seconds)")
    print(f"{'':28}{'first step':>12}{'result':>10}")
    for kind, label in (("hook", "push hook (GitHub)"), ("force", "force scheduler (baseline)")):
        print(f"{label:28}{med(kind, 0):12.2f}{med(kind, 1):10.1f}")
    print(f"{'ratio hook / force':28}{med('hook', 0) / med('force', 0):12.2f}"
          f"{med('hook', 1) / med('force', 1):10.2f}")
    worst = max(r[0] for r in results["hook"])
    print(f"target: first step within 2 s of the push: "
          f"{'met' if med('hook', 0) < 2 else 'MISSED'} (worst of {n}: {worst:.2f} s)")
    print(f"\none commit, pushed by the hook (poll interval {poll} s)")
    print(f"{'':14}{'pollers':>8}{'changes':>9}{'builds':>8}")
    for name, row in dup.items():
        print(f"{name:14}{row['pollers']:8}{row['changes']:9}{row['requests']:8}")
    print(f"the poller's change came {dup['polled too']['poller_after']:.1f} s after the "
          "hook's: with the default interval (300 s), a second build minutes later")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="hook and force builds each")
    parser.add_argument("--poll", type=int, default=5, help="poll interval of part 2")
    parser.add_argument("--keep", action="store_true", help="keep the directory, print it")
    args = parser.parse_args()
    with bench_root("bench-webhooks-", args.keep) as (root, pg):
        load = os.getloadavg()[0]
        (root / "site").mkdir()
        results = push_to_build(root / "site", pg, args.rounds)
        dup = one_commit_two_masters(root / "dup", args.poll)
        report(results, dup, args.poll)
        print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after (1 min)")


if __name__ == "__main__":
    main()
