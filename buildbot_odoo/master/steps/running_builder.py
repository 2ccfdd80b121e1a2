"""What a build learns from the builder running it: its name and its own properties.

A build's builders share one factory (:mod:`..factory`), so a step knows
which builder it serves only when a build runs.  Buildbot gives the builder's
name and properties to the build as the properties ``buildername``,
``pg_version``...; but the properties of the worker come after them and
replace any of the same name (a ``workers.cfg`` option is a worker
property).  What decides which database a build drops, or which PostgreSQL
it uses, must not be a worker's to change: it is read here from the builder
object itself, and the build properties are only a fall-back where no
builder is known (rendering outside a build, as the unit tests do).
"""

from __future__ import annotations

from buildbot.interfaces import IRenderable
from zope.interface import implementer

BUILDERNAME_PROPERTY = "buildername"


def _builder(build):
    return getattr(build, "builder", None) if build is not None else None


def builder_name(props) -> str | None:
    """The name of the builder running the build ``props`` belong to."""
    name = getattr(_builder(props.getBuild()), "name", None)
    if isinstance(name, str):
        return name
    value = props.getProperty(BUILDERNAME_PROPERTY)
    return None if value is None else str(value)


def builder_property(props, name: str) -> object:
    """The builder's own value of the property ``name`` (its ``BuilderConfig``), or None."""
    config = getattr(_builder(props.getBuild()), "config", None)
    own = getattr(config, "properties", None)
    if isinstance(own, dict):
        return own.get(name)
    return props.getProperty(name)


@implementer(IRenderable)
class BuilderName:
    """The running builder's name, rendered at build time (see the module's doc),
    between ``prefix`` and ``suffix`` (a path or a URL made of it)."""

    def __init__(self, prefix: str = "", suffix: str = ""):
        self.prefix = prefix
        self.suffix = suffix

    def getRenderingFor(self, props):
        name = builder_name(props)
        if not name:
            raise ValueError("no builder is running this build: its name is unknown")
        return f"{self.prefix}{name}{self.suffix}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BuilderName):
            return NotImplemented
        return (self.prefix, self.suffix) == (other.prefix, other.suffix)

    def __hash__(self) -> int:
        return hash((self.prefix, self.suffix))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.prefix!r}, {self.suffix!r})"
