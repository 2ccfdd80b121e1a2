"""TEST HELPERS: real git, Mercurial and Bazaar repositories made by the tests.

Each repository lives in a temporary directory and is reached through a
``file://`` URL, the way a poller or a buildout reaches a remote.  A missing
``git``, ``hg`` or ``brz`` is a test failure saying what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

IDENTITY = {"GIT_AUTHOR_NAME": "tester", "GIT_AUTHOR_EMAIL": "tester@example.com",
            "GIT_COMMITTER_NAME": "tester", "GIT_COMMITTER_EMAIL": "tester@example.com",
            "HGUSER": "tester <tester@example.com>", "HGPLAIN": "1",
            "BRZ_EMAIL": "tester <tester@example.com>"}
#: the Debian package of each tool
PACKAGES = {"git": "git", "hg": "mercurial", "brz": "brz"}


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise AssertionError(f"{tool!r} is not installed: install it (apt-get install "
                             f"{PACKAGES[tool]}) to run this test")
    return found


def _run(command: list, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **IDENTITY}, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"{command} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


class GitRepo:
    """A non-bare repository whose branches are committed to directly."""

    def __init__(self, path: Path, branch: str = "main"):
        self.git = _require("git")
        self.path = path
        path.mkdir(parents=True)
        _run([self.git, "init", "-q", "-b", branch], path)
        self.commit("README", "start\n")

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def commit(self, name: str, text: str, branch: str | None = None) -> str:
        """Commit ``name`` with ``text`` on ``branch`` (created from HEAD if new); its sha."""
        if branch is not None:
            exists = subprocess.run([self.git, "-C", self.path, "show-ref", "--verify",
                                     "--quiet", f"refs/heads/{branch}"]).returncode == 0
            _run([self.git, "checkout", "-q", *([] if exists else ["-b"]), branch], self.path)
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text)
        _run([self.git, "add", name], self.path)
        _run([self.git, "commit", "-q", "-m", f"change {name}"], self.path)
        return self.head()

    def head(self) -> str:
        return _run([self.git, "rev-parse", "HEAD"], self.path)

    def tag(self, name: str) -> None:
        _run([self.git, "tag", name], self.path)


class HgRepo:
    """A Mercurial repository with named branches."""

    def __init__(self, path: Path):
        self.hg = _require("hg")
        self.path = path
        _run([self.hg, "init", path])
        self.commit("README", "start\n")

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def commit(self, name: str, text: str, branch: str | None = None) -> str:
        """Commit on ``branch`` (a new named branch from the tip if unknown); the node."""
        if branch is not None:
            known = _run([self.hg, "branches", "--closed", "-T", "{branch}\n"], self.path)
            if branch in known.split("\n"):
                _run([self.hg, "update", "-q", branch], self.path)
            else:
                _run([self.hg, "branch", "-q", branch], self.path)
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text)
        _run([self.hg, "commit", "-q", "-A", "-m", f"change {name}"], self.path)
        return self.head()

    def head(self) -> str:
        return _run([self.hg, "log", "-r", ".", "-T", "{node}"], self.path)

    def tag(self, name: str) -> None:
        _run([self.hg, "tag", "-q", name], self.path)


class BzrRepo:
    """A standalone Bazaar branch (Breezy's ``brz``) with a working tree, committed to."""

    def __init__(self, path: Path):
        self.brz = _require("brz")
        self.path = path
        _run([self.brz, "init", "-q", path])
        self.commit("README", "start\n")

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def commit(self, name: str, text: str, message: str | None = None,
               author: str | None = None) -> str:
        """Commit ``name`` with ``text``; the new revision id."""
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text)
        _run([self.brz, "add", "-q", "--", name], self.path)
        _run([self.brz, "commit", "-q", "-m", message or f"change {name}",
              *(["--author", author] if author else [])], self.path)
        return self.head()

    def head(self) -> str:
        return _run([self.brz, "revision-info", "-d", self.path]).split()[1]
