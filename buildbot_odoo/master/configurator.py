"""The entry points of SPEC 1: ``BuildoutsConfigurator`` and ``configure_from_buildouts``.

Loading and checking is done by :mod:`buildbot_odoo.planning` on plain data;
only once everything is valid are Buildbot objects made, and only then is the
user's ``BuildmasterConfig`` touched (appended to, never replaced).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ..capability.definitions import builtin_capabilities, validate_definition
from ..config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from ..errors import ConfigError, Problem
from ..planning import DEFAULT_TREE_STABLE_TIMER, Plan, make_plan
from ..watching.files import WATCH_DIR
from . import compat
from .builders import PriorityNextWorker, make_builders
from .buildsteps import build_steps as assemble_build_steps
from .clashes import clashes
from .config_errors import BuildbotConfigError, as_buildbot_error
from .deactivated_masters import install as install_deactivated_masters
from .factory import make_build_factories, secret_declarations
from .fleet_page import add_fleet_page, check_fleet_page
from .heartbeat import add_services, heartbeat_services
from .hooks import add_change_hooks, check_change_hooks
from .rest_writes import install as install_rest_writes
from .scheduling import (
    DEFAULT_POLL_INTERVAL,
    WatchedBranchesFilter,
    make_scheduling,
    watched_branches_filter,
)
from .settings import misspelled_settings
from .stop_retry import install as install_stop_retry
from .subfactories.manifest_values import MasterArea, area_clashes
from .subfactories.registry import POST_BUILDOUT_SUBFACTORIES, POST_DL_SUBFACTORIES
from .subfactories.retrieval import RETRIEVERS
from .wamp_subscriptions import install as install_wamp_subscriptions
from .workers import make_worker

DEFAULT_MANIFESTS = ("buildouts/MANIFEST.cfg",)
DEFAULT_WORKERS = "workers.cfg"
CONFIG_LISTS = ("workers", "builders", "schedulers", "change_source")
#: set while ``buildbot-odoo check`` runs a master.cfg: see :func:`collecting_configurators`
_COLLECTOR: ContextVar[list[BuildoutsConfigurator] | None] = ContextVar(
    "buildbot_odoo_collector", default=None)


@contextmanager
def collecting_configurators() -> Iterator[list[BuildoutsConfigurator]]:
    """Run a master.cfg in this block to learn its configurators without failing on errors.

    Inside the block, :meth:`BuildoutsConfigurator.populate` records the
    configurator (with its checked plan in ``.plan``) in the yielded list and
    does not raise on configuration problems, so ``buildbot-odoo check`` can
    report every problem with the capabilities, subfactories and paths the
    user's master.cfg sets up.  A valid configuration is still appended to the
    config, so the rest of master.cfg sees what it expects.
    """
    found: list[BuildoutsConfigurator] = []
    token = _COLLECTOR.set(found)
    try:
        yield found
    finally:
        _COLLECTOR.reset(token)


def manifest_path_list(paths: Sequence[str | Path] | str | Path) -> list[str | Path]:
    """The manifests to read; one path alone (a str is a sequence too) is one manifest."""
    return [paths] if isinstance(paths, (str, Path)) else list(paths)


def _noop(configurator, options, buildout_path, environ) -> list:
    """The default post-download subfactory: nothing to do."""
    return []


class BuildoutsConfigurator:
    """Turns a master directory's workers.cfg and manifests into Buildbot config."""

    def __init__(self, basedir: str | Path, *args: object,
                 manifest_paths: Sequence[str | Path] | str | Path | None = None,
                 workers_path: str | Path | None = None,
                 capabilities: Mapping[str, Mapping] | None = None,
                 poll_interval: object = None, slaves_path: str | Path | None = None):
        """``manifest_paths`` default ``('buildouts/MANIFEST.cfg',)``, ``workers_path``
        default ``'workers.cfg'``; anybox.buildbot.odoo's form (BuildmasterConfig second,
        ``populate()`` without argument, ``slaves_path``) works too (:mod:`.compat`)."""
        bound = compat.bind(args, {"manifest_paths": manifest_paths,
                                   "workers_path": workers_path, "capabilities": capabilities,
                                   "poll_interval": poll_interval, "slaves_path": slaves_path})
        self._config = bound.config
        self._legacy_problems = bound.problems
        given = bound.given
        self.basedir = Path(basedir)
        self.manifest_paths = manifest_path_list(given.get("manifest_paths", DEFAULT_MANIFESTS))
        self.workers_path = given.get("workers_path", DEFAULT_WORKERS)
        capabilities = given.get("capabilities")
        self.capabilities = (builtin_capabilities() if capabilities is None
                             else {k: dict(v) for k, v in capabilities.items()})
        self.buildout_retrievers = dict(RETRIEVERS)
        self.post_dl_steps = {"noop": _noop, **POST_DL_SUBFACTORIES}
        self.post_buildout_steps: dict = dict(POST_BUILDOUT_SUBFACTORIES)
        #: (prefix, replacement) pairs for the URLs the master polls (docs/scheduling.md)
        self.vcs_master_url_rewrite_rules: list[tuple[str, str]] = []
        #: where auto-watch builds upload and the master reads back: relative to basedir, or
        #: absolute; in a cluster, a directory every master mounts (docs/scale-out.md)
        self.watch_directory: str | Path = WATCH_DIR
        #: seconds after which the other masters of a cluster take a silent master for dead
        #: and build its builds again; None: Buildbot's own 10 minutes (docs/scale-out.md)
        self.master_expiry: float | None = None
        #: seconds without commit before a build is scheduled, unless tree-stable-timer says
        self.tree_stable_timer = DEFAULT_TREE_STABLE_TIMER
        #: seconds between two polls of a watched branch, or ``-1`` (no polling), or
        #: ``callable(vcs=, url=, minor_specs=)`` giving either (docs/scheduling.md)
        self.poll_interval = given.get("poll_interval", DEFAULT_POLL_INTERVAL)
        #: forges whose push hooks start builds: {"github": {"secret": NAME,
        #: "repositories": [URL prefix, ...]}, "gitlab": ..., "gitea": ...}; the repositories
        #: named are not polled (docs/scheduling.md, "Push or poll")
        self.change_hooks: dict = {}
        self.plan: Plan | None = None
        #: add the Fleet page to the web UI (docs/fleet-page.md); False leaves c['www'] alone
        self.fleet_page = True
        #: its name in the UI's URLs (``#/fleet``); the menu says "Fleet"
        self.fleet_page_name = "fleet"

    def add_capability_environ(self, name: str, definition: Mapping) -> None:
        """Register (or replace) a capability definition; checked right away."""
        try:
            validate_definition(name, definition)
        except ValueError as exc:
            raise BuildbotConfigError([Problem(str(exc), file="master.cfg")]) from None
        self.capabilities[name] = dict(definition)

    def load(self) -> Plan:
        """Everything read and checked, as plain data; problems are in ``plan.problems``."""
        names = [*BUILTIN_POST_BUILDOUT_STEPS, *self.post_buildout_steps]
        options = {name: getattr(sub, "options", None)
                   for name, sub in self.post_buildout_steps.items()}
        workers_path, renamed = compat.workers_file(self.basedir, self.workers_path,
                                                    DEFAULT_WORKERS)
        plan = make_plan(self.basedir, manifest_path_list(self.manifest_paths), workers_path,
                         self.capabilities, list(dict.fromkeys(names)), options,
                         rewrite_rules=self.vcs_master_url_rewrite_rules,
                         tree_stable_timer=self.tree_stable_timer,
                         watch_directory=self.watch_directory,
                         change_hooks=self.change_hooks)
        plan.problems.extend([*self._legacy_problems, *([renamed] if renamed else [])])
        if type(self) is BuildoutsConfigurator:  # subclasses may have settings of their own
            plan.problems.extend(misspelled_settings(self))
        return plan

    def populate(self, config: MutableMapping | None = None) -> None:
        """Append workers, builders, schedulers and pollers to a BuildmasterConfig.

        Raises :class:`ConfigError` (every problem, with file and line) before
        anything is added when the input is invalid; it is also Buildbot's own
        ``ConfigErrors``, so ``buildbot checkconfig`` and ``start`` print each
        problem once (:mod:`.config_errors`).  On a Buildbot whose REST
        API cuts responses short, its writer is replaced (:mod:`.rest_writes`);
        on one whose WAMP queue does not wait for its subscriptions, that method
        is (:mod:`.wamp_subscriptions`); on one where a build stopped for RETRY
        (``buildbot stop``) ends CANCELLED, it keeps RETRY (:mod:`.stop_retry`).
        On one where the masters of a cluster leave a dead master's build
        requests claimed, they free them (:mod:`.deactivated_masters`); with
        ``master_expiry``, a master of a cluster beats that often
        (:mod:`.heartbeat`).
        ``config`` may be left out when it was given to the constructor
        (anybox.buildbot.odoo's form).
        """
        if config is None:
            config = self._config
        if config is None:
            raise TypeError("populate() needs the BuildmasterConfig: "
                            "conf.populate(BuildmasterConfig)")
        install_rest_writes()
        install_wamp_subscriptions()
        install_stop_retry()
        install_deactivated_masters()
        plan, made = self._checked_objects()
        if made is not None:
            plan.problems.extend(clashes(config, made, plan))
        services = heartbeat_services(self, config, plan.problems)
        add_page = made is not None and check_fleet_page(self, config, plan.problems)
        add_hooks = made is not None and check_change_hooks(plan.watch.hooks, config,
                                                            plan.problems)
        if plan.problems.errors:
            made = None
        collector = _COLLECTOR.get()
        if collector is not None:  # the caller reports the problems
            collector.append(self)
        else:
            try:
                plan.problems.raise_if_errors()
            except ConfigError as exc:  # as Buildbot's own: each problem printed once
                raise as_buildbot_error(exc) from None
        if made is None:
            return
        for key in CONFIG_LISTS:
            existing = config.get(key)
            if existing is None:
                config[key] = []
            elif isinstance(existing, tuple):  # Buildbot accepts tuples too
                config[key] = list(existing)
            elif not isinstance(existing, list):  # one change source alone
                config[key] = [existing]
        for key, objects in made.items():
            config[key].extend(objects)
        add_services(config, services)
        if add_page:
            add_fleet_page(self, config)
        if add_hooks:
            add_change_hooks(plan.watch.hooks, config)
        if collector is None:  # the master itself, not ``check``: nothing written then
            self._make_watch_directory(plan)

    def _make_watch_directory(self, plan: Plan) -> None:
        """``watch/`` (``watch_directory``), where auto-watch builds upload, made when the
        master configures (as anybox.buildbot.odoo did), so that it is there to look at
        from the start."""
        if any(b.auto_watch and b.buildout is not None for b in plan.builds):
            (self.basedir / self.watch_directory).mkdir(parents=True, exist_ok=True)

    def check(self) -> Plan:
        """Everything :meth:`populate` would refuse, all at once, without touching a config.

        The files are loaded and checked, then every Buildbot object is made
        (subfactories check their own options then), collecting problems in
        ``plan.problems`` instead of stopping at the first.
        """
        plan, _ = self._checked_objects()
        return plan

    def _checked_objects(self) -> tuple[Plan, dict[str, list] | None]:
        """The plan (also kept as ``self.plan``) and the objects, or None on errors."""
        plan = self.load()
        self.plan = plan
        if plan.problems.errors:
            return plan, None
        try:
            made = self.make_objects(plan)
        except ConfigError as exc:
            plan.problems.extend(exc.problems)
            return plan, None
        return plan, made

    def make_objects(self, plan: Plan) -> dict[str, list]:
        """Buildbot objects for a checked plan; ConfigError lists every builder's problems."""
        next_worker = PriorityNextWorker({w.name: w.worker_priority for w in plan.workers})
        secrets = secret_declarations(plan.workers, plan.definitions)
        builders, problems, warnings = [], [], []
        self.master_areas: list[MasterArea] = []  # filled by the subfactories
        for group in plan.dispatch.by_build():  # one factory per build, shared by its builders
            try:
                made, told = make_build_factories(self, group, plan.definitions, secrets)
            except ConfigError as exc:  # one bad build must not hide the others' problems
                problems.extend(exc.problems)
                continue
            warnings.extend(told)
            builders.extend(make_builders(made, next_worker))
        problems.extend(area_clashes(self.master_areas))
        if problems:  # builders of one build share its problems: each is told once
            raise ConfigError(list(dict.fromkeys(problems)))
        plan.problems.extend(warnings)
        schedulers, change_sources = self.make_scheduling(plan)
        return {
            "workers": [make_worker(w) for w in plan.workers],
            "builders": builders,
            "schedulers": schedulers,
            "change_source": change_sources,
        }

    def make_scheduling(self, plan: Plan) -> tuple[list, list]:
        """Schedulers and pollers for the plan's builders."""
        return make_scheduling(self, plan)

    def change_filter(self, build: str) -> WatchedBranchesFilter:
        """The change filter of a manifest section's watches, for your own schedulers.

        Meant for sections without ``buildout`` (they make no builder, so no
        scheduler of ours): their branches are polled all the same.  Call it
        after :meth:`populate`.
        """
        if self.plan is None:
            raise RuntimeError("change_filter() needs populate() to have run")
        branches = self.plan.watch.branches_of(build)
        if not branches:
            raise KeyError(f"no manifest section named {build!r} watches anything")
        return watched_branches_filter(self.plan.watch.match_of(build))

    def build_steps(self, options, buildout_path: str, environ) -> list:
        """Steps after retrieval and capability resolution (SPEC 6, 3 to 8)."""
        return assemble_build_steps(self, options, buildout_path, environ)


def configure_from_buildouts(basedir: str | Path, BuildmasterConfig: MutableMapping,
                             manifest_paths: Sequence[str | Path] | str | Path | None = None,
                             workers_path: str | Path | None = None,
                             **keywords: object) -> BuildoutsConfigurator:
    """The one-call form for a master.cfg that needs no customisation.

    ``manifest_paths`` and ``workers_path`` default as the configurator's;
    ``keywords`` are its others (``capabilities``, and anybox.buildbot.odoo's
    ``poll_interval`` and ``slaves_path``).
    """
    directory, problem = compat.master_directory(basedir)
    configurator = BuildoutsConfigurator(directory, manifest_paths=manifest_paths,
                                         workers_path=workers_path, **keywords)  # type: ignore[arg-type]
    if problem is not None:
        configurator._legacy_problems.append(problem)
    configurator.populate(BuildmasterConfig)
    return configurator
