"""Dispatch: which workers take which build, and how builds demultiply into builders.

Plain Python on plain data.  Builds sharing the same requirements (the usual
case: dozens of builds "for postgresql >= 12") are dispatched once and the
result reused, so the cost grows with the number of *distinct* requirement
sets times the fleet, not builds times workers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..config.manifest import BuildSpec
from ..config.workers import CapabilityDecl, WorkerSpec
from .definitions import CapabilityDef, default_definition
from .exclusions import Exclusion, first_match
from .versions import Version, VersionFilter

NOT_USED = "not-used"
#: builders one build may make: past it, the cross product of its build-for lines
#: is refused before it is enumerated (six lines of ten versions are a million)
MAX_BUILDERS_PER_BUILD = 1000


@dataclass
class BuilderPlan:
    """One Buildbot builder to make: a build for one combination of versions."""

    name: str
    build: BuildSpec
    workers: list[str]
    versions: dict[str, Version] = field(default_factory=dict)  # build-for capability -> version
    properties: dict[str, str] = field(default_factory=dict)    # e.g. {'pg_version': '15'}
    not_used: frozenset[str] = frozenset()

    @property
    def tags(self) -> list[str]:
        return self.build.tags

    def used_capabilities(self) -> list[str]:
        """Capabilities whose options and environment apply to this builder's builds."""
        names = [f.name for f in (*self.build.build_for, *self.build.build_requires)]
        return [n for n in dict.fromkeys(names) if n not in self.not_used]


@dataclass
class BuildBuilders:
    """A build's builders, one per version combination: what one shared factory serves.

    Everything here is the same for each of them (the build, what it does
    without, the capabilities it uses, which of them split it); what differs
    -- name, workers, versions -- is each builder's own, given to its builds
    as builder properties.
    """

    build: BuildSpec
    builders: list[BuilderPlan]

    @property
    def not_used(self) -> frozenset[str]:
        return self.builders[0].not_used

    @property
    def tags(self) -> list[str]:
        return self.build.tags

    def used_capabilities(self) -> list[str]:
        return self.builders[0].used_capabilities()

    @property
    def split_by(self) -> list[str]:
        """The capabilities whose version is each builder's own (build-for lines)."""
        return list(self.builders[0].versions)


@dataclass
class Unassigned:
    build: BuildSpec
    reason: str
    #: an error of the build's build-for (too many builders), not a fact of the fleet
    refused: bool = False


@dataclass
class Excluded:
    """A builder the build-for product would make, left out by a build-exclude line."""

    name: str
    build: BuildSpec
    versions: dict[str, Version]
    exclusion: Exclusion
    workers: list[str]


@dataclass
class DispatchResult:
    builders: list[BuilderPlan]
    unassigned: list[Unassigned]
    excluded: list[Excluded] = field(default_factory=list)

    def by_build(self) -> list[BuildBuilders]:
        """The builders grouped by build, in the order of :attr:`builders`.

        >>> from ..config.manifest import BuildSpec
        >>> sale, stock = BuildSpec('sale', 'M.cfg', 1), BuildSpec('stock', 'M.cfg', 4)
        >>> result = DispatchResult([BuilderPlan('sale-pg15', sale, ['w1']),
        ...     BuilderPlan('sale-pg16', sale, ['w2']), BuilderPlan('stock', stock, ['w1'])], [])
        >>> [(g.build.name, [b.name for b in g.builders]) for g in result.by_build()]
        [('sale', ['sale-pg15', 'sale-pg16']), ('stock', ['stock'])]
        """
        groups: dict[str, BuildBuilders] = {}  # build names are unique across manifests
        for builder in self.builders:
            group = groups.get(builder.build.name)
            if group is None:
                groups[builder.build.name] = BuildBuilders(builder.build, [builder])
            else:
                group.builders.append(builder)
        return list(groups.values())


@dataclass(frozen=True)
class _Variant:
    suffix: str
    properties: dict[str, str]
    versions: dict[str, Version]
    workers: tuple[str, ...]
    not_used: frozenset[str]


@dataclass(frozen=True)
class _Refusal:
    reason: str


