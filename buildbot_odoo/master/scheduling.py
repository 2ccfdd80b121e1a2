"""Pollers and schedulers for a plan (SPEC 7): the thin edge of :mod:`buildbot_odoo.watching.plan`.

* one Buildbot ``GitPoller`` / ``HgPoller`` (our ``BzrPoller`` for Bazaar) per
  polled branch, named after it
  (Buildbot keeps a poller's last seen revision under its name, so names
  must not change between reconfigs) with a working directory of its own;
  ``pollAtLaunch``: a (re)started master catches up at once;
* one ``SingleBranchScheduler`` per build with builders and watches, over
  all the build's builders, with a :class:`WatchedBranchesFilter` matching
  exactly its ``(repository, branch)`` pairs, whatever spelling of the
  repository a poller or a push hook gives (:mod:`buildbot_odoo.watching.matching`):
  one tree-stable timer per build, so a burst of commits over its
  repositories gives one build;
* no poller for the branches a forge's push hook brings (``conf.change_hooks``,
  :mod:`.hooks`): one change per commit, one build;
* the force scheduler ``buildbot-odoo-force`` over every builder, with a reason
  (named after the project so that a master.cfg's own ``force`` scheduler, as
  anybox.buildbot.odoo's sample master.cfg defines, does not collide with it).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import ClassVar

from buildbot.changes.filter import ChangeFilter
from buildbot.plugins import changes, schedulers, util

from ..errors import ConfigError, Problem
from ..watching.matching import ChangeMatch
from ..watching.plan import MASTER_CFG, BuildWatch, PolledBranch, WatchPlan
from .bzr_poller import BzrPoller
from .subfactories.retrieval import forced_properties

FORCE_SCHEDULER = "buildbot-odoo-force"
DEFAULT_POLL_INTERVAL = 300
#: a poll interval meaning: no poller for this repository (anybox.buildbot.odoo's convention)
NO_POLLING = -1
POLL_INTERVAL_OPTION = "poll_interval"
MAX_POLL_INTERVAL = 7 * 24 * 3600


class WatchedBranchesFilter(ChangeFilter):
    """Accepts a change when :class:`ChangeMatch` says its repository and branch are watched.

    ``ChangeFilter(repository=[...], branch=[...])`` would accept any branch of
    any of the repositories, and only the exact spelling of each; a build
    watching ``a@main`` and ``b@17.0`` must not be built for ``a@17.0``, and
    must be built when GitHub's hook names ``a`` by its web page.  Compared by
    value, so a reconfig with the same watches leaves the scheduler (and its
    running stable timer) alone.
    """

    compare_attrs: ClassVar = ("match",)

    def __init__(self, match: ChangeMatch | Iterable[tuple[str, str]]):
        super().__init__()
        if not isinstance(match, ChangeMatch):  # (repository URL, branch) pairs
            match = ChangeMatch.of((url, url, branch) for url, branch in match)
        self.match = match

    def filter_change(self, change) -> bool:
        return self.match.accepts(change.repository, change.branch,
                                  getattr(change, "category", None))

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} on {self.match.describe()}>"


def watched_branches_filter(branches: Iterable[PolledBranch] | ChangeMatch
                            ) -> WatchedBranchesFilter:
    if isinstance(branches, ChangeMatch):
        return WatchedBranchesFilter(branches)
    return WatchedBranchesFilter(b.repository for b in branches)


def force_scheduler(builder_names: list[str],
                    properties: Iterable[str] = ()) -> schedulers.ForceScheduler:
    """One force scheduler for all builders, asking why the build is forced.

    ``properties``: build properties some builders need to be given (the tag of
    an hgtag buildout, the names of an archive), offered as optional fields.
    """
    return schedulers.ForceScheduler(
        name=FORCE_SCHEDULER, builderNames=builder_names, buttonName="Force",
        label="Force a build",
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
    if branch.vcs == "bzr":
        return BzrPoller(repourl=branch.url, **common)
    raise ValueError(f"no poller for {branch.vcs!r}")  # the model plans git, hg and bzr


def make_build_scheduler(schedule: BuildWatch, match: ChangeMatch | None = None
                         ) -> schedulers.SingleBranchScheduler:
    """``match``: the build's (:meth:`WatchPlan.match_of`); by default its branches as
    polled, in their exact spelling."""
    return schedulers.SingleBranchScheduler(
        name=schedule.scheduler_name, builderNames=list(schedule.builder_names),
        change_filter=watched_branches_filter(match or schedule.branches),
        treeStableTimer=schedule.tree_stable_timer,
        reason=f"a branch watched by {schedule.build} changed")


def check_poll_interval(value: object, repository: str = "") -> int:
    """The configurator's ``poll_interval``: whole seconds, from 1 to a week, or -1
    (no polling)."""
    if isinstance(value, bool) or not isinstance(value, int) or not (
            1 <= value <= MAX_POLL_INTERVAL or value == NO_POLLING):
        given = f" for {repository}" if repository else ""
        raise ConfigError([Problem(f"{value!r}{given} is not a number of seconds (a whole "
                                   f"number, from 1 to {MAX_POLL_INTERVAL}; {NO_POLLING}: no "
                                   "polling)", file=MASTER_CFG, option=POLL_INTERVAL_OPTION)])
    return value


def poll_intervals(watch: WatchPlan, poll_interval: object) -> dict[PolledBranch, int]:
    """Each polled branch's interval.

    ``poll_interval`` is a number of seconds for all, or, as in
    anybox.buildbot.odoo, a callable asked once per repository with the
    keyword arguments ``vcs``, ``url`` (as polled) and ``minor_specs`` (the
    watched branches, as 1-tuples); a callable taking other parameter names
    gets the same three values by position.  ``-1`` means: make no poller
    (the branch still schedules its builds on changes that come from
    elsewhere, a change hook for instance).
    """
    if not callable(poll_interval):
        interval = check_poll_interval(poll_interval)
        return dict.fromkeys(watch.pollers, interval)
    repositories: dict[tuple[str, str], list[PolledBranch]] = {}
    for branch in watch.pollers:
        repositories.setdefault((branch.vcs, branch.url), []).append(branch)
    intervals: dict[PolledBranch, int] = {}
    for (vcs, url), branches in repositories.items():
        specs = tuple((b.branch,) for b in branches)
        value = _ask(poll_interval, vcs, url, specs)
        intervals.update(dict.fromkeys(branches, check_poll_interval(value, f"{vcs} {url}")))
    return intervals


def _ask(function, vcs: str, url: str, specs: tuple) -> object:
    try:
        inspect.signature(function).bind(vcs=vcs, url=url, minor_specs=specs)
        by_keyword = True
    except (TypeError, ValueError):
        by_keyword = False
    try:
        if by_keyword:
            return function(vcs=vcs, url=url, minor_specs=specs)
        return function(vcs, url, specs)
    except Exception as exc:  # the user's code: a located error, never a traceback
        raise ConfigError([Problem(f"calling it for {vcs} {url} raised "
                                   f"{type(exc).__name__}: {exc}", file=MASTER_CFG,
                                   option=POLL_INTERVAL_OPTION)]) from None


def make_pollers(watch: WatchPlan, poll_interval: object) -> list:
    intervals = poll_intervals(watch, poll_interval)
    return [make_poller(branch, intervals[branch]) for branch in watch.pollers
            if intervals[branch] != NO_POLLING]


def make_scheduling(configurator, plan) -> tuple[list, list]:
    """``(schedulers, change sources)`` for the plan's builders and watches."""
    pollers = make_pollers(plan.watch, getattr(configurator, "poll_interval",
                                               DEFAULT_POLL_INTERVAL))
    names = [builder.name for builder in plan.dispatch.builders]
    made = [make_build_scheduler(s, plan.watch.match_of(s.build)) for s in plan.watch.schedules]
    if names:
        needed = [prop for builder in plan.dispatch.builders if builder.build.buildout
                  for prop in forced_properties(builder.build.buildout)]
        made.append(force_scheduler(names, dict.fromkeys(needed)))
    return made, pollers
