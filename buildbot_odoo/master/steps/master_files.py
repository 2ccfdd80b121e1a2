"""Master-side directory steps: make an upload replace what was published before.

Buildbot's ``DirectoryUpload`` unpacks into its destination without removing
what is there, so files deleted from a project's documentation would stay
published forever.  The ``doc`` subfactory uploads into a staging directory
emptied first (:class:`ClearMasterDirectory`), then swaps it with the
published one (:class:`PublishMasterDirectory`): readers never see a
half-written tree, and a failed upload leaves the previous one in place.

File system work runs in a thread, away from the master's reactor.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from buildbot.interfaces import IRenderable
from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS
from twisted.internet import defer, threads

OLD_SUFFIX = ".old"


def _remove(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.remove(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def swap_in(staging: str, published: str) -> None:
    """Make ``staging`` the ``published`` directory; the previous one is removed."""
    old = published + OLD_SUFFIX
    _remove(old)
    if os.path.lexists(published):
        os.rename(published, old)
    os.rename(staging, published)
    _remove(old)


class ClearMasterDirectory(buildstep.BuildStep):
    """Remove a directory on the master (if any) and make its parent."""

    name = "clear-master-directory"
    renderables = ["path"]

    def __init__(self, path: str | IRenderable, **kwargs: Any) -> None:
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.path = path

    def _clear(self) -> None:
        _remove(self.path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)

    @defer.inlineCallbacks
    def run(self):
        try:
            yield threads.deferToThread(self._clear)
        except OSError as exc:
            self.descriptionDone = [f"cannot clear {self.path}: {exc.strerror or exc}"]
            return FAILURE
        self.descriptionDone = [f"cleared {self.path}"]
        return SUCCESS


class PublishMasterDirectory(buildstep.BuildStep):
    """Swap an uploaded staging directory with the published one, on the master."""

    name = "publish-master-directory"
    renderables = ["staging", "published"]

    def __init__(self, staging: str | IRenderable, published: str | IRenderable,
                 **kwargs: Any) -> None:
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.staging = staging
        self.published = published

    @defer.inlineCallbacks
    def run(self):
        try:
            yield threads.deferToThread(swap_in, self.staging, self.published)
        except OSError as exc:
            self.descriptionDone = [f"cannot publish {self.published}: {exc.strerror or exc}"]
            return FAILURE
        self.descriptionDone = [f"published {self.published}"]
        return SUCCESS
