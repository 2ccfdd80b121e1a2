"""What the Fleet page shows, computed from the plan and a snapshot of the master.

The plan is the one ``populate`` configured the master from, and the one
``buildbot-odoo check`` and ``plan`` print (:mod:`buildbot_odoo.planning`):
builders, the builds left without one and why, the combinations
``build-exclude`` removed.  The live part is a :class:`LiveState`, plain data
the edge reads from Buildbot's data API: which workers are connected, each
builder's id and last build.  Nothing here imports Buildbot, so the page is
tested and benchmarked without a master.

The matrix has one row per manifest build and, per group of builds split by
the same capabilities, one column per combination of versions some worker
has (PostgreSQL 14, 15, 16...).  A cell is the builder of that combination
with its last result, or says why there is none: excluded by a
``build-exclude`` line, not targeted by the build's requirements, or no
eligible worker (and which workers have the versions but cannot take it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..capability.definitions import CapabilityDef
from ..capability.dispatch import BuilderPlan
from ..capability.versions import Version, VersionFilter
from ..config.manifest import BuildSpec
from ..config.values import SECRET_SUFFIX, hide_url_passwords, is_secret_key
from ..config.workers import WorkerSpec
from ..planning import Plan

__all__ = [
    "RESULT_NAMES",
    "Cell",
    "Column",
    "FleetPage",
    "LastBuild",
    "LiveState",
    "MatrixGroup",
    "Row",
    "WorkerRow",
    "WorkerState",
    "build_page",
]

#: Buildbot's result codes, in the order of ``buildbot.process.results.Results``
#: (the edge's tests check they agree)
RESULT_NAMES = ("SUCCESS", "WARNINGS", "FAILURE", "SKIPPED", "EXCEPTION", "RETRY", "CANCELLED")
HIDDEN_VALUE = "(hidden)"
#: how many workers a "no eligible worker" reason names before counting the others
MAX_NAMED_WORKERS = 3

Combo = tuple[tuple[str, Version], ...]


# --------------------------------------------------------------------------
# the live state: plain data read by the edge


@dataclass(frozen=True)
class WorkerState:
    """A worker as the master sees it now."""

    connected: bool
    paused: bool = False


@dataclass(frozen=True)
class LastBuild:
    """A builder's most recent build (data API ``builds``)."""

    number: int
    results: int | None  # None while it runs
    complete: bool
    state_string: str = ""

    @property
    def result_name(self) -> str:
        """Buildbot's name of the result (``SUCCESS``...), ``PENDING`` while it runs."""
        if not self.complete or self.results is None:
            return "PENDING"
        if 0 <= self.results < len(RESULT_NAMES):
            return RESULT_NAMES[self.results]
        return "UNKNOWN"


@dataclass
class LiveState:
    """What the page needs from the master: workers' state, builder ids and last builds."""

    workers: dict[str, WorkerState] = field(default_factory=dict)
    builder_ids: dict[str, int] = field(default_factory=dict)
    last_builds: dict[str, LastBuild] = field(default_factory=dict)


# --------------------------------------------------------------------------
# the page


@dataclass
class CapabilityShown:
    name: str
    version: str | None
    options: list[tuple[str, str]]


@dataclass
class WorkerRow:
    name: str
    file: str | None
    line: int | None
    state: str  # connected, paused, disconnected, unknown (not on the master)
    capabilities: list[CapabilityShown]
    reserved_for: list[str]
    max_builds: int | None
    priority: float
    builders: list[str]
    idle_reason: str | None = None


@dataclass(frozen=True)
class Column:
    key: Combo
    label: str


@dataclass
class Cell:
    """One matrix cell; ``kind`` is builder, excluded, no-worker, not-targeted or none."""

    kind: str
    reason: str = ""
    builder: str | None = None
    builderid: int | None = None
    workers: tuple[str, ...] = ()
    last: LastBuild | None = None


