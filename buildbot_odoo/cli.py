"""The ``buildbot-odoo`` command: init, check, plan and migrate a master directory (SPEC 8).

``check`` and ``plan`` run the directory's ``master.cfg`` the way Buildbot
does (with ``basedir`` set, from the master directory) but with the
configurators in collecting mode
(:func:`~buildbot_odoo.master.configurator.collecting_configurators`): they
learn the capabilities, subfactories and file paths that master.cfg sets up,
and every problem is collected instead of the first one stopping the run.
Nothing is started: no database, no port, no process.  Without a master.cfg
(or with ``--no-master-cfg``) the default files are checked with the built-in
capabilities and subfactories.

The JSON form of ``plan`` is a documented, stable interface (docs/cli.md):
its ``schema`` field changes when a field changes meaning or disappears.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import runpy
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import scaffold
from .capability.definitions import default_definition
from .capability.dispatch import BuilderPlan, Excluded
from .config.textfile import UnreadableFile, check_regular_file
from .config.workers import WorkerSpec
from .errors import ConfigError, Problem, Problems
from .planning import Plan
from .scaffold import SAMPLE_WORKER, write_secret  # noqa: F401 (write_secret: for demo/)

DEFAULT_MANIFEST = "buildouts/MANIFEST.cfg"
DEFAULT_WORKERS = "workers.cfg"
MASTER_CFG = "master.cfg"
#: the ``schema`` field of ``plan --format json``
PLAN_SCHEMA = "buildbot-odoo-plan/1"


@dataclass
class Loaded:
    """What ``check`` and ``plan`` found in a master directory."""

    directory: Path
    plans: list[Plan] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    used_master_cfg: bool = False

    def all_problems(self) -> list[Problem]:
        """Every problem once, ordered by file, line, then errors before warnings."""
        merged = Problems()
        merged.extend(self.problems)
        for plan in self.plans:
            merged.extend(plan.problems)
        return sorted(merged, key=lambda p: (p.file or "", p.line or 0, not p.is_error))


# --------------------------------------------------------------------------
# loading a master directory


def load_directory(directory: str | Path, manifests: Sequence[str] | None = None,
                   workers: str | None = None, use_master_cfg: bool = True) -> Loaded:
    """Check a master directory as its master would configure it, collecting all problems."""
    from .master.configurator import BuildoutsConfigurator

    loaded = Loaded(Path(directory).resolve())
    if not loaded.directory.is_dir():
        loaded.problems.error("no such directory", file=str(directory))
        return loaded
    configurators = []
    master_cfg = loaded.directory / MASTER_CFG
    if use_master_cfg and os.path.lexists(master_cfg):
        try:
            check_regular_file(master_cfg)
        except UnreadableFile as exc:
            loaded.problems.error(f"cannot read file: {exc}", file=MASTER_CFG)
        else:
            loaded.used_master_cfg = True
            configurators = _run_master_cfg(loaded.directory, loaded.problems)
    if not configurators:
        configurators = [BuildoutsConfigurator(loaded.directory)]
    for conf in configurators:
        if manifests:
            conf.manifest_paths = list(manifests)
        if workers:
            conf.workers_path = workers
        if conf.plan is None or manifests or workers:
            conf.check()
        loaded.plans.append(conf.plan)
    return loaded


def _run_master_cfg(directory: Path, problems: Problems) -> list:
    """Run master.cfg as Buildbot would, and return the configurators it populated.

    Buildbot's own loader (``buildbot.config.master.loadConfigDict``) sends
    tracebacks to the twistd log, which a command line does not have; here an
    exception is reported with the master.cfg line it came from.
    """
    from .master.cluster import cluster_problems
    from .master.configurator import collecting_configurators

    path = directory / MASTER_CFG
    old_path = sys.path[:]
    sys.path.append(str(directory))
    try:
        with collecting_configurators() as found, contextlib.chdir(directory):
            try:
                namespace = runpy.run_path(str(path), init_globals={"basedir": str(directory)})
            except ConfigError as exc:
                line = _master_cfg_line(exc, path)
                problems.extend(_located(p, line) for p in exc.problems)
            except KeyboardInterrupt:  # Ctrl-C: the user stops the command (see main)
                raise
            except BaseException as exc:  # the user's Python, sys.exit() included:
                # report it, never a traceback, never a silent exit
                problems.error(_describe_exception(exc), file=MASTER_CFG,
                               line=_master_cfg_line(exc, path))
            else:
                if "BuildmasterConfig" not in namespace:
                    problems.error("does not define BuildmasterConfig", file=MASTER_CFG)
                elif isinstance(namespace["BuildmasterConfig"], Mapping):
                    problems.extend(cluster_problems(namespace["BuildmasterConfig"], found))
    finally:
        sys.path[:] = old_path
    if not found and not problems.errors:
        problems.warning("no BuildoutsConfigurator.populate() or configure_from_buildouts() "
                         "call; the default files were checked", file=MASTER_CFG)
    return found


def _describe_exception(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return (f"master.cfg ended the program (sys.exit({exc.code!r})): the master would "
                "stop there, with no configuration")
    messages = getattr(exc, "errors", None)  # buildbot.config.errors.ConfigErrors
    if isinstance(messages, list) and messages:
        return "; ".join(str(m) for m in messages)
    return f"{type(exc).__name__}: {exc}"


def _master_cfg_line(exc: BaseException, path: Path) -> int | None:
    """The innermost line of master.cfg in the exception's traceback."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if Path(frame.filename) == path]
    return lines[-1] if lines else None


