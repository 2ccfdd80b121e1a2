"""``python -m demo`` (what ``./scripts/demo.sh`` runs): a real fleet, its builds, its web UI.

Starts two PostgreSQL servers of different major versions, a master made with
``buildbot-odoo init`` and three ``buildbot-worker`` processes with different
capabilities (demo/fleet.py), forces every builder through the force
scheduler, prints one line per build, then leaves the web UI up until Ctrl-C.
With ``--once`` it stops after printing and exits 1 if any build failed.
With ``--masters 2`` the master is a cluster of two (docs/scale-out.md): a
crossbar router, one database for both, HAProxy in front of them, the workers
split between them; the same builds.
Everything lives in ``.demo/`` (or ``--dir``), removed when the demo stops.
See docs/demo.md.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tests.support.buildbot_processes import ProcessError

from .fleet import MASTER_NAMES, REPO, Fleet, clear_leftovers, format_reports, say


class Stop(Exception):
    """SIGTERM or SIGINT: leave the waiting loop, then stop everything."""


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.sh", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true",
                        help="run the builds once, print the results, stop everything; "
                             "exit 1 if a build failed")
    parser.add_argument("--dir", type=Path, default=REPO / ".demo",
                        help="where everything goes (default: .demo in the repository); "
                             "removed when the demo stops")
    parser.add_argument("--with-failure", action="store_true",
                        help="add a build whose tests fail on purpose (the stand-in's "
                             "standin_failing addon)")
    parser.add_argument("--push", action="store_true",
                        help="after the forced builds, run the printed curl line (a push as "
                             "GitHub sends it) and report the builds it triggers")
    parser.add_argument("--masters", type=int, default=1, metavar="N",
                        help="run N masters of one Buildbot cluster (one database, a crossbar "
                             "router, HAProxy in front; the workers split between them) "
                             "instead of one master (docs/scale-out.md)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the directory (logs, master, workers) after stopping")
    args = parser.parse_args(argv)
    if not 1 <= args.masters <= len(MASTER_NAMES):
        parser.error(f"--masters: from 1 to {len(MASTER_NAMES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    fleet = Fleet(args.dir, with_failure=args.with_failure, masters=args.masters)
    failed: list[str] | None = None  # set once the builds are done
    try:
        fleet.start()
        reports = fleet.run_all()
        print("\n" + format_reports(reports) + "\n", flush=True)
        for report in reports:
            if report.env_shown is not None:
                say(f"{report.builder} on {report.worker}: show-env printed "
                    f"{', '.join(report.env_shown)}")
        failed = [r.builder for r in reports if not r.ok]
        if failed:
            say(f"failed: {', '.join(failed)} (their logs: {fleet.url}#/builders)")
        if fleet.masters:
            for name, master in fleet.masters.items():
                say(f"Fleet page of {name} (the whole fleet, as every master sees it): "
                    f"{master.url}#/fleet")
        else:
            say(f"Fleet page (workers, capabilities, the build matrix): {fleet.url}#/fleet")
        hook = fleet.push_hook()
        say(f"push hook (GitHub's dialect): {hook.url} (its secret: {hook.secret_file})")
        say("a push to the demo's addons repository, as GitHub sends it, builds standin "
            f"at once:\n  {hook.curl}")
        if args.push:
            pushed = fleet.run_push(hook)
            print("\n" + format_reports(pushed) + "\n", flush=True)
            failed += [r.builder for r in pushed if not r.ok]
        if args.once:
            return 1 if failed else 0
        if fleet.masters:
            say("web UI: " + ", ".join(f"{m.url} ({n})" for n, m in fleet.masters.items())
                + "  (Ctrl-C stops the workers, the masters, the router, HAProxy and "
                "PostgreSQL)")
        else:
            say(f"web UI: {fleet.url}  (Ctrl-C stops the workers, the master and PostgreSQL)")
        threading.Event().wait()
    except Stop as stop:
        say(f"{stop}: stopping")
        if failed is not None:  # the normal end of the interactive demo
            return 1 if failed else 0
        return 130
    except ProcessError as exc:  # a FleetError too: something missing, or a step that failed
        print(f"demo: error: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        fleet.stop()
        if args.keep:
            say(f"kept {args.dir}")
        else:
            clear_leftovers(args.dir)
        say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
