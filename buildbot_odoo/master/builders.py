"""BuilderPlan -> ``BuilderConfig``, and the worker choice by ``worker_priority``."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from buildbot.config import BuilderConfig
from buildbot.process.factory import BuildFactory

from ..capability.dispatch import BuilderPlan


class PriorityNextWorker:
    """Buildbot ``nextWorker``: the idle eligible worker of highest priority wins.

    Ties are broken at random, as Buildbot itself does by default, so equal
    workers share the load.
    """

    def __init__(self, priorities: Mapping[str, float], rng: random.Random | None = None):
        self.priorities = dict(priorities)
        self.rng = rng or random.Random()

    def __call__(self, builder, workers, buildrequest):
        if not workers:
            return None
        best = max(self._priority(wfb) for wfb in workers)
        top = [wfb for wfb in workers if self._priority(wfb) == best]
        return self.rng.choice(top)

    def _priority(self, wfb) -> float:
        return self.priorities.get(wfb.worker.workername, 0.0)


#: the builder property listing the build's requirement lines, as anybox.buildbot.odoo set it
BUILD_REQUIRES_PROPERTY = "build_requires"


def builder_properties(plan: BuilderPlan,
                       requires: list[str] | None = None) -> dict[str, object]:
    """The version properties, and ``build_requires`` (the requirement lines) when the
    build has some: users' own steps of anybox.buildbot.odoo's time read it.

    ``requires``: those lines as text, when the caller made them once for the build."""
    properties: dict[str, object] = dict(plan.properties)
    if plan.build.build_requires:
        properties[BUILD_REQUIRES_PROPERTY] = list(
            requires if requires is not None else (str(r) for r in plan.build.build_requires))
    return properties


def make_builder(plan: BuilderPlan, factory: BuildFactory,
                 next_worker: Callable | None = None, *, tags: list[str] | None = None,
                 requires: list[str] | None = None) -> BuilderConfig:
    """``tags`` and ``requires`` (the build's, as text) may be given when made once for
    the build's builders."""
    tags = plan.tags if tags is None else tags
    return BuilderConfig(
        name=plan.name,
        workernames=list(plan.workers),
        factory=factory,
        tags=list(tags) or None,
        properties=builder_properties(plan, requires),
        nextWorker=next_worker,
        description=f"{plan.build.name} on {', '.join(plan.workers)}",
    )


def make_builders(made: list[tuple[BuilderPlan, BuildFactory]],
                  next_worker: Callable | None = None) -> list[BuilderConfig]:
    """The ``BuilderConfig`` of each builder of one build, with its factory: what they
    share (tags, requirement lines) is worked out once."""
    if not made:
        return []
    build = made[0][0].build
    tags = build.tags
    requires = [str(r) for r in build.build_requires]
    return [make_builder(plan, factory, next_worker, tags=tags, requires=requires)
            for plan, factory in made]