class Dispatcher:
    """Matches builds against a fleet; see :func:`dispatch`."""

    def __init__(self, workers: Sequence[WorkerSpec], definitions: Mapping[str, CapabilityDef]):
        self.workers = list(workers)
        self.definitions = definitions
        self._by_capability: dict[str, set[int]] = {}
        #: per worker, its declarations by capability name
        self._declared: list[dict[str, list[CapabilityDecl]]] = []
        #: capability -> version -> the workers declaring it, each with the form it wrote
        self._holders: dict[str, dict[Version, dict[int, str]]] = {}
        for index, worker in enumerate(self.workers):
            declared: dict[str, list[CapabilityDecl]] = {}
            for decl in worker.capabilities:
                self._by_capability.setdefault(decl.name, set()).add(index)
                declared.setdefault(decl.name, []).append(decl)
                if decl.version is not None:
                    self._holders.setdefault(decl.name, {}).setdefault(
                        decl.version, {})[index] = str(decl.version)
            self._declared.append(declared)
        self._cache: dict[tuple, list[_Variant] | str | _Refusal] = {}
        self._meeting_cache: dict[VersionFilter, set[int]] = {}

    def definition(self, name: str) -> CapabilityDef:
        return self.definitions.get(name) or default_definition(name)

    def dispatch(self, builds: Iterable[BuildSpec]) -> DispatchResult:
        result = DispatchResult([], [])
        for build in builds:
            if build.buildout is None:
                continue  # a watch-only section
            variants = self._variants(build)
            if isinstance(variants, _Refusal):
                result.unassigned.append(Unassigned(build, variants.reason, refused=True))
                continue
            if isinstance(variants, str):
                result.unassigned.append(Unassigned(build, variants))
                continue
            variants = self._without_excluded(build, variants, result)
            for v in variants:
                result.builders.append(BuilderPlan(
                    build.name + v.suffix, build, list(v.workers), dict(v.versions),
                    dict(v.properties), v.not_used))
        return result

    @staticmethod
    def _without_excluded(build: BuildSpec, variants: list[_Variant],
                          result: DispatchResult) -> list[_Variant]:
        """Drop the combinations a build-exclude line matches (recorded in ``result.excluded``);
        a build whose every combination is excluded is unassigned."""
        if not build.build_exclude:
            return variants
        kept = []
        for v in variants:
            exclusion = first_match(build.build_exclude, v.versions)
            if exclusion is None:
                kept.append(v)
            else:
                result.excluded.append(Excluded(build.name + v.suffix, build, dict(v.versions),
                                                exclusion, list(v.workers)))
        if not kept:
            result.unassigned.append(Unassigned(
                build, "build-exclude excludes every combination the fleet offers: "
                + ", ".join(build.name + v.suffix for v in variants)))
        return kept

    def _variants(self, build: BuildSpec) -> list[_Variant] | str | _Refusal:
        key = (tuple(build.build_for), frozenset(build.build_requires))
        if key not in self._cache:
            self._cache[key] = self._compute(build.build_for, build.build_requires)
        return self._cache[key]

    def _compute(self, build_for: Sequence[VersionFilter],
                 requires: Iterable[VersionFilter]) -> list[_Variant] | str | _Refusal:
        requires = list(requires)
        splitting = [f for f in build_for if not f.not_used]
        not_used = frozenset(f.name for f in build_for if f.not_used)
        filters = [*splitting, *requires]
        # what the build requires, for build-only-if-requires: a capability the build
        # says it does without (not-used) is the opposite of a requirement
        names = frozenset(f.name for f in filters)
        eligible = self._eligible(filters, names)
        if not eligible:
            return self._why_none(filters, names)
        # a build-requires line on a build-for capability narrows the versions split by
        axes = [self._versions([f, *(r for r in requires if r.name == f.name)], eligible)
                for f in splitting]
        size = math.prod(len(axis) for axis in axes)
        if size > MAX_BUILDERS_PER_BUILD:
            sizes = " x ".join(str(len(axis)) for axis in axes)
            return _Refusal(f"would make {size} builders ({sizes} versions), more than the "
                            f"limit of {MAX_BUILDERS_PER_BUILD} per build: narrow the "
                            "build-for lines with version criteria, or split the build")
        variants = []
        among = set(eligible)
        for combo in itertools.product(*axes):
            holders = [self._holders[f.name][v].keys()
                       for f, (v, _) in zip(splitting, combo, strict=True)]
            workers = sorted(among.intersection(*holders))
            if workers:
                variants.append(self._variant(splitting, combo, workers, not_used))
        return variants or self._why_no_variant(splitting, axes)

    def _variant(self, splitting, combo, workers, not_used) -> _Variant:
        suffix, props, versions = "", {}, {}
        for f, (version, written) in zip(splitting, combo, strict=True):
            definition = self.definition(f.name)
            suffix += f"-{definition.abbrev}{written}"
            props[definition.version_prop] = written
            versions[f.name] = version
        for name in sorted(not_used):
            props[self.definition(name).version_prop] = NOT_USED
        return _Variant(suffix, props, versions,
                        tuple(self.workers[i].name for i in workers), not_used)

    def _eligible(self, filters: Sequence[VersionFilter], names: frozenset[str]) -> list[int]:
        if filters:
            candidates = set.intersection(*(self._meeting(f) for f in filters))
        else:
            candidates = set(range(len(self.workers)))
        return sorted(i for i in candidates if self.workers[i].build_only_if_requires <= names)

    def _meeting(self, requirement: VersionFilter) -> set[int]:
        """The workers meeting ``requirement``, worked out once per distinct requirement
        from the versions declared (each matched once), not per worker."""
        found = self._meeting_cache.get(requirement)
        if found is None:
            found = set()
            for version, holders in self._holders.get(requirement.name, {}).items():
                if requirement.match(version):
                    found.update(holders)
            if requirement.match(None):  # a bare requirement: version-less declarations too
                found.update(i for i in self._by_capability.get(requirement.name, ())
                             if any(d.version is None
                                    for d in self._declared[i][requirement.name]))
            self._meeting_cache[requirement] = found
        return found

    def _meets(self, index: int, requirement: VersionFilter) -> bool:
        return any(requirement.match(d.version)
                   for d in self._declared[index].get(requirement.name, ()))

    def _versions(self, requirements: Sequence[VersionFilter],
                  eligible: Iterable[int]) -> list[tuple[Version, str]]:
        """Distinct versions matching every requirement (all on one capability), ascending,
        each with the form used in names.

        Each version is looked at once, with the workers declaring it: the cost grows
        with the fleet's declarations, not with versions times workers.
        """
        among = set(eligible)
        found = []
        for version, holders in self._holders.get(requirements[0].name, {}).items():
            if not all(r.match(version) for r in requirements):
                continue
            forms = {holders[i] for i in among.intersection(holders)}
            if forms:
                found.append((version, min(forms, key=lambda s: (len(s), s))))
        return sorted(found)

    @staticmethod
    def _why_no_variant(splitting: Sequence[VersionFilter],
                        axes: Sequence[list[tuple[Version, str]]]) -> str:
        """Workers meet every line, yet no builder: versions are missing or never together.

        A version-less declaration meets a bare requirement, but a build-for line
        splits by versions, so it gives nothing to split by.
        """
        unversioned = [str(f) for f, axis in zip(splitting, axes, strict=True) if not axis]
        if unversioned:
            return ("build-for splits by version, and the workers meeting its requirements "
                    "declare no version matching: " + "; ".join(unversioned))
        return ("no single worker has a combination of the versions matching: "
                + "; ".join(str(f) for f in splitting))

    def _why_none(self, filters: Sequence[VersionFilter], names: frozenset[str]) -> str:
        for f in filters:
            if not any(self._meets(i, f) for i in self._by_capability.get(f.name, ())):
                return f"no worker has {f}"
        reserved = [w.name for i, w in enumerate(self.workers)
                    if not w.build_only_if_requires <= names
                    and all(self._meets(i, f) for f in filters)]
        if reserved:
            return ("the only workers meeting its requirements take only builds requiring "
                    f"their build-only-if-requires: {', '.join(reserved)}")
        if filters:
            return "no single worker meets all of: " + "; ".join(str(f) for f in filters)
        return "no worker is declared"


def dispatch(builds: Iterable[BuildSpec], workers: Sequence[WorkerSpec],
             definitions: Mapping[str, CapabilityDef]) -> DispatchResult:
    """Builders to make for ``builds`` on the fleet ``workers``, and the builds left out."""
    return Dispatcher(workers, definitions).dispatch(builds)
