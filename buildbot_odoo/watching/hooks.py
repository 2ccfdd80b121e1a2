"""The configurator's ``change_hooks``: which forge pushes which repositories to the master.

Plain data, checked here with located messages (``master.cfg: change_hooks:
github: ...``).  The edge (:mod:`buildbot_odoo.master.hooks`) turns it into
Buildbot's ``c['www']['change_hook_dialects']``::

    conf.change_hooks = {
        "github": {"secret": "github-webhook", "repositories": ["https://github.com/acme/"]},
        "gitlab": {"secret": "gitlab-webhook",
                   "repositories": ["git@gitlab.example.com:acme/"]},
        "gitea": {"secret": "gitea-webhook", "repositories": ["https://gitea.example.com/"]},
    }

``secret`` is the *name* of a Buildbot secret (``c['secretsProviders']``),
never its value: master.cfg is read by more people than the secret should be.
``repositories`` are URLs or URL prefixes, in any spelling
(:func:`~buildbot_odoo.watching.urls.repository_key`): the watched branches of
those repositories come by that forge's push hook and are not polled
(docs/scheduling.md, "Push or poll").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..config.spelling import closest_name
from ..errors import Problems
from .urls import is_under, repository_key

__all__ = ["FORGES", "HOOKS_OPTION", "ChangeHooks", "HookSetting", "hook_path",
           "newest_per_branch"]

HOOKS_OPTION = "change_hooks"
MASTER_CFG = "master.cfg"
#: the forges whose push hooks the master takes, by Buildbot dialect name; Gitea's
#: dialect comes from the ``buildbot-gitea`` plugin (``pip install 'buildbot-odoo[gitea]'``)
FORGES = {"github": "GitHub", "gitlab": "GitLab", "gitea": "Gitea"}
#: what a Buildbot secret provider can look a name up by (SecretInAFile: a file name)
_SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_KEYS = ("secret", "repositories")


def hook_path(forge: str) -> str:
    """Where the forge posts, relative to the master's ``buildbotURL``."""
    return f"change_hook/{forge}"


@dataclass(frozen=True)
class HookSetting:
    """One forge's hook: the name of its secret and the repositories it pushes."""

    forge: str
    secret: str
    #: the repository keys (:func:`repository_key`) of the prefixes, as given
    repositories: tuple[str, ...]
    written: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return hook_path(self.forge)


@dataclass
class ChangeHooks:
    """The forges whose hooks are on, and which of them pushes a given repository."""

    forges: dict[str, HookSetting] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.forges)

    def forge_of(self, urls: Iterable[str]) -> str | None:
        """The forge pushing the repository spelt ``urls`` (any of them); the longest
        matching prefix wins, as with the rewrite rules."""
        best: tuple[int, str] | None = None
        for url in urls:
            key = repository_key(url)
            for setting in self.forges.values():
                for prefix in setting.repositories:
                    if is_under(key, prefix) and (best is None or len(prefix) > best[0]):
                        best = (len(prefix), setting.forge)
        return None if best is None else best[1]

    def as_data(self) -> dict:
        return {forge: {"path": s.path, "secret": s.secret, "repositories": list(s.written)}
                for forge, s in self.forges.items()}

    @classmethod
    def parse(cls, raw: object, problems: Problems) -> ChangeHooks:
        """Check the configurator attribute; each problem names the forge and the entry."""
        hooks = cls()
        if raw is None or raw == {}:
            return hooks
        if not isinstance(raw, Mapping):
            _error(problems, f"must be a dict of forge name -> {{'secret': NAME, "
                             f"'repositories': [URL, ...]}}, not {raw!r}")
            return hooks
        owners: dict[str, str] = {}
        for forge, value in raw.items():
            setting = _setting(forge, value, problems)
            if setting is None:
                continue
            for key, written in zip(setting.repositories, setting.written, strict=True):
                other = owners.setdefault(key, forge)
                if other != forge:
                    _error(problems, f"{forge}: {written!r} is also pushed by {other}: "
                                     "a repository comes by one forge's hook")
            hooks.forges[forge] = setting
        return hooks


def _error(problems: Problems, message: str) -> None:
    problems.error(message, file=MASTER_CFG, option=HOOKS_OPTION)


def _setting(forge: object, value: object, problems: Problems) -> HookSetting | None:
    if forge not in FORGES:
        meant = closest_name(str(forge), list(FORGES))
        hint = f" (did you mean {meant!r}?)" if meant else ""
        _error(problems, f"{forge!r} is not a forge whose push hook the master takes "
                         f"(one of {', '.join(FORGES)}){hint}")
        return None
    assert isinstance(forge, str)
    if not isinstance(value, Mapping):
        _error(problems, f"{forge}: must be a dict {{'secret': NAME, 'repositories': "
                         f"[URL, ...]}}, not {value!r}")
        return None
    for key in value:
        if key not in _KEYS:
            meant = closest_name(str(key), list(_KEYS))
            hint = f" (did you mean {meant!r}?)" if meant else ""
            problems.warning(f"{forge}: unknown key {key!r} is ignored (known: "
                             f"{', '.join(_KEYS)}){hint}", file=MASTER_CFG,
                             option=HOOKS_OPTION)
    secret = value.get("secret")
    good = True
    if not isinstance(secret, str) or not _SECRET_NAME_RE.match(secret):
        _error(problems, f"{forge}: 'secret' must name a Buildbot secret (letters, digits, "
                         "'_', '.', '-'; the value itself stays in c['secretsProviders'], "
                         f"never in master.cfg), not {secret!r}")
        good = False
    repositories = value.get("repositories")
    if (isinstance(repositories, (str, bytes)) or not isinstance(repositories, Iterable)
            or not repositories):
        _error(problems, f"{forge}: 'repositories' must be a non-empty list of repository "
                         "URLs or URL prefixes (the repositories this forge pushes), not "
                         f"{repositories!r}")
        return None
    written = []
    for entry in repositories:
        if not isinstance(entry, str) or not entry.strip() or any(
                c.isspace() for c in entry.strip()):
            _error(problems, f"{forge}: repository {entry!r} is not a URL or URL prefix")
            good = False
            continue
        written.append(entry.strip())
    if not good:
        return None
    keys = tuple(repository_key(w) for w in written)
    return HookSetting(forge, secret, keys, tuple(written))  # type: ignore[arg-type]


def newest_per_branch(changes: Iterable[dict]) -> list[dict]:
    """One change per pushed ``(repository, branch)``: the last of each, as dialects list
    commits oldest first; ``pushed_commits`` in its properties says how many it stands for.

    A push of three commits is one event; builds take the tip of their branch,
    so three changes would only mean three builds of the same tip.

    >>> pushed = [{"repository": "r", "branch": "main", "revision": "a"},
    ...           {"repository": "r", "branch": "main", "revision": "b"}]
    >>> [(c["revision"], c["properties"]) for c in newest_per_branch(pushed)]
    [('b', {'pushed_commits': 2})]
    """
    newest: dict[tuple, dict] = {}
    counts: dict[tuple, int] = {}
    for change in changes:
        key = (change.get("repository"), change.get("branch"), change.get("codebase"))
        newest.pop(key, None)  # re-inserted last: the order of the newest commits
        newest[key] = change
        counts[key] = counts.get(key, 0) + 1
    kept = []
    for key, change in newest.items():
        change = dict(change)
        change["properties"] = {**(change.get("properties") or {}),
                                "pushed_commits": counts[key]}
        kept.append(change)
    return kept
