"""One repository, many URLs: the key every comparison of repositories goes through.

A repository reaches the master under several spellings.  A ``watch`` line
says ``https://github.com/acme/web.git`` or ``git@github.com:acme/web.git``;
a poller reports the URL it polls (after the rewrite rules); GitHub's push
hook names the repository by its web page (``https://github.com/acme/web``),
GitLab's by its scp-like SSH address (``git@gitlab.example.com:acme/web.git``),
Gitea's (through the ``buildbot-gitea`` plugin) by its SSH URL
(``ssh://git@gitea.example.com:2222/acme/web.git``).  :func:`repository_key`
maps all of them to one key, and everything that asks "is this the same
repository?" compares keys: the change filters, the sharing of pollers, the
choice of the repositories that come by hook.

What the key keeps: the host (lower case) and the path.  What it drops, and why:

* the scheme and the user (``https://``, ``ssh://git@``, ``git@``): the same
  repository is cloned over HTTPS and pushed over SSH;
* the port: a forge serves HTTPS on 443 and SSH on 22 or 2222, for the same
  repository;
* a trailing ``/`` and ``.git``: forges serve ``acme/web`` and ``acme/web.git`` alike;
* the case of the path, for network URLs: GitHub, GitLab and Gitea treat
  ``Acme/Web`` and ``acme/web`` as one repository.  Local paths (``/srv/x``,
  ``file:///srv/x``) keep their case, as the file system does.

What it cannot know: a forge served under a sub-path over HTTPS
(``https://host/gitlab/acme/web``) and at the root over SSH
(``git@host:acme/web``).  A URL rewrite rule says it (docs/scheduling.md).
"""

from __future__ import annotations

import re

__all__ = ["is_under", "repository_key"]

_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
#: ``[user@]host:path`` as git reads it: no ``/`` before the first ``:``
_SCP_RE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^@/:]+):(?P<path>.*)$")
_SLASHES_RE = re.compile(r"/{2,}")


def repository_key(url: str) -> str:
    """The key of the repository at ``url``, equal for every spelling of it.

    >>> repository_key("https://github.com/Acme/Web.git")
    'github.com/acme/web'
    >>> repository_key("git@github.com:acme/web.git")
    'github.com/acme/web'
    >>> repository_key("ssh://git@gitea.example.com:2222/acme/web.git/")
    'gitea.example.com/acme/web'
    >>> repository_key("https://oauth2:tok@GitLab.example.com/acme/web")
    'gitlab.example.com/acme/web'
    >>> repository_key("file:///srv/Mirrors/web.git") == repository_key("/srv/Mirrors/web")
    True
    >>> repository_key("/srv/Mirrors/web")
    '/srv/Mirrors/web'
    """
    text = url.strip()
    match = _SCHEME_RE.match(text)
    if match:
        rest = match["rest"]
        authority, _, path = rest.partition("/")
        if match["scheme"].lower() == "file" or not authority:
            return _local(path if not authority else rest, absolute=True)
        return _network(authority.rpartition("@")[2], path)
    if text.startswith("/") or text.startswith("."):
        return _local(text, absolute=False)
    scp = _SCP_RE.match(text)
    if scp:
        return _network(scp["host"], scp["path"])
    return _local(text, absolute=False)


def _host(authority: str) -> str:
    """``host[:port]`` or ``[v6]:port`` without the port, in lower case."""
    if authority.startswith("["):
        return authority[:authority.find("]") + 1].lower()
    return authority.partition(":")[0].lower()


def _network(authority: str, path: str) -> str:
    tail = _tail(path).lower()
    return f"{_host(authority)}/{tail}" if tail else _host(authority)


def _local(path: str, absolute: bool) -> str:
    tail = _tail(path)
    return "/" + tail if absolute or path.startswith("/") else tail


def _tail(path: str) -> str:
    """The path without repeated, leading or trailing slashes, nor a ``.git`` suffix."""
    path = _SLASHES_RE.sub("/", path).strip("/")
    if path.endswith(".git"):
        path = path[:-4].rstrip("/")
    return path


def is_under(key: str, prefix_key: str) -> bool:
    """Whether repository ``key`` is ``prefix_key`` or lies under it, by whole path segments.

    >>> is_under("github.com/acme/web", "github.com/acme")
    True
    >>> is_under("github.com/acme-other/web", "github.com/acme")
    False
    >>> is_under("github.com/acme/web", "github.com")
    True
    """
    return key == prefix_key or key.startswith(prefix_key.rstrip("/") + "/")