def _located(problem: Problem, line: int | None) -> Problem:
    if problem.file == MASTER_CFG and problem.line is None and line is not None:
        return Problem(problem.message, problem.file, line, problem.section, problem.option,
                       problem.severity)
    return problem


# --------------------------------------------------------------------------
# check


def cmd_check(args: argparse.Namespace) -> int:
    """Print every problem as ``file:line: section: message``; exit 1 on errors."""
    loaded = _load(args)
    problems = loaded.all_problems()
    for problem in problems:
        print(problem)
    errors = sum(p.is_error for p in problems)
    workers = sum(len(p.workers) for p in loaded.plans)
    builds = sum(len(p.builds) for p in loaded.plans)
    builders = sum(len(p.dispatch.builders) for p in loaded.plans)
    print(f"{workers} workers, {builds} builds, {builders} builders: "
          f"{errors} errors, {len(problems) - errors} warnings")
    return 1 if errors else 0


# --------------------------------------------------------------------------
# plan


def plan_as_data(loaded: Loaded) -> dict:
    """The dispatch table as JSON-friendly data (schema in docs/cli.md)."""
    builders = [_builder_data(plan, b) for plan in loaded.plans for b in plan.dispatch.builders]
    by_worker: dict[str, list[str]] = {}
    for builder in builders:
        for worker in builder["workers"]:
            by_worker.setdefault(worker, []).append(builder["name"])
    workers = {w.name: _worker_data(w, by_worker.get(w.name, []))
               for plan in loaded.plans for w in plan.workers}
    return {
        "schema": PLAN_SCHEMA,
        "directory": str(loaded.directory),
        "builders": builders,
        "unassigned": [{"build": u.build.name, "file": u.build.file, "line": u.build.line,
                        "reason": u.reason}
                       for plan in loaded.plans for u in plan.dispatch.unassigned],
        "excluded": [_excluded_data(plan, e) for plan in loaded.plans
                     for e in plan.dispatch.excluded],
        "workers": list(workers.values()),
        "watch": _watch_data(loaded.plans),
        "problems": [_problem_data(p) for p in loaded.all_problems()],
    }


def _watch_data(plans: Sequence[Plan]) -> dict:
    """What the master polls and which builds each branch schedules (docs/scheduling.md)."""
    merged: dict = {"pollers": [], "schedulers": [], "unwatched": [], "pushed": []}
    hooks: dict = {}
    for plan in plans:
        data = plan.watch.as_data()
        for key in merged:
            merged[key].extend(data[key])
        hooks.update(data["change_hooks"])
    merged["change_hooks"] = hooks
    return merged


def _builder_data(plan: Plan, builder: BuilderPlan) -> dict:
    targets = []
    for f in builder.build.build_for:
        prop = (plan.definitions.get(f.name) or default_definition(f.name)).version_prop
        targets.append({"capability": f.name, "version": builder.properties.get(prop),
                        "property": prop, "requirement": str(f)})
    return {
        "name": builder.name,
        "build": builder.build.name,
        "file": builder.build.file,
        "line": builder.build.line,
        "workers": sorted(builder.workers),
        "targets": targets,
        "requires": [str(f) for f in builder.build.build_requires],
        "properties": dict(builder.properties),
        "tags": builder.tags,
    }


