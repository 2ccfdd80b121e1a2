"""Which changes schedule a build: its watched branches, whatever spelling a change uses.

A change comes from a poller (``repository`` is the URL it polls, after the
rewrite rules) or from a forge's push hook (``repository`` is the forge's
own URL for it: a web page, an SSH address).  A build's :class:`ChangeMatch`
holds, per watched branch, the :func:`~buildbot_odoo.watching.urls.repository_key`
of the URL as written in the manifest (or buildout, or auto-watch file) and
of the URL after the rewrite rules; a change's URL is keyed as it comes and
after the same rules.  One key in common and the same branch: the change is
the build's.

Only pushes to branches schedule: a hook also reports tags, merge and pull
requests and their comments, each with the branch it targets.  Builds take
the tip of their branches; a tag or a proposed change is not a new tip, so
those changes are left to schedulers of the user's own (``category`` says
which kind of event made the change; pollers set none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .urls import repository_key

__all__ = ["BRANCH_PUSH_CATEGORIES", "ChangeMatch"]

#: change categories of a branch update: pollers' (none), GitLab's and Gitea's ``push``
#: (GitHub's hook leaves a branch push without category and marks tags ``tag``)
BRANCH_PUSH_CATEGORIES = frozenset({None, "", "push"})


def _rewrite(rules: tuple[tuple[str, str], ...], url: str) -> str:
    """The longest matching prefix, once (as :class:`~.plan.RewriteRules`)."""
    for prefix, replacement in rules:
        if url.startswith(prefix):
            return replacement + url[len(prefix):]
    return url


@dataclass(frozen=True)
class ChangeMatch:
    """``(repository key, branch)`` pairs and the rewrite rules changes are keyed with.

    Compared by value, so that a reconfig with the same watches leaves a
    scheduler (and its running tree-stable timer) alone.

    >>> match = ChangeMatch.of([("https://github.com/acme/web.git", "/srv/web.git", "17.0")])
    >>> match.accepts("https://github.com/acme/web", "17.0")
    True
    >>> match.accepts("git@github.com:acme/web.git", "17.0")
    True
    >>> match.accepts("file:///srv/web.git", "17.0")
    True
    >>> match.accepts("https://github.com/acme/web", "16.0")
    False
    >>> match.accepts("https://github.com/acme/web", "17.0", category="tag")
    False
    """

    pairs: frozenset[tuple[str, str]]
    #: (prefix, replacement), longest prefix first
    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, watched: Iterable[tuple[str, str, str]],
           rules: Iterable[tuple[str, str]] = ()) -> ChangeMatch:
        """From ``(URL as written, URL as polled, branch)`` triples."""
        pairs = set()
        for written, polled, branch in watched:
            pairs.add((repository_key(written), branch))
            pairs.add((repository_key(polled), branch))
        ordered = tuple(sorted(rules, key=lambda rule: (-len(rule[0]), rule)))
        return cls(frozenset(pairs), ordered)

    def keys_of(self, repository: str) -> set[str]:
        """The keys a change's ``repository`` is matched by: as it comes, and rewritten."""
        return {repository_key(repository), repository_key(_rewrite(self.rules, repository))}

    def accepts(self, repository: str | None, branch: str | None,
                category: str | None = None) -> bool:
        """Whether a change of ``repository`` on ``branch`` schedules the build."""
        if category not in BRANCH_PUSH_CATEGORIES or not repository or branch is None:
            return False
        return any((key, branch) in self.pairs for key in self.keys_of(repository))

    def describe(self) -> str:
        return ", ".join(f"{key} {branch}" for key, branch in sorted(self.pairs))
