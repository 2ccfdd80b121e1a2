"""What the master watches, and which builds each commit schedules (SPEC 5, 7).

Plain Python on plain data: from the builds of every manifest, the master's
URL rewrite rules and the auto-watch files, this module works out

* the distinct branches to poll, one poller each: ``(VCS, URL after the
  rewrite rules, branch)`` -- two builds watching one branch share a poller;
* for each build that has builders, the exact ``(repository, branch)``
  pairs whose commits schedule it, and its tree-stable timer;
* the watches of sections without ``buildout``: they make no builder, but
  their branches are polled all the same and their change filter is offered
  to the user's own schedulers (``BuildoutsConfigurator.change_filter``);
* which branches come by a forge's push hook instead (:mod:`.hooks`): those
  are not polled, so that a commit makes one change, hence one build.

Repositories are compared by :func:`~.urls.repository_key` everywhere: two
spellings of one repository share one poller, and a build's
:class:`~.matching.ChangeMatch` accepts a change whatever spelling its poller
or hook gives.

Buildbot's pollers report a change with ``repository`` set to the URL they
poll, so the filters hold rewritten URLs too: what a build is matched on is
exactly what its poller reports.  Bazaar branches are polled too, with
Breezy's ``brz`` (:mod:`.bzr_log`; Buildbot 4 has no Bazaar poller of its own):
a Bazaar branch is its URL, so its changes have an empty branch name.  See
``docs/scheduling.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..capability.dispatch import BuilderPlan
from ..config.manifest import MAX_TREE_STABLE_TIMER as MAX_TIMER
from ..config.manifest import BuildSpec, WatchSpec
from ..config.values import InvalidValue, branch_as_used, vcs_url
from ..errors import Problems
from .files import WATCH_DIR, AutoWatchStatus, load_auto_watches
from .hooks import ChangeHooks
from .matching import ChangeMatch
from .urls import repository_key

#: VCS kinds the master polls: Buildbot's own Git and Mercurial pollers, our Bazaar one
POLLED_VCS = ("git", "hg", "bzr")
POLLER_DIR = "pollers"
MASTER_CFG = "master.cfg"
RULES_OPTION = "vcs_master_url_rewrite_rules"
TIMER_OPTION = "tree_stable_timer"


class RewriteRules:
    """``(prefix, replacement)`` pairs applied to watched URLs before pollers are made.

    The longest matching prefix wins (as with git's ``url.<base>.insteadOf``),
    and it is applied once: a rewritten URL is not rewritten again.

    >>> rules = RewriteRules([("https://github.com/", "git@mirror:"),
    ...                       ("https://github.com/odoo/", "/srv/mirrors/odoo/")])
    >>> rules.rewrite("https://github.com/odoo/odoo.git")
    '/srv/mirrors/odoo/odoo.git'
    >>> rules.rewrite("https://github.com/oca/web.git")
    'git@mirror:oca/web.git'
    >>> rules.rewrite("https://example.org/x.git")
    'https://example.org/x.git'
    """

    def __init__(self, rules: Iterable[tuple[str, str]] = ()):
        self.rules = sorted(((p, r) for p, r in rules), key=lambda rule: -len(rule[0]))

    @classmethod
    def parse(cls, raw: object, problems: Problems) -> RewriteRules:
        """Check the configurator attribute; bad entries are errors naming the entry."""
        if raw is None:
            return cls()
        if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
            problems.error(f"must be a list of (prefix, replacement) pairs, not {raw!r}",
                           file=MASTER_CFG, option=RULES_OPTION)
            return cls()
        good: dict[str, str] = {}
        for index, rule in enumerate(raw):
            message = _rule_problem(rule, good)
            if message:
                problems.error(f"rule {index + 1} {rule!r}: {message}",
                               file=MASTER_CFG, option=RULES_OPTION)
                continue
            good[rule[0]] = rule[1]
        for message in _sequential_differences(list(good.items())):
            problems.warning(message, file=MASTER_CFG, option=RULES_OPTION)
        return cls(good.items())

    def rewrite(self, url: str) -> str:
        for prefix, replacement in self.rules:
            if url.startswith(prefix):
                return replacement + url[len(prefix):]
        return url


def _sequential_differences(rules: list[tuple[str, str]]) -> list[str]:
    """Where anybox.buildbot.odoo, which applied the rules one after the other in list
    order (each to the URL the previous ones made), rewrote a URL otherwise."""
    found = []
    for index, (prefix, replacement) in enumerate(rules):
        for later, (other, other_replacement) in enumerate(rules[index + 1:], index + 2):
            if replacement.startswith(other):
                found.append(
                    f"rule {index + 1} ({prefix!r} -> {replacement!r}) makes URLs that rule "
                    f"{later} rewrites again in anybox.buildbot.odoo, which applied the rules "
                    "one after the other; here one rule rewrites a URL: write rule "
                    f"{index + 1} as ({prefix!r}, "
                    f"{other_replacement + replacement[len(other):]!r})")
            elif other.startswith(prefix):
                found.append(
                    f"rule {later} ({other!r}) never applied in anybox.buildbot.odoo: rule "
                    f"{index + 1} ({prefix!r}) came first and rewrote those URLs; here the "
                    f"longest prefix wins, so rule {later} applies: remove it to keep the "
                    "old result")
    return found


def _rule_problem(rule: object, seen: Mapping[str, str]) -> str | None:
    if not (isinstance(rule, (tuple, list)) and len(rule) == 2
            and all(isinstance(part, str) for part in rule)):
        return "is not a (prefix, replacement) pair of strings"
    prefix, replacement = rule
    if not prefix.strip() or not replacement.strip():
        return "neither the prefix nor the replacement may be empty"
    if any(c.isspace() for c in prefix + replacement):
        return "URLs cannot contain white space"
    if prefix in seen:
        return f"prefix {prefix!r} already has a rule (to {seen[prefix]!r})"
    return None


@dataclass(frozen=True, order=True)
class PolledBranch:
    """One branch of one repository, as polled: one Buildbot poller each."""

    vcs: str
    url: str
    branch: str

    @property
    def name(self) -> str:
        """The poller's name, stable across reconfigs: Buildbot keys its state on it."""
        return " ".join(part for part in (self.vcs, self.url, self.branch) if part)

    @property
    def workdir(self) -> str:
        """The poller's private directory, relative to the master's base directory."""
        digest = hashlib.sha256(f"{self.vcs}\0{self.url}\0{self.branch}".encode()).hexdigest()
        return f"{POLLER_DIR}/{self.vcs}-{digest[:20]}"

    @property
    def project(self) -> str:
        """What the web UI shows as the change's project: the repository's short name."""
        tail = self.url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return tail[:-4] if tail.endswith(".git") else tail

    @property
    def repository(self) -> tuple[str, str]:
        """``(repository, branch)`` as the poller reports them on a change (a Bazaar
        branch is its URL: its branch name is empty)."""
        return (self.url, self.branch)


@dataclass
class BuildWatch:
    """What schedules one build's builders on commits."""

    build: str
    branches: tuple[PolledBranch, ...]
    tree_stable_timer: int
    builder_names: list[str]

    @property
    def scheduler_name(self) -> str:
        return scheduler_name(self.build)


def scheduler_name(build: str) -> str:
    """Unique among our schedulers (build names are), stable across reconfigs."""
    return f"watch-{build}"


@dataclass
class WatchPlan:
    """Everything commit-driven scheduling is made of, for the edge and the CLI."""

    pollers: list[PolledBranch] = field(default_factory=list)
    schedules: list[BuildWatch] = field(default_factory=list)
    #: sections without ``buildout``: polled, no scheduler of ours
    watch_only: dict[str, tuple[PolledBranch, ...]] = field(default_factory=dict)
    #: builds with builders that no commit schedules (``watch =``, or nothing to watch)
    unwatched: list[str] = field(default_factory=list)
    #: builds with ``auto-watch = true``: what became of their watch file
    auto_watch: dict[str, AutoWatchStatus] = field(default_factory=dict)
    #: original URL -> polled URL, for the URLs a rule changed
    rewritten: dict[str, str] = field(default_factory=dict)
    #: branches that come by a forge's push hook (not polled): branch -> forge
    pushed: dict[PolledBranch, str] = field(default_factory=dict)
    #: the change filter's data of every build and watch-only section, by name
    matches: dict[str, ChangeMatch] = field(default_factory=dict)
    #: the configurator's ``change_hooks``, checked
    hooks: ChangeHooks = field(default_factory=ChangeHooks)

    def match_of(self, build: str) -> ChangeMatch:
        """What a change must be to schedule ``build`` (no pair: nothing does)."""
        return self.matches.get(build, ChangeMatch(frozenset()))

    def triggers_of(self, build: str) -> tuple[list[str], bool]:
        """``(forges pushing some of its branches, whether some are polled)``."""
        branches = self.branches_of(build)
        forges = sorted({self.pushed[b] for b in branches if b in self.pushed})
        return forges, any(b not in self.pushed for b in branches)

    def trigger_of(self, build: str) -> str:
        """How commits reach ``build``: ``push (github)``, ``poll``, both, or ``-``."""
        forges, polled = self.triggers_of(build)
        parts = [f"push ({', '.join(forges)})"] if forges else []
        return " + ".join([*parts, *(["poll"] if polled else [])]) or "-"

    def branches_of(self, build: str) -> tuple[PolledBranch, ...]:
        """The branches watched by ``build`` (a build with builders or a watch-only one)."""
        for schedule in self.schedules:
            if schedule.build == build:
                return schedule.branches
        return self.watch_only.get(build, ())

    def as_data(self) -> dict:
        """JSON-friendly form, e.g. for ``buildbot-odoo plan``."""
        def pairs(branches):
            return [{"vcs": b.vcs, "url": b.url, "branch": b.branch,
                     "by": f"push {self.pushed[b]}" if b in self.pushed else "poll"}
                    for b in branches]

        return {
            "pollers": [{"name": p.name, "vcs": p.vcs, "url": p.url, "branch": p.branch,
                         "workdir": p.workdir} for p in self.pollers],
            "schedulers": [{"name": s.scheduler_name, "build": s.build,
                            "builders": list(s.builder_names),
                            "tree_stable_timer": s.tree_stable_timer,
                            "trigger": self.trigger_of(s.build),
                            "watch": pairs(s.branches)} for s in self.schedules],
            "watch_only": {name: pairs(b) for name, b in self.watch_only.items()},
            "unwatched": list(self.unwatched),
            "auto_watch": {name: s.as_data() for name, s in self.auto_watch.items()},
            "rewritten": dict(self.rewritten),
            "pushed": [{"vcs": b.vcs, "url": b.url, "branch": b.branch, "forge": forge}
                       for b, forge in sorted(self.pushed.items())],
            "change_hooks": self.hooks.as_data(),
        }


def normalise_branch(spec: WatchSpec) -> str:
    """The branch name as the pollers report it (git: without ``refs/heads/``)."""
    return branch_as_used(spec.branch or ("default" if spec.vcs == "hg" else ""), spec.vcs)


class _Planner:
    def __init__(self, rules: RewriteRules, problems: Problems):
        self.rules = rules
        self.problems = problems
        self.rewritten: dict[str, str] = {}
        #: every URL a polled branch was written as (manifests, buildouts, auto-watch)
        self.written: dict[PolledBranch, set[str]] = {}
        self._reported: set[tuple] = set()

    def polled(self, specs: Iterable[WatchSpec]) -> list[PolledBranch]:
        """``specs`` as polled branches, after the rewrite rules."""
        found = []
        for spec in specs:
            url = self.rules.rewrite(spec.url)
            if url != spec.url:
                if not self._plain_rewrite(spec, url):
                    continue
                self.rewritten[spec.url] = url
            branch = PolledBranch(spec.vcs, url, normalise_branch(spec))
            self.written.setdefault(branch, set()).add(spec.url)
            found.append(branch)
        return found

    def _plain_rewrite(self, spec: WatchSpec, url: str) -> bool:
        """A rule must not make of a plain URL one git, hg or brz would run a command from."""
        try:
            vcs_url(url, spec.vcs)
        except InvalidValue as exc:
            key = ("rewrite", spec.url)
            if key not in self._reported:
                self._reported.add(key)
                self.problems.error(f"the rule rewriting {spec.url!r} makes {exc}",
                                    file=MASTER_CFG, option=RULES_OPTION)
            return False
        return True


def _own_watches(build: BuildSpec) -> tuple[list[WatchSpec], WatchSpec | None]:
    """The build's ``watch`` lines and its buildout's own location (unless ``watch =``)."""
    if build.watch == []:
        return [], None
    lines = list(build.watch or [])
    own = build.buildout.watch() if build.buildout else None
    return lines, (own if own not in lines else None)


def plan_watches(builds: Sequence[BuildSpec], builders: Sequence[BuilderPlan],
                 basedir: Path, rules: RewriteRules, default_timer: int,
                 problems: Problems, hooks: ChangeHooks | None = None,
                 watch_directory: str | Path = WATCH_DIR) -> WatchPlan:
    """Pollers, per-build filters and auto-watch results for ``builds``; the branches
    of the repositories ``hooks`` says a forge pushes are not polled.

    ``watch_directory``: where the auto-watch files are (relative to ``basedir``).
    """
    planner = _Planner(rules, problems)
    auto = load_auto_watches(basedir, builds, problems, watch_directory)
    names_by_build: dict[str, list[str]] = {}
    for builder in builders:
        names_by_build.setdefault(builder.build.name, []).append(builder.name)
    plan = WatchPlan(auto_watch={name: status for name, status in auto.items()})
    for build in builds:
        lines, own = _own_watches(build)
        branches = planner.polled(lines)
        if own is not None:
            branches += planner.polled([own])
        status = auto.get(build.name)
        if status is not None and status.sources and build.watch != []:
            branches += planner.polled(status.sources)
        distinct = tuple(sorted(set(branches)))
        _check_auto_watch_use(build, problems)
        if build.buildout is None:
            if distinct:
                plan.watch_only[build.name] = distinct
            continue
        builder_names = names_by_build.get(build.name, [])
        if not builder_names:
            continue
        if not distinct:
            plan.unwatched.append(build.name)
            continue
        timer = default_timer if build.tree_stable_timer is None else build.tree_stable_timer
        plan.schedules.append(BuildWatch(build.name, distinct, timer, builder_names))
    _share_and_split(plan, planner, rules, hooks or ChangeHooks())
    plan.rewritten = dict(sorted(planner.rewritten.items()))
    return plan


def _share_and_split(plan: WatchPlan, planner: _Planner, rules: RewriteRules,
                     hooks: ChangeHooks) -> None:
    """One poller per repository key and branch; the pushed ones apart; the filters.

    Spellings of one repository (``https://host/a/b.git``, ``git@host:a/b``)
    would otherwise make two pollers, hence two changes (and two builds) per
    commit.  The poller keeps the first spelling in sort order.
    """
    every = {b for s in plan.schedules for b in s.branches}
    every |= {b for branches in plan.watch_only.values() for b in branches}
    groups: dict[tuple[str, str, str], list[PolledBranch]] = {}
    for branch in sorted(every):
        groups.setdefault((branch.vcs, repository_key(branch.url), branch.branch),
                          []).append(branch)
    shared = {b: members[0] for members in groups.values() for b in members}
    for members in groups.values():
        forms = {m.url for m in members} | {w for m in members
                                            for w in planner.written.get(m, ())}
        forge = hooks.forge_of(sorted(forms))
        if forge is not None:
            plan.pushed[members[0]] = forge

    def matched(name: str, branches: tuple[PolledBranch, ...]) -> tuple[PolledBranch, ...]:
        plan.matches[name] = ChangeMatch.of(
            ((written, b.url, b.branch) for b in branches
             for written in sorted(planner.written.get(b, {b.url}))), rules.rules)
        return tuple(sorted({shared[b] for b in branches}))

    for schedule in plan.schedules:
        schedule.branches = matched(schedule.build, schedule.branches)
    for name, branches in plan.watch_only.items():
        plan.watch_only[name] = matched(name, branches)
    plan.pollers = sorted(b for b in set(shared.values()) if b not in plan.pushed)
    plan.hooks = hooks


def _check_auto_watch_use(build: BuildSpec, problems: Problems) -> None:
    """``auto-watch`` where it cannot do anything is a warning, never silently ignored."""
    if not build.auto_watch:
        return
    if build.buildout is None:
        problems.warning("auto-watch needs a buildout to introspect; this section has none",
                         **build.location("auto-watch"))
    elif build.watch == []:
        problems.warning("auto-watch is ignored: the empty 'watch =' turns commit-driven "
                         "scheduling off for this build", **build.location("auto-watch"))


def check_default_timer(value: object, problems: Problems) -> int:
    """The configurator's ``tree_stable_timer``: whole seconds, from 0 to a week (the
    range of the manifest's ``tree-stable-timer``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIMER:
        problems.error(f"{value!r} is not a number of seconds (a whole number, from 0 to "
                       f"{MAX_TIMER})", file=MASTER_CFG, option=TIMER_OPTION)
        return 0
    return value