def _excluded_data(plan: Plan, excluded: Excluded) -> dict:
    """A builder build-for would make and a build-exclude line leaves out (docs/cli.md)."""
    where = excluded.build.location("build-exclude")
    return {
        "builder": excluded.name,
        "build": excluded.build.name,
        "file": where["file"],
        "line": int(where["line"] or 0) + excluded.exclusion.offset,
        "targets": [{"capability": name, "version": str(version)}
                    for name, version in excluded.versions.items()],
        "exclusion": str(excluded.exclusion),
        "workers": sorted(excluded.workers),
    }


def _worker_data(worker: WorkerSpec, builders: list[str]) -> dict:
    return {
        "name": worker.name,
        "file": worker.file,
        "line": worker.line,
        "capabilities": worker.capability_property(),
        "build_only_if_requires": sorted(worker.build_only_if_requires),
        "max_builds": worker.max_builds,
        "worker_priority": worker.worker_priority,
        "builders": builders,
    }


def _problem_data(problem: Problem) -> dict:
    return {"file": problem.file, "line": problem.line, "section": problem.section,
            "option": problem.option, "severity": problem.severity,
            "message": problem.message}


def _targets_text(builder: dict) -> str:
    parts = [f"{t['capability']} {t['version']} ({t['property']}={t['version']})"
             for t in builder["targets"]]
    return ", ".join(parts) or "-"


