"""Build-time resolution of a capability on the worker that runs the build.

The master knows only at build time which worker got the build; this module
turns that worker's ``capability`` property into the version and options the
build must use, or explains why it cannot (SPEC 4).  Plain data in, plain data
out, so the step at the edge stays thin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .versions import InvalidVersion, Version, VersionFilter


class CapabilityResolutionError(ValueError):
    """The worker cannot serve the capability as the builder needs it."""


@dataclass(frozen=True)
class CapabilityUse:
    """How a builder uses a capability: a fixed version (build-for) or a requirement.

    ``from_builder``: the build is split by the capability and the version is
    the builder's own, known when a build runs (a factory shared by the
    build's builders); :meth:`with_version` fixes it before :func:`resolve`.
    """

    name: str
    version: Version | None = None
    requirement: VersionFilter | None = None
    from_builder: bool = False

    def with_version(self, version: Version) -> CapabilityUse:
        """This use, for the builder targeting ``version``.

        >>> use = CapabilityUse('postgresql', from_builder=True).with_version(Version('15'))
        >>> use.version, use.from_builder
        (<Version('15')>, False)
        """
        return replace(self, version=version, from_builder=False)


@dataclass
class Resolved:
    name: str
    version: str | None
    options: dict[str, str] = field(default_factory=dict)


def resolve(worker_capabilities: Mapping | None, use: CapabilityUse,
            worker_name: str = "this worker") -> Resolved:
    """Pick the declaration of ``use.name`` on the worker; fail clearly when ambiguous.

    >>> caps = {'postgresql': {'15': {'port': '5433'}, '18': {'port': '5434'}}}
    >>> resolve(caps, CapabilityUse('postgresql', Version('18'))).options
    {'port': '5434'}
    """
    if use.from_builder:
        raise ValueError(f"{use.name}: the builder's version must be fixed first (with_version)")
    declared = dict((worker_capabilities or {}).get(use.name) or {})
    if not declared:
        raise CapabilityResolutionError(f"{worker_name} does not declare capability {use.name!r}")
    parsed = [(_version(key), key, options or {}) for key, options in declared.items()]
    if use.version is not None:
        matches = [p for p in parsed if p[0] == use.version]
        wanted = f"version {use.version}"
    else:
        requirement = use.requirement or VersionFilter(use.name)
        matches = [p for p in parsed if requirement.match(p[0])]
        wanted = f"a version matching {requirement}"
    if not matches:
        found = ", ".join(sorted(str(k) for k in declared)) or "none"
        raise CapabilityResolutionError(
            f"{worker_name} has no {use.name} {wanted} (declared: {found})")
    if len(matches) > 1:
        found = ", ".join(str(key) for _, key, _ in matches)
        raise CapabilityResolutionError(
            f"{worker_name} has several {use.name} versions matching ({found}) and the build "
            f"is not split by {use.name}: add a build-for line or narrow the requirement")
    _, key, options = matches[0]
    return Resolved(use.name, None if key in (None, "null") else str(key), dict(options))


def _version(key: object) -> Version | None:
    if key is None or key == "null":  # JSON turns a None key into "null"
        return None
    try:
        return Version(str(key))
    except InvalidVersion:
        return None
