"""What every subfactory receives (SPEC 6).

A subfactory is a callable ``(configurator, options, buildout_path, environ) ->
[steps]``; it may carry ``final_cleanup_steps(configurator, options, environ) ->
[steps]``, run at the end of every build whatever happened before.

It is called once per *build*: the build's builders (one per version
combination) share the factory it contributes to, as Buildbot intends (one
factory, many builders), and what differs between them reaches the steps as
builder properties at build time (``buildername``, the version properties
such as ``pg_version``).  ``options.plan`` is therefore the build's view of
its builders, :class:`BuildPlanView`.  A subfactory written when it was one
builder's plan, reading ``options.plan.name`` (or ``workers``, ``versions``,
``properties``) while it makes its steps, still gets what it expects: the
assembly notices the read and makes that build one factory per builder, each
with the builder's own plan (slower to load; a warning says which function
read what).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ...capability.dispatch import BuildBuilders, BuilderPlan
from ...config.manifest import BuildSpec

#: what one builder of a build has that its siblings do not
PER_BUILDER_ATTRIBUTES = ("name", "workers", "versions", "properties")


class BuildPlanView:
    """``options.plan`` for a factory shared by the build's builders.

    Gives what holds for all of them: ``build``, ``not_used``, ``tags``,
    ``used_capabilities()``, the capabilities that split the build
    (``split_by``), and ``builders``, the list of their own plans.  Reading a
    per-builder attribute (``name``, ``workers``, ``versions``,
    ``properties``) answers for the first builder and is recorded in
    :attr:`per_builder_reads`, so that the assembly can give each builder a
    factory of its own (see the module's doc).
    """

    def __init__(self, group: BuildBuilders):
        self.group = group
        #: (attribute, function that read it) for each per-builder attribute read
        self.per_builder_reads: list[tuple[str, str]] = []

    @property
    def build(self) -> BuildSpec:
        return self.group.build

    @property
    def builders(self) -> list[BuilderPlan]:
        return self.group.builders

    @property
    def not_used(self) -> frozenset[str]:
        return self.group.not_used

    @property
    def tags(self) -> list[str]:
        return self.group.tags

    @property
    def split_by(self) -> list[str]:
        return self.group.split_by

    def used_capabilities(self) -> list[str]:
        return self.group.used_capabilities()

    def _per_builder(self, attribute: str) -> Any:
        caller = sys._getframe(2).f_code
        self.per_builder_reads.append(
            (attribute, f"{caller.co_qualname} ({caller.co_filename}:{caller.co_firstlineno})"))
        return getattr(self.group.builders[0], attribute)

    @property
    def name(self) -> str:
        return self._per_builder("name")

    @property
    def workers(self) -> list[str]:
        return self._per_builder("workers")

    @property
    def versions(self) -> dict:
        return self._per_builder("versions")

    @property
    def properties(self) -> dict[str, str]:
        return self._per_builder("properties")

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.build.name}: "
                f"{', '.join(b.name for b in self.builders)}>")


class BuildOptions(dict):
    """The build's manifest options (raw text, inheritance applied), plus parsed views.

    It is a plain ``dict`` of strings so user subfactories read it like the
    manifest they wrote; ``build`` gives the validated model and ``plan`` the
    build's builders: a :class:`BuildPlanView` when the factory is shared
    (the rule), a builder's own :class:`BuilderPlan` when each builder gets
    its own (a subfactory read a per-builder value, see the module's doc).
    """

    def __init__(self, plan: BuilderPlan | BuildPlanView):
        super().__init__(plan.build.options)
        self.plan = plan

    @property
    def build(self) -> BuildSpec:
        return self.plan.build

    def subfactory(self, prefix: str) -> dict[str, str]:
        return self.build.subfactory_options(prefix)


SubFactory = Callable[[Any, BuildOptions, str, Any], list]