@dataclass
class Row:
    build: str
    file: str
    line: int
    cells: list[Cell]
    note: str | None = None  # why the build made no builder at all
    #: how commits reach it: ``push (github)``, ``poll``, both joined by `` + ``, or ``-``
    trigger: str = "-"


@dataclass
class MatrixGroup:
    axes: tuple[str, ...]  # the capabilities the group's builds are split by, sorted
    columns: list[Column]
    rows: list[Row]


@dataclass
class Unassigned:
    build: str
    file: str
    line: int
    reason: str


@dataclass
class FleetPage:
    workers: list[WorkerRow]
    groups: list[MatrixGroup]
    unassigned: list[Unassigned]

    @property
    def idle_workers(self) -> list[WorkerRow]:
        return [w for w in self.workers if w.idle_reason is not None]


# --------------------------------------------------------------------------
# building it


def build_page(plan: Plan, live: LiveState) -> FleetPage:
    """The page for ``plan`` with the master's ``live`` state."""
    return _PageBuilder(plan, live).page()


class _PageBuilder:
    def __init__(self, plan: Plan, live: LiveState):
        self.plan = plan
        self.live = live
        self.workers = plan.workers
        self.builders_of: dict[int, dict[Combo, BuilderPlan]] = {}
        for builder in plan.dispatch.builders:
            self.builders_of.setdefault(id(builder.build), {})[_combo(builder.versions)] = builder
        self.excluded_of: dict[int, dict[Combo, str]] = {}
        for excluded in plan.dispatch.excluded:
            self.excluded_of.setdefault(id(excluded.build), {})[_combo(excluded.versions)] = \
                str(excluded.exclusion)
        self.unassigned_of = {id(u.build): u.reason for u in plan.dispatch.unassigned}
        self._combos: dict[tuple[str, ...], dict[Combo, list[int]]] = {}
        self._labels: dict[tuple[str, Version], str] = {}
        self._reasons: dict[tuple, str] = {}
        self._candidate_cache: dict[tuple, dict[Combo, list[int]]] = {}

    def page(self) -> FleetPage:
        builds = [b for b in self.plan.builds if b.buildout is not None]
        return FleetPage(self._worker_rows(builds), self._groups(builds),
                         [Unassigned(u.build.name, u.build.file, u.build.line, u.reason)
                          for u in self.plan.dispatch.unassigned])

    # -- workers

    def _worker_rows(self, builds: Sequence[BuildSpec]) -> list[WorkerRow]:
        by_worker: dict[str, list[str]] = {}
        for builder in self.plan.dispatch.builders:
            for name in builder.workers:
                by_worker.setdefault(name, []).append(builder.name)
        hidden = _secret_options(self.plan.definitions)
        rows = []
        for worker in self.workers:
            state = self.live.workers.get(worker.name)
            row = WorkerRow(
                worker.name, worker.file, worker.line, _state_name(state),
                [CapabilityShown(d.name, None if d.version is None else str(d.version),
                                 _shown_options(d.name, d.options, hidden))
                 for d in worker.capabilities],
                sorted(worker.build_only_if_requires), worker.max_builds,
                worker.worker_priority, by_worker.get(worker.name, []))
            if not row.builders:
                row.idle_reason = self._idle_reason(worker, builds)
            rows.append(row)
        return rows

    def _idle_reason(self, worker: WorkerSpec, builds: Sequence[BuildSpec]) -> str:
        reserved = worker.build_only_if_requires
        if reserved:
            names = " ".join(sorted(reserved))
            if not any(reserved <= b.requirement_names() for b in builds):
                return (f"reserved (build-only-if-requires {names}) and no build requires "
                        f"{'it' if len(reserved) == 1 else 'all of them'}")
            return (f"reserved (build-only-if-requires {names}); the builds requiring "
                    f"{'it' if len(reserved) == 1 else 'them'} need what it does not have")
        if not worker.capabilities:
            return "declares no capability, and every build requires one"
        return "no build's requirements match its capabilities"

    # -- the matrix

    def _groups(self, builds: Sequence[BuildSpec]) -> list[MatrixGroup]:
        grouped: dict[tuple[str, ...], list[BuildSpec]] = {}
        for build in builds:
            grouped.setdefault(_axes(build), []).append(build)
        groups = []
        for axes, members in grouped.items():
            candidates = {id(b): self._candidates(b, axes) for b in members}
            keys: set[Combo] = set()
            for build in members:
                keys.update(candidates[id(build)])
                keys.update(self.builders_of.get(id(build), {}))
                keys.update(self.excluded_of.get(id(build), {}))
            if not axes:
                keys = {()}
            columns = [Column(key, self._label(key)) for key in sorted(keys, key=_sort_key)]
            rows = [self._row(build, columns, candidates[id(build)]) for build in members]
            groups.append(MatrixGroup(axes, columns, rows))
        return groups

    def _row(self, build: BuildSpec, columns: Sequence[Column],
             candidates: Mapping[Combo, list[int]]) -> Row:
        builders = self.builders_of.get(id(build), {})
        excluded = self.excluded_of.get(id(build), {})
        cells = []
        for column in columns:
            builder = builders.get(column.key)
            if builder is not None:
                cells.append(self._builder_cell(builder))
            elif column.key in excluded:
                cells.append(Cell("excluded", f"excluded by build-exclude: {excluded[column.key]}"))
            elif column.key in candidates:
                cells.append(Cell("no-worker", self._no_worker_reason(
                    build, column.key, candidates[column.key])))
            elif column.key == ():
                cells.append(Cell("no-worker", self.unassigned_of.get(id(build), "no builder")))
            else:
                cells.append(Cell("not-targeted", self._not_targeted_reason(build, column.key)))
        return Row(build.name, build.file, build.line, cells, self.unassigned_of.get(id(build)),
                   self.plan.watch.trigger_of(build.name))

    def _builder_cell(self, builder: BuilderPlan) -> Cell:
        return Cell("builder", builder=builder.name,
                    builderid=self.live.builder_ids.get(builder.name),
                    workers=tuple(builder.workers), last=self.live.last_builds.get(builder.name))

    def _candidates(self, build: BuildSpec, axes: tuple[str, ...]) -> dict[Combo, list[int]]:
        """Combinations some worker has whose versions the build's lines all accept."""
        if not axes:
            return {}
        cache_key = ("candidates", tuple(build.build_for), tuple(build.build_requires))
        if cache_key not in self._candidate_cache:
            filters = _axis_filters(build)
            self._candidate_cache[cache_key] = {
                combo: workers for combo, workers in self._worker_combos(axes).items()
                if all(all(f.match(version) for f in filters[name]) for name, version in combo)}
        return self._candidate_cache[cache_key]

    def _worker_combos(self, axes: tuple[str, ...]) -> dict[Combo, list[int]]:
        """Every combination of versions of ``axes`` one worker has, with those workers."""
        if axes not in self._combos:
            found: dict[Combo, list[int]] = {}
            for index, worker in enumerate(self.workers):
                per_axis = [sorted({d.version for d in worker.declarations(name)
                                    if d.version is not None}) for name in axes]
                for versions in itertools.product(*per_axis):
                    combo = tuple(zip(axes, versions, strict=True))
                    found.setdefault(combo, []).append(index)
                for decl in worker.capabilities:
                    if decl.version is not None:
                        self._labels.setdefault((decl.name, decl.version), str(decl.version))
            self._combos[axes] = found
        return self._combos[axes]

    def _label(self, key: Combo) -> str:
        if not key:
            return "not split"
        return " · ".join(f"{name} {self._labels.get((name, version), str(version))}"
                          for name, version in key)

    def _not_targeted_reason(self, build: BuildSpec, key: Combo) -> str:
        cache_key = ("not-targeted", tuple(build.build_for), tuple(build.build_requires), key)
        if cache_key not in self._reasons:
            self._reasons[cache_key] = _not_targeted(build, key)
        return self._reasons[cache_key]

    def _no_worker_reason(self, build: BuildSpec, key: Combo, having: Sequence[int]) -> str:
        """Workers have these versions, yet none may take the build: say which and why."""
        cache_key = ("no-worker", tuple(build.build_for), frozenset(build.build_requires), key)
        if cache_key in self._reasons:
            return self._reasons[cache_key]
        requirements = [f for f in (*build.build_for, *build.build_requires) if not f.not_used]
        names = frozenset(f.name for f in requirements)
        why = []
        for index in having:
            worker = self.workers[index]
            reason = _why_not_eligible(worker, requirements, names)
            if reason is not None:
                why.append(f"{worker.name} {reason}")
        if why:
            shown = "; ".join(why[:MAX_NAMED_WORKERS])
            if len(why) > MAX_NAMED_WORKERS:
                shown += f"; and {len(why) - MAX_NAMED_WORKERS} more"
            text = f"no eligible worker: {shown}"
        else:  # the plan decided otherwise (a limit of the dispatch): say what it said
            text = self.unassigned_of.get(id(build), "no builder made for this combination")
        self._reasons[cache_key] = text
        return text


