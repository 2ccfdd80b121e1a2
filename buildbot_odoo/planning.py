"""From the master directory's files to a checked plan, without Buildbot.

This is what ``populate`` builds Buildbot objects from, and what the
``check`` and ``plan`` commands print: one loading path for all of them, so
what the command line validates is exactly what the master will configure.
"""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .capability.definitions import (
    BUILTIN_CAPABILITIES,
    CapabilityDef,
    known_options,
    path_options,
    validate_definitions,
)
from .capability.dispatch import BuilderPlan, DispatchResult, dispatch
from .config.manifest import BuildSpec, load_manifests
from .config.values import SECRET_SUFFIX
from .config.workers import WorkerSpec, load_workers
from .errors import Problems
from .testing_dbs import check_testing_databases
from .watching.bzr_log import BRZ
from .watching.files import WATCH_DIR, check_watch_directory, shown_directory
from .watching.hooks import ChangeHooks
from .watching.plan import RewriteRules, WatchPlan, check_default_timer, plan_watches

DEFAULT_TREE_STABLE_TIMER = 600
#: NAME_MAX: Buildbot makes each builder's directory on the workers from its name
MAX_BUILDER_NAME_BYTES = 255
#: builders of one build past which check warns (the hard limit is in dispatch)
MANY_BUILDERS_PER_BUILD = 100
#: the characters Buildbot replaces by ``_`` when it makes a builder's directory
#: (``builddir``, ``workerbuilddir``) from its name: ``buildbot.util.badchars_map``,
#: applied by ``BuilderConfig`` through ``safeTranslate``
BUILDDIR_REPLACED = "\t !#$%&'()*+,./:;<=>?@[\\]^{|}~"
_BUILDDIR_TABLE = str.maketrans(BUILDDIR_REPLACED, "_" * len(BUILDDIR_REPLACED))


@dataclass
class Plan:
    basedir: Path
    workers: list[WorkerSpec]
    builds: list[BuildSpec]
    definitions: dict[str, CapabilityDef]
    dispatch: DispatchResult
    problems: Problems = field(default_factory=Problems)
    #: pollers, per-build schedules and auto-watch results (SPEC 7)
    watch: WatchPlan = field(default_factory=WatchPlan)


