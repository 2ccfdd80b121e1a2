"""A Bazaar poller for Buildbot 4, which has none (SPEC 7: ``watch = bzr URL``).

Built the way Buildbot's own ``HgPoller`` is: a
``ReconfigurablePollingChangeSource`` (poll interval, ``pollAtLaunch``, one
poll at a time, run once in a cluster) with ``StateMixin``, so the last
revision seen is kept in Buildbot's database under the poller's name and a
restarted master reports only what is new.  Each poll brings a private copy
of the branch (no working tree) in the poller's ``workdir`` up to date with
Breezy's ``brz``, reads the tip, and reports every mainline revision since
the last one seen as a change: author, committer, comments, files,
revision id, timestamp, ``repository`` = the polled URL and ``branch`` =
``""`` (a Bazaar branch *is* its URL; the builds' change filters match the
pair ``(URL, "")``, and a change without any branch, None, is no branch push).
The first poll only records the tip, as Buildbot's pollers do.

The commands and the parsing of their output are plain Python
(:mod:`buildbot_odoo.watching.bzr_log`): every command is an argument list
with the URL after ``--``, so nothing of a manifest or of an auto-watch file
reaches ``brz`` as an option.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from buildbot import config
from buildbot.changes import base
from buildbot.util import deferredLocked, runprocess
from buildbot.util.state import StateMixin
from twisted.internet import defer
from twisted.python import log

from ..watching import bzr_log

#: the Buildbot state key of the last revision id seen
LAST_REVISION = "lastRevision"


class BzrPollerError(RuntimeError):
    """A ``brz`` command failed: its exit code and its last words."""


class BzrPoller(base.ReconfigurablePollingChangeSource, StateMixin):
    """Poll one Bazaar branch with Breezy's ``brz`` and report its new revisions."""

    compare_attrs: ClassVar = ("repourl", "workdir", "pollInterval", "pollAtLaunch",
                               "project", "category", "brzbin")

    def __init__(self, repourl: str, **kwargs: Any) -> None:
        kwargs.setdefault("name", f"bzr {repourl}")
        self.initLock = defer.DeferredLock()
        super().__init__(repourl, **kwargs)

    def checkConfig(self, repourl: str, workdir: str | None = None,  # type: ignore[override]
                    pollInterval: int = 10 * 60, pollAtLaunch: bool = False,
                    project: str = "", category: str | None = None,
                    brzbin: str = bzr_log.BRZ, name: str | None = None) -> None:
        if workdir is None:
            config.error("BzrPoller needs a workdir")
        super().checkConfig(name=name, pollInterval=pollInterval, pollAtLaunch=pollAtLaunch)

    @defer.inlineCallbacks
    def reconfigService(self, repourl: str, workdir: str | None = None,  # type: ignore[override]
                        pollInterval: int = 10 * 60, pollAtLaunch: bool = False,
                        project: str = "", category: str | None = None,
                        brzbin: str = bzr_log.BRZ, name: str | None = None):
        self.repourl = repourl
        self.workdir = workdir
        self.project = project
        self.category = category
        self.brzbin = brzbin
        yield super().reconfigService(name=name, pollInterval=pollInterval,
                                      pollAtLaunch=pollAtLaunch)

    def describe(self) -> str:
        status = "" if self.master else " [STOPPED - check log]"
        return f"BzrPoller watching the Bazaar branch {self.repourl!r}{status}"

    # -- running brz

    def _mirror(self) -> str:
        assert self.workdir is not None
        if os.path.isabs(self.workdir):
            return self.workdir
        return os.path.join(self.master.basedir, self.workdir)

    def _command(self, words: list[str]) -> list[str]:
        """``words`` as made by :mod:`.bzr_log`, with this poller's ``brz``."""
        return [self.brzbin, *words[1:]]

    @defer.inlineCallbacks
    def _brz(self, words: list[str]):
        command = self._command(words)
        env = {**os.environ, **bzr_log.BRZ_ENVIRONMENT}
        rc, out, err = yield runprocess.run_process(
            self.master.reactor, command, workdir=self.master.basedir, env=env,
            collect_stdout=True, collect_stderr=True)
        if rc != 0:
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise BzrPollerError(f"{' '.join(command[:2])} exited with {rc}: {last[0]}")
        return out.decode("utf-8", "replace")

    # -- polling

    @deferredLocked("initLock")
    @defer.inlineCallbacks
    def poll(self):
        mirror = self._mirror()
        exists = os.path.isdir(os.path.join(mirror, ".bzr"))
        if not exists:
            os.makedirs(os.path.dirname(mirror), exist_ok=True)
        yield self._brz(bzr_log.mirror_command(self.repourl, mirror, exists))
        tip = bzr_log.parse_revision_info((yield self._brz(bzr_log.tip_command(mirror))))
        if tip is None:
            return  # an empty branch: nothing to report yet
        revno, revision_id = tip
        last = yield self.getState(LAST_REVISION, None)
        if last == revision_id:
            return
        if last is None:  # first poll: start from the tip, as Buildbot's pollers do
            yield self.setState(LAST_REVISION, revision_id)
            return
        first = yield self._first_new_revno(mirror, last, int(revno))
        text = yield self._brz(bzr_log.log_command(mirror, first, int(revno)))
        revisions = bzr_log.parse_long_log(text)
        log.msg(f"{self}: {len(revisions)} new revision(s) of {self.repourl}")
        for revision in revisions:
            yield self.master.data.updates.addChange(
                author=revision.author, committer=revision.committer,
                revision=revision.revision_id, files=revision.files,
                comments=revision.comments, when_timestamp=revision.when, branch="",
                category=self.category, project=self.project, repository=self.repourl,
                src="bzr")
            # after each change, so that none is reported twice nor missed
            yield self.setState(LAST_REVISION, revision.revision_id)
        yield self.setState(LAST_REVISION, revision_id)

    @defer.inlineCallbacks
    def _first_new_revno(self, mirror: str, last: str, tip: int):
        """The mainline revision after ``last``; the tip alone when ``last`` is no longer
        on the mainline (a rewritten history: what came in between is unknown)."""
        info = bzr_log.parse_revision_info((yield self._brz(bzr_log.tip_command(mirror, last))))
        previous = bzr_log.mainline_revno(info[0]) if info else None
        if previous is None or previous >= tip:
            return tip
        return previous + 1