def _combo(versions: Mapping[str, Version]) -> Combo:
    return tuple(sorted(versions.items()))


def _axes(build: BuildSpec) -> tuple[str, ...]:
    return tuple(sorted({f.name for f in build.build_for if not f.not_used}))


def _sort_key(key: Combo) -> tuple:
    return tuple(version for _, version in key)


def _axis_filters(build: BuildSpec) -> dict[str, list[VersionFilter]]:
    """Per split capability, the lines its versions must match (build-requires narrows)."""
    filters: dict[str, list[VersionFilter]] = {}
    for f in build.build_for:
        if not f.not_used:
            filters.setdefault(f.name, []).append(f)
    for r in build.build_requires:
        if r.name in filters:
            filters[r.name].append(r)
    return filters


def _not_targeted(build: BuildSpec, key: Combo) -> str:
    for name, version in key:
        for f in build.build_for:
            if f.name == name and not f.match(version):
                return f"not built: {name} {version} does not match build-for '{f}'"
        for r in build.build_requires:
            if r.name == name and not r.match(version):
                return f"not built: {name} {version} does not match build-requires '{r}'"
    return "not built for this combination"


def _why_not_eligible(worker: WorkerSpec, requirements: Iterable[VersionFilter],
                      names: frozenset[str]) -> str | None:
    missing_names = worker.build_only_if_requires - names
    if missing_names:
        return f"takes only builds requiring {' '.join(sorted(missing_names))}"
    for requirement in requirements:
        if not any(requirement.match(d.version) for d in worker.declarations(requirement.name)):
            return f"has no {requirement}"
    return None


def _state_name(state: WorkerState | None) -> str:
    if state is None:
        return "unknown"
    if not state.connected:
        return "disconnected"
    return "paused" if state.paused else "connected"


def _secret_options(definitions: Mapping[str, CapabilityDef]) -> dict[str, set[str]]:
    """Per capability, the options naming a secret (``password-secret``)."""
    hidden: dict[str, set[str]] = {}
    for name, definition in definitions.items():
        options = set(definition.secret_environ.values())
        options.update(f.option for f in definition.secret_files.values())
        hidden[name] = options
    return hidden


def _shown_options(capability: str, options: Mapping[str, str],
                   hidden: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    """Options as shown: those holding or naming a secret are masked, so is a URL's password.

    Holding: the names :func:`~buildbot_odoo.config.values.is_secret_key`
    recognises (``token``, ``db_pass``...); naming: ``*-secret`` and the options a
    capability definition reads a secret's name from.
    """
    secret = hidden.get(capability, set())
    return [(key, HIDDEN_VALUE if key in secret or is_secret_key(key)
             or key.lower().endswith(SECRET_SUFFIX)
             else hide_url_passwords(value, HIDDEN_VALUE))
            for key, value in options.items()]
