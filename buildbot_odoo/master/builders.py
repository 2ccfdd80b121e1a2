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


def make_builder(plan: BuilderPlan, factory: BuildFactory,
                 next_worker: Callable | None = None) -> BuilderConfig:
    return BuilderConfig(
        name=plan.name,
        workernames=list(plan.workers),
        factory=factory,
        tags=plan.tags or None,
        properties=dict(plan.properties),
        nextWorker=next_worker,
        description=f"{plan.build.name} on {', '.join(plan.workers)}",
    )
