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


def builder_properties(plan: BuilderPlan) -> dict[str, object]:
    """The version properties, and ``build_requires`` (the requirement lines) when the
    build has some: users' own steps of anybox.buildbot.odoo's time read it."""
    properties: dict[str, object] = dict(plan.properties)
    if plan.build.build_requires:
        properties[BUILD_REQUIRES_PROPERTY] = [str(r) for r in plan.build.build_requires]
    return properties


def make_builder(plan: BuilderPlan, factory: BuildFactory,
                 next_worker: Callable | None = None) -> BuilderConfig:
    return BuilderConfig(
        name=plan.name,
        workernames=list(plan.workers),
        factory=factory,
        tags=plan.tags or None,
        properties=builder_properties(plan),
        nextWorker=next_worker,
        description=f"{plan.build.name} on {', '.join(plan.workers)}",
    )
