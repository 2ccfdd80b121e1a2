"""Pollers and schedulers for a plan (SPEC 7): the thin edge of :mod:`buildbot_odoo.watching.plan`.

* one Buildbot ``GitPoller`` / ``HgPoller`` per polled branch, named after it
  (Buildbot keeps a poller's last seen revision under its name, so names
  must not change between reconfigs) with a working directory of its own;
  ``pollAtLaunch``: a (re)started master catches up at once;
* one ``SingleBranchScheduler`` per build with builders and watches, over
  all the build's builders, with a :class:`WatchedBranchesFilter` matching
  exactly its ``(repository, branch)`` pairs: one tree-stable timer per build,
  so a burst of commits over its repositories gives one build;
* the force scheduler ``force`` over every builder, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from buildbot.changes.filter import ChangeFilter
from buildbot.plugins import changes, schedulers, util

from ..errors import ConfigError, Problem
from ..watching.plan import MASTER_CFG, BuildWatch, PolledBranch, WatchPlan
from .subfactories.retrieval import forced_properties

FORCE_SCHEDULER = "force"
DEFAULT_POLL_INTERVAL = 300
POLL_INTERVAL_OPTION = "poll_interval"
MAX_POLL_INTERVAL = 7 * 24 * 3600


class WatchedBranchesFilter(ChangeFilter):
    """Accepts a change when its ``(repository, branch)`` is one of ``pairs``.

    ``ChangeFilter(repository=[...], branch=[...])`` would accept any branch of
    any of the repositories; a build watching ``a@main`` and ``b@17.0`` must
    not be built for ``a@17.0``.  Compared by value, so a reconfig with the
    same watches leaves the scheduler (and its running stable timer) alone.
    """

    compare_attrs: ClassVar = ("pairs",)

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        super().__init__()
        self.pairs = frozenset(pairs)

    def filter_change(self, change) -> bool:
        return (change.repository, change.branch) in self.pairs

    def __repr__(self) -> str:
        shown = ", ".join(f"{r} {b}" for r, b in sorted(self.pairs))
        return f"<{self.__class__.__name__} on {shown}>"


def watched_branches_filter(branches: Iterable[PolledBranch]) -> WatchedBranchesFilter:
    return WatchedBranchesFilter(b.repository for b in branches)


def force_scheduler(builder_names: list[str],
                    properties: Iterable[str] = ()) -> schedulers.ForceScheduler:
    """One force scheduler for all builders, asking why the build is forced.

    ``properties``: build properties some builders need to be given (the tag of
    an hgtag buildout, the names of an archive), offered as optional fields.
    """
    return schedulers.ForceScheduler(
        name=FORCE_SCHEDULER, builderNames=builder_names,
        reason=util.StringParameter(name="reason", label="Reason:", default="forced",
                                    size=40),
        properties=[util.StringParameter(name=name, label=f"{name}:", default="", size=40)
                    for name in properties])


def make_poller(branch: PolledBranch, poll_interval: int):
    """Buildbot's own poller for one branch; ``repository`` of its changes is ``branch.url``."""
    common = {"name": branch.name, "workdir": branch.workdir, "pollInterval": poll_interval,
              "pollAtLaunch": True, "project": branch.project}
    if branch.vcs == "git":
        return changes.GitPoller(repourl=branch.url, branches=[branch.branch], **common)
    if branch.vcs == "hg":
        return changes.HgPoller(repourl=branch.url, branches=[branch.branch], **common)
    raise ValueError(f"no poller for {branch.vcs!r}")  # the model only plans git and hg


def make_build_scheduler(schedule: BuildWatch) -> schedulers.SingleBranchScheduler:
    return schedulers.SingleBranchScheduler(
        name=schedule.scheduler_name, builderNames=list(schedule.builder_names),
        change_filter=watched_branches_filter(schedule.branches),
        treeStableTimer=schedule.tree_stable_timer,
        reason=f"a branch watched by {schedule.build} changed")


def check_poll_interval(value: object) -> int:
    """The configurator's ``poll_interval``: whole seconds, from 1 to a week."""
    if isinstance(value, bool) or not isinstance(value, int) or not (
            1 <= value <= MAX_POLL_INTERVAL):
        raise ConfigError([Problem(f"{value!r} is not a number of seconds (a whole number, "
                                   f"from 1 to {MAX_POLL_INTERVAL})", file=MASTER_CFG,
                                   option=POLL_INTERVAL_OPTION)])
    return value


def make_pollers(watch: WatchPlan, poll_interval: int) -> list:
    interval = check_poll_interval(poll_interval)
    return [make_poller(branch, interval) for branch in watch.pollers]


def make_scheduling(configurator, plan) -> tuple[list, list]:
    """``(schedulers, change sources)`` for the plan's builders and watches."""
    pollers = make_pollers(plan.watch, getattr(configurator, "poll_interval",
                                               DEFAULT_POLL_INTERVAL))
    names = [builder.name for builder in plan.dispatch.builders]
    made = [make_build_scheduler(s) for s in plan.watch.schedules]
    if names:
        needed = [prop for builder in plan.dispatch.builders if builder.build.buildout
                  for prop in forced_properties(builder.build.buildout)]
        made.append(force_scheduler(names, dict.fromkeys(needed)))
    return made, pollers
