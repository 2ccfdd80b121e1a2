"""Schedulers and pollers for the builders of a plan (SPEC 7).

A force scheduler over every builder lets users (and the demo) start any
build by hand, with a reason, from the web UI or the REST API.
"""

from __future__ import annotations

from buildbot.plugins import schedulers, util

FORCE_SCHEDULER = "force"


def force_scheduler(builder_names: list[str]) -> schedulers.ForceScheduler:
    """One force scheduler for all builders, asking why the build is forced."""
    return schedulers.ForceScheduler(
        name=FORCE_SCHEDULER, builderNames=builder_names,
        reason=util.StringParameter(name="reason", label="Reason:", default="forced",
                                    size=40))


def make_scheduling(configurator, plan) -> tuple[list, list]:
    """``(schedulers, change sources)`` for the plan's builders."""
    names = [builder.name for builder in plan.dispatch.builders]
    if not names:
        return [], []
    return [force_scheduler(names)], []
