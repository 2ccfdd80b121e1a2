"""The entry points of SPEC 1: ``BuildoutsConfigurator`` and ``configure_from_buildouts``.

Loading and checking is done by :mod:`buildbot_odoo.planning` on plain data;
only once everything is valid are Buildbot objects made, and only then is the
user's ``BuildmasterConfig`` touched (appended to, never replaced).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from ..capability.definitions import builtin_capabilities, validate_definition
from ..config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from ..errors import ConfigError, Problem
from ..planning import DEFAULT_TREE_STABLE_TIMER, Plan, make_plan
from .builders import PriorityNextWorker, make_builder
from .buildsteps import build_steps as assemble_build_steps
from .factory import make_factory
from .scheduling import (
    DEFAULT_POLL_INTERVAL,
    WatchedBranchesFilter,
    make_scheduling,
    watched_branches_filter,
)
from .subfactories.registry import POST_BUILDOUT_SUBFACTORIES, POST_DL_SUBFACTORIES
from .subfactories.retrieval import RETRIEVERS
from .workers import make_worker

DEFAULT_MANIFESTS = ("buildouts/MANIFEST.cfg",)
DEFAULT_WORKERS = "workers.cfg"
CONFIG_LISTS = ("workers", "builders", "schedulers", "change_source")


def _noop(configurator, options, buildout_path, environ) -> list:
    """The default post-download subfactory: nothing to do."""
    return []


class BuildoutsConfigurator:
    """Turns a master directory's workers.cfg and manifests into Buildbot config."""

    def __init__(self, basedir: str | Path,
                 manifest_paths: Sequence[str | Path] = DEFAULT_MANIFESTS,
                 workers_path: str | Path = DEFAULT_WORKERS,
                 capabilities: Mapping[str, Mapping] | None = None):
        self.basedir = Path(basedir)
        self.manifest_paths = list(manifest_paths)
        self.workers_path = workers_path
        self.capabilities = (builtin_capabilities() if capabilities is None
                             else {k: dict(v) for k, v in capabilities.items()})
        self.buildout_retrievers = dict(RETRIEVERS)
        self.post_dl_steps = {"noop": _noop, **POST_DL_SUBFACTORIES}
        self.post_buildout_steps: dict = dict(POST_BUILDOUT_SUBFACTORIES)
        #: (prefix, replacement) pairs for the URLs the master polls (docs/scheduling.md)
        self.vcs_master_url_rewrite_rules: list[tuple[str, str]] = []
        #: seconds without commit before a build is scheduled, unless tree-stable-timer says
        self.tree_stable_timer = DEFAULT_TREE_STABLE_TIMER
        #: seconds between two polls of a watched branch
        self.poll_interval = DEFAULT_POLL_INTERVAL
        self.plan: Plan | None = None

    def add_capability_environ(self, name: str, definition: Mapping) -> None:
        """Register (or replace) a capability definition; checked right away."""
        try:
            validate_definition(name, definition)
        except ValueError as exc:
            raise ConfigError([Problem(str(exc), file="master.cfg")]) from None
        self.capabilities[name] = dict(definition)

    def load(self) -> Plan:
        """Everything read and checked, as plain data; problems are in ``plan.problems``."""
        names = [*BUILTIN_POST_BUILDOUT_STEPS, *self.post_buildout_steps]
        options = {name: getattr(sub, "options", None)
                   for name, sub in self.post_buildout_steps.items()}
        return make_plan(self.basedir, self.manifest_paths, self.workers_path,
                         self.capabilities, list(dict.fromkeys(names)), options,
                         rewrite_rules=self.vcs_master_url_rewrite_rules,
                         tree_stable_timer=self.tree_stable_timer)

    def populate(self, config: MutableMapping) -> None:
        """Append workers, builders, schedulers and pollers to a BuildmasterConfig.

        Raises :class:`ConfigError` (every problem, with file and line) before
        anything is added when the input is invalid.
        """
        plan = self.load()
        plan.problems.raise_if_errors()
        self.plan = plan
        made = self.make_objects(plan)
        for key in CONFIG_LISTS:
            existing = config.get(key)
            if existing is None:
                config[key] = []
            elif not isinstance(existing, list):
                config[key] = [existing]
        for key, objects in made.items():
            config[key].extend(objects)

    def make_objects(self, plan: Plan) -> dict[str, list]:
        next_worker = PriorityNextWorker({w.name: w.worker_priority for w in plan.workers})
        builders = [make_builder(p, make_factory(self, p, plan.definitions), next_worker)
                    for p in plan.dispatch.builders]
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
        return watched_branches_filter(branches)

    def build_steps(self, options, buildout_path: str, environ) -> list:
        """Steps after retrieval and capability resolution (SPEC 6, 3 to 8)."""
        return assemble_build_steps(self, options, buildout_path, environ)


def configure_from_buildouts(basedir: str | Path, BuildmasterConfig: MutableMapping,
                             manifest_paths: Sequence[str | Path] = DEFAULT_MANIFESTS,
                             workers_path: str | Path = DEFAULT_WORKERS) -> BuildoutsConfigurator:
    """The one-call form for a master.cfg that needs no customisation."""
    configurator = BuildoutsConfigurator(basedir, manifest_paths, workers_path)
    configurator.populate(BuildmasterConfig)
    return configurator
