"""TEST SUPPORT, not product code: push hook deliveries as GitHub, GitLab and Gitea send them.

Each forge's push event is built from a real local git repository (the
commits between two revisions: ids, trees, messages, authors, times, files)
in the form the forge documents, and sent the way it sends it:

* GitHub (docs.github.com, "Webhook events and payloads: push", "Validating
  webhook deliveries"): ``application/json``, ``X-GitHub-Event: push``, the
  body signed with the secret by HMAC-SHA1 in ``X-Hub-Signature`` and by
  HMAC-SHA256 in ``X-Hub-Signature-256``; ``repository.html_url`` is the
  repository's web page; commits oldest first;
* GitLab (docs.gitlab.com, "Webhook events: push events"):
  ``X-Gitlab-Event: Push Hook``, the secret token itself in
  ``X-Gitlab-Token`` (GitLab does not sign); ``repository.url`` is the
  scp-like SSH address; commits oldest first;
* Gitea (docs.gitea.com, "Webhooks"): ``X-Gitea-Event: push``, the body
  (indented JSON, as Gitea writes it) signed by HMAC-SHA256 in hex in
  ``X-Gitea-Signature``; ``repository.ssh_url`` is ``ssh://`` when the
  forge's SSH port is not 22; commits newest first.

:func:`deliver` posts one to a master and returns the HTTP status and body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GITEA", "GITHUB", "GITLAB", "Delivery", "Forge", "deliver", "git_commits"]


@dataclass
class Commit:
    id: str
    tree: str
    message: str
    timestamp: str  # ISO 8601 with the committer's offset, as the forges write it
    author: tuple[str, str]
    committer: tuple[str, str]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True).stdout


def git_commits(path: Path, before: str, after: str) -> list[Commit]:
    """The commits of ``before..after`` in a local repository, oldest first."""
    fmt = "%H%x1f%T%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1e"
    out = _git(path, "log", "--reverse", f"--format={fmt}", f"{before}..{after}")
    commits = []
    for record in filter(None, (r.strip("\n") for r in out.split("\x1e"))):
        sha, tree, an, ae, cn, ce, when, message = record.split("\x1f")
        commit = Commit(sha, tree, message, when, (an, ae), (cn, ce))
        status = _git(path, "diff-tree", "--no-commit-id", "--name-status", "-r", "--root",
                      sha)
        for line in status.splitlines():
            kind, name = line.split("\t", 1)
            {"A": commit.added, "D": commit.removed}.get(kind[0], commit.modified).append(name)
        commits.append(commit)
    return commits


@dataclass
class Delivery:
    """One HTTP request of a forge: where it posts, its headers, its body."""

    path: str
    headers: dict[str, str]
    body: bytes


def _hmac(secret: str, body: bytes, digest) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


@dataclass
class Forge:
    """A forge host: ``owner/name`` repositories at ``https://HOST/owner/name``."""

    dialect: str
    host: str
    ssh_port: int = 22
    #: where the web pages are, when not ``https://HOST`` (a local ``file:`` URL, for a
    #: repository a poller of the master also reads)
    web_base: str | None = None

    def web_url(self, full_name: str) -> str:
        return f"{self.web_base or 'https://' + self.host}/{full_name}"

    def ssh_url(self, full_name: str) -> str:
        if self.ssh_port == 22:
            return f"git@{self.host}:{full_name}.git"
        return f"ssh://git@{self.host}:{self.ssh_port}/{full_name}.git"

    def push(self, repo: Path, full_name: str, branch: str, before: str, after: str,
             secret: str) -> Delivery:
        """The push of ``before..after`` to ``branch`` of ``repo``, signed with ``secret``."""
        commits = git_commits(repo, before, after)
        build = {"github": self._github, "gitlab": self._gitlab, "gitea": self._gitea}
        return build[self.dialect](full_name, f"refs/heads/{branch}", before, after, commits,
                                   secret)

    # -- GitHub

    def _github_commit(self, full_name: str, c: Commit) -> dict:
        person = lambda who: {"name": who[0], "email": who[1],  # noqa: E731
                              "username": who[1].split("@")[0]}
        return {"id": c.id, "tree_id": c.tree, "distinct": True, "message": c.message,
                "timestamp": c.timestamp, "url": f"{self.web_url(full_name)}/commit/{c.id}",
                "author": person(c.author), "committer": person(c.committer),
                "added": c.added, "removed": c.removed, "modified": c.modified}

    def _github(self, full_name, ref, before, after, commits, secret) -> Delivery:
        owner, name = full_name.split("/")
        web = self.web_url(full_name)
        payload = {
            "ref": ref, "before": before, "after": after, "created": False,
            "deleted": False, "forced": False, "base_ref": None,
            "compare": f"{web}/compare/{before[:12]}...{after[:12]}",
            "commits": [self._github_commit(full_name, c) for c in commits],
            "head_commit": self._github_commit(full_name, commits[-1]),
            "repository": {
                "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name,
                "full_name": full_name, "private": False,
                "owner": {"name": owner, "login": owner, "id": 1},
                "html_url": web, "url": web, "clone_url": f"{web}.git",
                "git_url": f"git://{self.host}/{full_name}.git",
                "ssh_url": self.ssh_url(full_name), "default_branch": "main",
                "master_branch": "main"},
            "pusher": {"name": commits[-1].committer[0], "email": commits[-1].committer[1]},
            "sender": {"login": owner, "id": 1},
        }
        body = json.dumps(payload).encode()
        return Delivery("/change_hook/github", {
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "292430182",
            "X-Hub-Signature": "sha1=" + _hmac(secret, body, hashlib.sha1),
            "X-Hub-Signature-256": "sha256=" + _hmac(secret, body, hashlib.sha256)}, body)

    # -- GitLab

    def _gitlab(self, full_name, ref, before, after, commits, secret) -> Delivery:
        owner, name = full_name.split("/")
        web = self.web_url(full_name)
        project = {
            "id": 15, "name": name, "description": "", "web_url": web, "avatar_url": None,
            "git_ssh_url": self.ssh_url(full_name), "git_http_url": f"{web}.git",
            "namespace": owner, "visibility_level": 0, "path_with_namespace": full_name,
            "default_branch": "main", "homepage": web, "url": self.ssh_url(full_name),
            "ssh_url": self.ssh_url(full_name), "http_url": f"{web}.git"}
        payload = {
            "object_kind": "push", "event_name": "push", "before": before, "after": after,
            "ref": ref, "ref_protected": True, "checkout_sha": after, "message": None,
            "user_id": 4, "user_name": commits[-1].author[0], "user_username": owner,
            "user_email": "", "user_avatar": None, "project_id": 15, "project": project,
            "commits": [{"id": c.id, "message": c.message,
                         "title": c.message.splitlines()[0] if c.message else "",
                         "timestamp": c.timestamp, "url": f"{web}/-/commit/{c.id}",
                         "author": {"name": c.author[0], "email": c.author[1]},
                         "added": c.added, "modified": c.modified, "removed": c.removed}
                        for c in commits],
            "total_commits_count": len(commits), "push_options": {},
            "repository": {"name": name, "url": self.ssh_url(full_name), "description": "",
                           "homepage": web, "git_http_url": f"{web}.git",
                           "git_ssh_url": self.ssh_url(full_name), "visibility_level": 0},
        }
        body = json.dumps(payload).encode()
        return Delivery("/change_hook/gitlab", {
            "Content-Type": "application/json", "User-Agent": "GitLab/17.5.0",
            "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret,
            "X-Gitlab-Instance": f"https://{self.host}",
            "X-Gitlab-Event-UUID": str(uuid.uuid4())}, body)

    # -- Gitea

    def _gitea_commit(self, full_name: str, c: Commit) -> dict:
        person = lambda who: {"name": who[0], "email": who[1],  # noqa: E731
                              "username": who[1].split("@")[0]}
        return {"id": c.id, "message": c.message,
                "url": f"{self.web_url(full_name)}/commit/{c.id}",
                "author": person(c.author), "committer": person(c.committer),
                "verification": None, "timestamp": c.timestamp, "added": c.added,
                "removed": c.removed, "modified": c.modified}

    def _gitea(self, full_name, ref, before, after, commits, secret) -> Delivery:
        owner, name = full_name.split("/")
        web = self.web_url(full_name)
        user = {"id": 1, "login": owner, "login_name": "", "full_name": "", "email": "",
                "avatar_url": "", "username": owner}
        newest_first = [self._gitea_commit(full_name, c) for c in reversed(commits)]
        payload = {
            "ref": ref, "before": before, "after": after,
            "compare_url": f"{web}/compare/{before}...{after}",
            "commits": newest_first, "total_commits": len(commits),
            "head_commit": newest_first[0],
            "repository": {
                "id": 1, "owner": user, "name": name, "full_name": full_name,
                "description": "", "empty": False, "private": False, "fork": False,
                "template": False, "parent": None, "mirror": False, "size": 20,
                "html_url": web, "url": f"https://{self.host}/api/v1/repos/{full_name}",
                "link": "", "ssh_url": self.ssh_url(full_name), "clone_url": f"{web}.git",
                "original_url": "", "website": "", "default_branch": "main",
                "archived": False},
            "pusher": user, "sender": user,
        }
        body = json.dumps(payload, indent=2).encode()
        signature = _hmac(secret, body, hashlib.sha256)
        return Delivery("/change_hook/gitea", {
            "Content-Type": "application/json", "User-Agent": "Go-http-client/1.1",
            "X-Gitea-Event": "push", "X-Gitea-Event-Type": "push",
            "X-Gitea-Delivery": str(uuid.uuid4()), "X-Gitea-Signature": signature,
            "X-Gogs-Event": "push", "X-Gogs-Signature": signature,
            "X-Hub-Signature-256": "sha256=" + signature}, body)


GITHUB = Forge("github", "github.com")
GITLAB = Forge("gitlab", "gitlab.example.com")
GITEA = Forge("gitea", "gitea.example.com", ssh_port=2222)


def deliver(master_url: str, delivery: Delivery, timeout: float = 60) -> tuple[int, str]:
    """POST ``delivery`` to the master at ``master_url``; ``(HTTP status, body)``."""
    request = urllib.request.Request(master_url.rstrip("/") + delivery.path,
                                     data=delivery.body, headers=delivery.headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
