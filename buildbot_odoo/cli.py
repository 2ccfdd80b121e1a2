"""The ``buildbot-odoo`` command: init, check and plan a master directory (SPEC 8).

``check`` and ``plan`` load the directory through the very code path a master
uses (:meth:`BuildoutsConfigurator.load`), without starting Buildbot, so what
they accept is what the master will configure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from .errors import Problem
from .planning import Plan

DEFAULT_MANIFEST = "buildouts/MANIFEST.cfg"
DEFAULT_WORKERS = "workers.cfg"


def _load(args: argparse.Namespace) -> Plan:
    from .master.configurator import BuildoutsConfigurator

    manifests = args.manifest or [DEFAULT_MANIFEST]
    conf = BuildoutsConfigurator(args.directory, manifest_paths=manifests,
                                 workers_path=args.workers)
    return conf.load()


def _sorted_problems(problems: Sequence[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, not p.is_error))


def cmd_check(args: argparse.Namespace) -> int:
    """Print every problem as ``file:line: section: message``; exit 1 on errors."""
    plan = _load(args)
    for problem in _sorted_problems(list(plan.problems)):
        print(problem, file=sys.stderr if problem.is_error else sys.stdout)
    errors, warnings = len(plan.problems.errors), len(plan.problems.warnings)
    print(f"{len(plan.workers)} workers, {len(plan.builds)} builds, "
          f"{len(plan.dispatch.builders)} builders: {errors} errors, {warnings} warnings")
    return 1 if errors else 0


def plan_as_data(plan: Plan) -> dict:
    """The dispatch table as JSON-friendly data."""
    return {
        "builders": [
            {"name": b.name, "build": b.build.name, "workers": sorted(b.workers),
             "versions": {cap: str(v) for cap, v in b.versions.items()},
             "properties": dict(b.properties), "tags": b.tags}
            for b in plan.dispatch.builders
        ],
        "unassigned": [{"build": u.build.name, "reason": u.reason}
                       for u in plan.dispatch.unassigned],
        "problems": [str(p) for p in plan.problems],
    }


def _print_table(data: dict) -> None:
    rows = [(b["name"], ", ".join(f"{k} {v}" for k, v in b["versions"].items()) or "-",
             ", ".join(b["workers"])) for b in data["builders"]]
    headers = ("BUILDER", "VERSIONS", "WORKERS")
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers[:2])]
    for row in [headers, *rows]:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
    if data["unassigned"]:
        print("\nBuilds without any worker:")
        for item in data["unassigned"]:
            print(f"  {item['build']}: {item['reason']}")


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the dispatch table (builders, workers, versions) and the builds left out."""
    plan = _load(args)
    if plan.problems.errors:
        for problem in _sorted_problems(plan.problems.errors):
            print(problem, file=sys.stderr)
        return 1
    data = plan_as_data(plan)
    if args.format == "json":
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        print()
    else:
        _print_table(data)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Make a ready master directory; refuse to overwrite an existing configuration."""
    target = Path(args.directory)
    if (target / "master.cfg").exists() and not args.force:
        print(f"{target / 'master.cfg'} exists; use --force to overwrite", file=sys.stderr)
        return 1
    template = resources.files("buildbot_odoo") / "templates" / "master"
    with resources.as_file(template) as source:
        shutil.copytree(source, target, dirs_exist_ok=True)
    _write_worker_secret(target / "secrets", "local-worker")
    print(f"master directory ready in {target}\n"
          f"  edit {target / 'workers.cfg'} and {target / DEFAULT_MANIFEST}, then:\n"
          f"  buildbot-odoo check {target}\n"
          f"  buildbot create-master {target} && buildbot start {target}")
    return 0


def _write_worker_secret(directory: Path, name: str) -> None:
    """A random password per init, readable by the master's user only."""
    directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        os.chmod(path, 0o600)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buildbot-odoo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="create a ready master directory")
    init.add_argument("directory")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(func=cmd_init)
    for name, func, text in (("check", cmd_check, "validate workers.cfg and the manifests"),
                             ("plan", cmd_plan, "print the dispatch table")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("directory")
        sub.add_argument("--manifest", action="append",
                         help=f"manifest path relative to DIRECTORY (default {DEFAULT_MANIFEST}"
                              "; repeat for several)")
        sub.add_argument("--workers", default=DEFAULT_WORKERS,
                         help=f"workers file (default {DEFAULT_WORKERS})")
        if name == "plan":
            sub.add_argument("--format", choices=("table", "json"), default="table")
        sub.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