def _print_columns(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    rows = [headers, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers) - 1)]
    for row in rows:
        cells = [f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def print_plan(data: dict) -> None:
    """The human form: one row per builder, then what got no worker or no builder."""
    _print_columns(("BUILDER", "TARGETS", "REQUIRES", "WORKERS"), [
        (b["name"], _targets_text(b), ", ".join(b["requires"]) or "-", ", ".join(b["workers"]))
        for b in data["builders"]])
    if data["unassigned"]:
        print("\nBuilds without any worker (no builder made):")
        for item in data["unassigned"]:
            print(f"  {item['file']}:{item['line']}: {item['build']}: {item['reason']}")
    if data["excluded"]:
        print("\nCombinations left out by build-exclude (no builder made):")
        for item in data["excluded"]:
            targets = ", ".join(f"{t['capability']} {t['version']}" for t in item["targets"])
            print(f"  {item['file']}:{item['line']}: {item['builder']} ({targets}): "
                  f"{item['exclusion']}")
    _print_watch(data["watch"])
    idle = [w for w in data["workers"] if not w["builders"]]
    if idle:
        print("\nWorkers without any builder:")
        for worker in idle:
            reserved = " ".join(worker["build_only_if_requires"])
            why = f" (build-only-if-requires {reserved})" if reserved else ""
            print(f"  {worker['file']}:{worker['line']}: {worker['name']}{why}")


def _print_watch(watch: dict) -> None:
    """Each polled branch with the builds it schedules, then the pushed ones, how each
    build is triggered, and the builds no commit schedules."""
    watchers: dict[tuple[str, str, str], list[str]] = {}
    for scheduler in watch["schedulers"]:
        for branch in scheduler["watch"]:
            key = (branch["vcs"], branch["url"], branch["branch"])
            watchers.setdefault(key, []).append(
                f"{scheduler['build']} ({scheduler['tree_stable_timer']}s)")
    if watch["pollers"]:
        print()
        _print_columns(("POLLED BRANCH", "SCHEDULES (tree-stable timer)"), [
            (f"{p['vcs']} {p['url']} {p['branch']}",
             ", ".join(watchers.get((p["vcs"], p["url"], p["branch"]), [])) or "-")
            for p in watch["pollers"]])
    if watch["pushed"]:
        print()
        _print_columns(("PUSHED BRANCH", "HOOK", "SCHEDULES (tree-stable timer)"), [
            (f"{p['vcs']} {p['url']} {p['branch']}", f"{p['forge']} (/change_hook/"
             f"{p['forge']})", ", ".join(watchers.get((p["vcs"], p["url"], p["branch"]), []))
             or "-") for p in watch["pushed"]])
    if watch["schedulers"]:
        print()
        _print_columns(("BUILD", "TRIGGERED BY"), [
            (s["build"], s["trigger"]) for s in watch["schedulers"]])
    if watch["unwatched"]:
        print("\nBuilds no commit schedules (force them): " + ", ".join(watch["unwatched"]))


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the dispatch table (builders, workers, versions) and the builds left out."""
    loaded = _load(args)
    problems = loaded.all_problems()
    errors = [p for p in problems if p.is_error]
    if errors:
        for problem in errors:
            print(problem, file=sys.stderr)
        print(f"{len(errors)} errors: no plan (see `buildbot-odoo check`)", file=sys.stderr)
        return 1
    data = plan_as_data(loaded)
    if args.format == "json":
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    for problem in problems:
        if not problem.message.startswith("no builder made"):  # shown in the table below
            print(problem, file=sys.stderr)
    print_plan(data)
    return 0


def _load(args: argparse.Namespace) -> Loaded:
    return load_directory(args.directory, args.manifest, args.workers,
                          use_master_cfg=not args.no_master_cfg)


# --------------------------------------------------------------------------
# init


def cmd_init(args: argparse.Namespace) -> int:
    """Make a ready master directory; refuse to overwrite any existing file of it.

    Everything is checked before anything is written (:mod:`.scaffold`).
    """
    target = Path(args.directory)
    template = resources.files("buildbot_odoo") / "templates" / "master"
    try:
        with resources.as_file(template) as source:
            secret = scaffold.make(scaffold.plan(Path(source), target, args.force))
    except scaffold.InitRefused as refused:
        for line in refused.lines:
            print(line, file=sys.stderr)
        return 1
    print(f"master directory ready in {target}\n"
          f"  1. describe your fleet in {target / DEFAULT_WORKERS} and your builds in "
          f"{target / DEFAULT_MANIFEST}\n"
          f"  2. buildbot-odoo check {target} && buildbot-odoo plan {target}\n"
          f"  3. buildbot create-master {target} && buildbot start {target}\n"
          f"  the sample worker's password is in {secret} (readable by you only):\n"
          f"     buildbot-worker create-worker WORKER_DIR localhost:9989 {SAMPLE_WORKER} "
          f"\"$(cat {secret})\"\n"
          f"  the web UI (http://localhost:8010/) is read-only until you configure "
          f"authentication in master.cfg")
    return 0


# --------------------------------------------------------------------------
# migrate


def cmd_migrate(args: argparse.Namespace) -> int:
    """Show (and with ``--write`` apply) the rewrite of anybox.buildbot.odoo's spellings.

    Exit 0 when nothing is left to do by hand, 1 when something is (refused
    options, files missing): those are listed as ``file:line: section: message``.
    """
    from .migration import migrate_directory

    migration = migrate_directory(args.directory, args.manifest, args.workers)
    diff = migration.diff()
    sys.stdout.write(diff)
    problems = sorted(migration.problems, key=lambda p: (p.file or "", p.line or 0))
    for problem in problems:
        print(problem, file=sys.stderr)
    changes = migration.changes
    if not changes:
        print("nothing to rewrite: no spelling of anybox.buildbot.odoo found", file=sys.stderr)
    elif args.write:
        migration.write()
        print(f"rewrote {len(changes)} files: "
              + ", ".join(r.target_shown for r in changes), file=sys.stderr)
    else:
        print(f"{len(changes)} files to rewrite: run again with --write to apply this diff",
              file=sys.stderr)
    return 1 if migration.problems.errors else 0


# --------------------------------------------------------------------------
# command line


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
        sub.add_argument("directory", help="the master directory")
        sub.add_argument("--manifest", action="append",
                         help="manifest path relative to DIRECTORY, instead of master.cfg's "
                              f"(default {DEFAULT_MANIFEST}); repeat for several")
        sub.add_argument("--workers",
                         help="workers file, instead of master.cfg's "
                              f"(default {DEFAULT_WORKERS})")
        sub.add_argument("--no-master-cfg", action="store_true",
                         help="do not run master.cfg: built-in capabilities and subfactories "
                              "only")
        if name == "plan":
            sub.add_argument("--format", choices=("table", "json"), default="table")
        sub.set_defaults(func=func)
    migrate = commands.add_parser(
        "migrate", help="rewrite files written for anybox.buildbot.odoo to today's spellings "
                        "(a diff; --write applies it)")
    migrate.add_argument("directory", help="the master directory")
    migrate.add_argument("--write", action="store_true",
                         help="rewrite the files (comments and layout are kept)")
    migrate.add_argument("--manifest", action="append",
                         help=f"manifest path relative to DIRECTORY (default {DEFAULT_MANIFEST}); "
                              "repeat for several")
    migrate.add_argument("--workers", help="workers file (default workers.cfg, or the older "
                                           "slaves.cfg, renamed workers.cfg)")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `buildbot-odoo plan DIR | head`: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:  # Ctrl-C: stopped, not a failure to report
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