def resolve_path(basedir: Path, path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else basedir / path


def shown_name(basedir: Path, path: Path) -> str:
    """How a file is named in messages: relative to the master directory when inside it."""
    try:
        return str(path.relative_to(basedir))
    except ValueError:
        return str(path)


def make_plan(basedir: str | Path, manifest_paths: Sequence[str | Path],
              workers_path: str | Path, capabilities: Mapping[str, Mapping],
              post_buildout_steps: Collection[str],
              subfactory_options: Mapping[str, Collection[str] | None] | None = None,
              rewrite_rules: object = (),
              tree_stable_timer: object = DEFAULT_TREE_STABLE_TIMER,
              watch_directory: object = WATCH_DIR,
              change_hooks: object = None) -> Plan:
    """Load and check everything; problems are collected in ``plan.problems``.

    ``rewrite_rules``, ``tree_stable_timer`` and ``change_hooks`` are the
    configurator's ``vcs_master_url_rewrite_rules``, ``tree_stable_timer`` and
    ``change_hooks``, checked here; the auto-watch files of ``watch_directory``
    (the configurator's: ``watch/`` by default) are read here too, so that
    ``buildbot-odoo check`` and ``plan`` see what the master will poll.
    """
    base = Path(basedir)
    problems = Problems()
    try:
        definitions = validate_definitions(capabilities)
    except ValueError as exc:
        problems.error(str(exc), file="master.cfg")
        definitions = {}
    workers_file = resolve_path(base, workers_path)
    workers = load_workers(workers_file, problems, shown_name(base, workers_file))
    _check_unique_workers(workers, problems)
    _check_capability_options(workers, capabilities, problems)
    manifests = [resolve_path(base, p) for p in manifest_paths]
    builds = load_manifests([(m, shown_name(base, m)) for m in manifests], problems,
                            post_buildout_steps, subfactory_options)
    result = dispatch(builds, workers, definitions)
    for missing in result.unassigned:
        if missing.refused:
            problems.error(missing.reason, **missing.build.location("build-for"))
            continue
        problems.warning(f"no builder made: {missing.reason}",
                         file=missing.build.file, line=missing.build.line,
                         section=missing.build.name)
    _warn_large_builds(result, problems)
    _warn_unused_exclusions(result, problems)
    _check_unique_builders(result, problems)
    check_testing_databases(workers, result.builders, problems)
    rules = RewriteRules.parse(rewrite_rules, problems)
    timer = check_default_timer(tree_stable_timer, problems)
    directory = check_watch_directory(watch_directory, problems)
    hooks = ChangeHooks.parse(change_hooks, problems)
    watch = plan_watches(builds, result.builders, base, rules, timer, problems, hooks,
                         watch_directory=directory)
    _check_brz(builds, watch, problems, directory)
    return Plan(base, workers, builds, definitions, result, problems, watch)


def _check_brz(builds: Sequence[BuildSpec], watch: WatchPlan, problems: Problems,
               watch_directory: str | Path = WATCH_DIR) -> None:
    """The master polls Bazaar branches with Breezy's ``brz``: say so where one is watched
    when this machine has none (the master still starts; those branches are not polled)."""
    if shutil.which(BRZ) is not None:
        return
    for build in builds:
        if not any(b.vcs == "bzr" for b in watch.branches_of(build.name)):
            continue
        if any(spec.vcs == "bzr" for spec in build.watch or ()):
            where = build.location("watch")
        elif build.buildout is not None and build.buildout.kind == "bzr":
            where = build.location("buildout")
        else:
            where = {"file": f"{shown_directory(watch_directory)}/{build.name}",
                     "section": build.name}
        problems.warning(f"this build watches Bazaar branches, which the master polls with "
                         f"{BRZ!r} (Breezy), and {BRZ!r} is not installed on this master (not "
                         "on PATH): install it (Debian's package brz, or breezy from the "
                         "package index); until then these branches are not polled", **where)


def _warn_large_builds(result: DispatchResult, problems: Problems) -> None:
    """A build making more builders than anyone reads results of is probably a mistake."""
    counts: dict[str, int] = {}
    builds: dict[str, BuildSpec] = {}
    for builder in result.builders:
        counts[builder.build.name] = counts.get(builder.build.name, 0) + 1
        builds[builder.build.name] = builder.build
    for name, count in counts.items():
        if count > MANY_BUILDERS_PER_BUILD:
            problems.warning(f"makes {count} builders, more than {MANY_BUILDERS_PER_BUILD}: "
                             "is every combination needed?",
                             **builds[name].location("build-for"))


def _check_unique_workers(workers: Sequence[WorkerSpec], problems: Problems) -> None:
    seen: set[str] = set()
    for worker in workers:
        if worker.name in seen:
            problems.error("worker name used twice", file=worker.file, line=worker.line,
                           section=worker.name)
        seen.add(worker.name)


def _check_capability_options(workers: Sequence[WorkerSpec], capabilities: Mapping[str, Mapping],
                              problems: Problems) -> None:
    """Options of the built-in capabilities that nothing reads: a typo, most likely
    (``password_secret=`` would silently leave the build without its password).

    What a definition reads is worked out once per capability, not per declaration."""
    paths: dict[str, frozenset[str]] = {}
    knowns: dict[str, list[str]] = {}
    for worker in workers:
        for decl in worker.capabilities:
            if decl.name not in paths:
                paths[decl.name] = path_options(capabilities.get(decl.name))
            _check_path_options(worker, decl, paths[decl.name], problems)
            if decl.name not in knowns:
                knowns[decl.name] = sorted(
                    known_options(BUILTIN_CAPABILITIES.get(decl.name))
                    | known_options(capabilities.get(decl.name)))
            known = knowns[decl.name]
            if decl.name not in BUILTIN_CAPABILITIES:
                if capabilities.get(decl.name) is not None:
                    _check_unread_secrets(worker, decl, known, problems)
                continue
            for option in decl.options:
                if option in known:
                    continue
                close = difflib.get_close_matches(option, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.warning(f"unknown option {option!r} of the {decl.name} capability "
                                 f"is not used (known: {', '.join(known)}){hint}",
                                 file=worker.file, line=worker.line_of("capability", decl.offset),
                                 section=worker.name, option="capability")


def _check_unread_secrets(worker: WorkerSpec, decl, known: Collection[str],
                          problems: Problems) -> None:
    """``OPTION-secret=NAME`` on a capability master.cfg defines, whose templates never read
    ``cap(OPTION)`` (``known``: the options its definition reads): the build would silently
    go without the value (a typo, most likely).  Without a definition, options are the
    user's own properties: nothing to say (the caller does not ask)."""
    for option in decl.options:
        if option.endswith(SECRET_SUFFIX) and option not in known:
            plain = option[:-len(SECRET_SUFFIX)]
            readable = sorted(o for o in known if o.endswith(SECRET_SUFFIX))
            problems.warning(f"option {option!r} of the {decl.name} capability names a secret "
                             f"nothing reads: no environ template of its definition reads "
                             f"cap({plain}) (options it takes by a secret's name: "
                             f"{', '.join(readable) or 'none'})", file=worker.file,
                             line=worker.line_of("capability", decl.offset),
                             section=worker.name, option="capability")


def _check_path_options(worker: WorkerSpec, decl, options: frozenset[str],
                        problems: Problems) -> None:
    """Directories a capability puts on PATH (or LD_LIBRARY_PATH) must be absolute: a
    relative one is looked up from each command's directory, a checkout's, which could
    hold its own ``psql`` or ``python`` (the same hole as an empty PATH entry)."""
    for option in sorted(options & set(decl.options)):
        value = decl.options[option]
        if all(entry.startswith("/") for entry in value.split(":") if entry):
            continue
        problems.error(f"option {option!r} of the {decl.name} capability ({value!r}) goes "
                       "into a search path (PATH, LD_LIBRARY_PATH): only absolute directories "
                       "(a relative one is looked up from each command's directory, where a "
                       "checkout could put its own programs)", file=worker.file,
                       line=worker.line_of("capability", decl.offset), section=worker.name,
                       option="capability")


def builder_directory(name: str) -> str:
    """The directory Buildbot gives a builder on the master and the workers.

    >>> builder_directory('sale+ext-pg9.6')
    'sale_ext-pg9_6'
    """
    return name.translate(_BUILDDIR_TABLE)


def _warn_unused_exclusions(result: DispatchResult, problems: Problems) -> None:
    """A build-exclude line that drops nothing: a mistyped version, or a line gone stale
    when the fleet changed.  Builds without any combination are already warned about."""
    used = {id(e.exclusion) for e in result.excluded}
    made: dict[int, list[str]] = {}
    for plan in result.builders:
        made.setdefault(id(plan.build), []).append(plan.name)
    builds = {id(p.build): p.build for p in result.builders}
    builds.update({id(e.build): e.build for e in result.excluded})
    for key, build in builds.items():
        for exclusion in build.build_exclude:
            if id(exclusion) in used:
                continue
            names = made.get(key, [])
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5
                                           else "")
            where = build.location("build-exclude")
            where["line"] = int(where["line"] or 0) + exclusion.offset or None
            inherited = f" of {build.name}" if where["section"] != build.name else ""
            problems.warning(f"{str(exclusion)!r} excludes nothing: no combination{inherited} "
                             f"the fleet offers matches it (builders made: {shown or 'none'})",
                             **where)


def _check_unique_builders(result: DispatchResult, problems: Problems) -> None:
    """Demultiplied names may collide with another build's name (``a-pg15`` vs ``a``+pg15),
    share a directory once Buildbot has sanitised them (``a+b`` and ``a.b``), or grow
    too long for a directory name: Buildbot would refuse the first two with neither
    file nor line, and every build of the last would break."""
    seen: dict[str, BuildSpec] = {}
    directories: dict[str, BuilderPlan] = {}
    for plan in result.builders:
        if len(plan.name.encode("utf-8")) > MAX_BUILDER_NAME_BYTES:
            problems.error(f"builder name {plan.name!r} is longer than "
                           f"{MAX_BUILDER_NAME_BYTES} bytes, the limit of the builder's "
                           "directory name on the workers", **plan.build.location())
        if plan.name in seen:
            if seen[plan.name] is not plan.build:
                problems.error(f"builder name {plan.name!r} is also made by build "
                               f"{seen[plan.name].name!r}", **plan.build.location())
            continue
        seen[plan.name] = plan.build
        directory = builder_directory(plan.name)
        other = directories.setdefault(directory, plan)
        if other is not plan:
            _report_shared_directory(plan, other, directory, problems)


def _report_shared_directory(plan: BuilderPlan, other: BuilderPlan, directory: str,
                             problems: Problems) -> None:
    same_build = other.build is plan.build
    fix = ("the versions differ only by such characters" if same_build
           else "rename one of the builds")
    where = plan.build.location("build-for" if same_build else None)
    problems.error(f"builder {plan.name!r} and builder {other.name!r} (build "
                   f"{other.build.name!r}) would share the directory {directory!r} on the "
                   "workers (Buildbot replaces characters such as '.', '+', ' ' by '_' in "
                   f"it): {fix}", **where)
