"""Auto-watch files: what a build found its buildout checks out (SPEC 1, 5, 6).

A build with ``auto-watch = true`` introspects its buildout after running it
and uploads the result to ``<master>/watch/<build name>``; the next time the
master reads its configuration (reconfig, restart, ``buildbot-odoo check``),
this module reads those files back and hands their branches to
:mod:`buildbot_odoo.watching.plan`, which merges them with the manifest's ``watch``
lines.

The files come from workers, so they are data to check, never to trust (a
compromised worker writes what it wants there): a file larger than
:data:`MAX_SIZE`, not valid JSON, not of this format, naming another
build, holding a malformed entry -- above all a URL or branch that ``git`` or
``hg`` would read as an option, or a transport that runs a command (the
manifest's rules, :func:`buildbot_odoo.config.manifest.checked_watch`) --
or made for another ``buildout`` than the manifest now gives (stale), is
reported as a warning naming the file and skipped: never fatal, the master
keeps running with the manifest's own watches.  A file gives at most
:data:`MAX_SOURCES_PER_FILE` sources, and all files together at most
:data:`MAX_AUTO_WATCH_SOURCES` (each one a poller): what is beyond is cut,
with a warning naming the file.  Files for builds that no longer exist or no
longer ask for auto-watch are reported too.  The format (version 1)::

    {"format": 1, "build": "sale", "buildout": "git https://... 17.0 buildout.cfg",
     "part": "odoo",
     "sources": [{"vcs": "git", "url": "https://...", "branch": "17.0", "option": "addons"}],
     "fixed": [{"vcs": "git", "url": "https://...", "revision": "1a2b3c", "option": "addons"}]}

``sources`` are the branches the buildout follows (watched); ``fixed`` the
sources pinned to a tag or revision (not watched, kept for the record).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config.manifest import BuildSpec, WatchSpec, checked_watch
from ..config.textfile import UnreadableFile, read_text
from ..config.values import InvalidValue
from ..errors import Problems

WATCH_DIR = "watch"
FORMAT = 1
#: the largest file read (the upload step refuses larger ones too)
MAX_SIZE = 1 << 20
#: the most sources one file may give: a buildout with more addon repositories is no real one
MAX_SOURCES_PER_FILE = 200
#: the most sources all auto-watch files together may give (one poller each, at most)
MAX_AUTO_WATCH_SOURCES = 2000
#: temporary files Buildbot's FileUpload writes before renaming into place
UPLOAD_TEMP_PREFIX = "buildbot-transfer-"
KNOWN_VCS = ("git", "hg", "bzr")

PENDING = "pending"
MERGED = "merged"
STALE = "stale"
MALFORMED = "malformed"


def watch_file(basedir: str | Path, build: str, directory: str | Path = WATCH_DIR) -> Path:
    """Where the master keeps ``build``'s auto-watch data.

    ``directory`` is the configurator's ``watch_directory``: relative to the
    master's ``basedir`` (``watch/`` by default) or absolute, e.g. a directory
    every master of a cluster mounts (docs/scale-out.md).  Build names are
    validated by the manifest loader (letters, digits, ``_.+-``, no leading
    dot), so the name is a plain file name inside it.
    """
    return Path(basedir) / directory / build


WATCH_DIRECTORY_OPTION = "watch_directory"


def check_watch_directory(value: object, problems: Problems) -> str | Path:
    """The configurator's ``watch_directory``: a non-empty path (str or Path)."""
    if isinstance(value, Path) or (isinstance(value, str) and value.strip()):
        return value
    problems.error(f"{value!r} is not a directory (a path, relative to the master "
                   "directory or absolute)", file="master.cfg", option=WATCH_DIRECTORY_OPTION)
    return WATCH_DIR


def shown_directory(directory: str | Path) -> str:
    """How messages name the watch directory: as master.cfg gives it."""
    return str(directory).rstrip("/") or "/"


@dataclass
class AutoWatchStatus:
    """What became of one build's auto-watch file; ``sources`` are merged when MERGED."""

    build: str
    state: str
    file: str
    message: str = ""
    sources: list[WatchSpec] = field(default_factory=list)
    fixed: list[dict] = field(default_factory=list)

    def as_data(self) -> dict:
        return {"state": self.state, "file": self.file, "message": self.message,
                "sources": [str(s) for s in self.sources]}


class WatchFileError(ValueError):
    """A watch file that cannot be used; the message says why."""


def parse_watch_data(text: str, build: BuildSpec) -> tuple[list[WatchSpec], list[dict]]:
    """``(sources, fixed)`` of a watch file's text made for ``build``.

    Raises :class:`WatchFileError` for a malformed file and :class:`StaleWatchFile`
    for one made for another buildout or part than the manifest now gives.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise WatchFileError(f"not valid JSON ({exc})") from None
    except RecursionError:  # '[[[[...': json recurses once per level
        raise WatchFileError("not valid JSON (nested too deeply)") from None
    if isinstance(data, list):
        raise LegacyWatchFile(legacy_watch_sources(data))
    if not isinstance(data, dict):
        raise WatchFileError("not a JSON object")
    if data.get("format") != FORMAT:
        raise WatchFileError(f"unknown format {data.get('format')!r} (expected {FORMAT})")
    if data.get("build") != build.name:
        raise WatchFileError(f"made for build {data.get('build')!r}, not {build.name!r}")
    for key, now in (("buildout", build.options.get("buildout", "")),
                     ("part", build.buildout_part)):
        if data.get(key) != now:
            raise StaleWatchFile(f"made for {key} {data.get(key)!r}, the manifest now says "
                                 f"{now!r}; the next build will replace it")
    sources, fixed = data.get("sources"), data.get("fixed", [])
    if not isinstance(sources, list) or not isinstance(fixed, list):
        raise WatchFileError("'sources' and 'fixed' must be lists")
    return [_source(i, entry) for i, entry in enumerate(sources)], fixed


class StaleWatchFile(WatchFileError):
    """A well-formed file describing another buildout than the current one."""


class LegacyWatchFile(WatchFileError):
    """A file of anybox.buildbot.odoo's format: its sources, read as they are."""

    def __init__(self, sources: list[WatchSpec]):
        super().__init__("anybox.buildbot.odoo's format")
        self.sources = sources


def legacy_watch_sources(data: list) -> list[WatchSpec]:
    """anybox.buildbot.odoo's files: a list of ``{"vcs", "url", "revspec"}``, the
    ``revspec`` of a watched git or hg source being its branch (its ``watch.py``)."""
    return [_source(index, {"vcs": entry.get("vcs"), "url": entry.get("url"),
                            "branch": entry.get("revspec")} if isinstance(entry, dict) else entry)
            for index, entry in enumerate(data)]


def _source(index: int, entry: object) -> WatchSpec:
    where = f"sources[{index}]"
    if not isinstance(entry, dict):
        raise WatchFileError(f"{where} is not an object")
    vcs, url, branch = entry.get("vcs"), entry.get("url"), entry.get("branch")
    if vcs not in KNOWN_VCS:
        raise WatchFileError(f"{where}: unknown vcs {vcs!r} (expected one of "
                             f"{', '.join(KNOWN_VCS)})")
    if not isinstance(url, str):
        raise WatchFileError(f"{where}: {url!r} is not a URL")
    if vcs != "bzr" and not isinstance(branch, str):
        raise WatchFileError(f"{where}: {branch!r} is not a branch name")
    try:
        return checked_watch(vcs, url, None if vcs == "bzr" else branch)
    except InvalidValue as exc:
        raise WatchFileError(f"{where}: {exc}") from None


def _read(path: Path) -> str:
    try:
        return read_text(path, MAX_SIZE)
    except UnreadableFile as exc:
        raise WatchFileError(str(exc)) from None


def load_auto_watches(basedir: Path, builds: Sequence[BuildSpec], problems: Problems,
                      watch_directory: str | Path = WATCH_DIR) -> dict[str, AutoWatchStatus]:
    """The status of every auto-watch build's file; unusable files are warned about."""
    directory = Path(basedir) / watch_directory
    statuses: dict[str, AutoWatchStatus] = {}
    budget = MAX_AUTO_WATCH_SOURCES
    for build in builds:
        if build.auto_watch and build.buildout is not None:
            status = _load_one(basedir, build, problems, watch_directory)
            budget -= _cut_to_budget(status, budget, problems)
            statuses[build.name] = status
    _report_orphans(directory, statuses, problems, shown_directory(watch_directory))
    return statuses


def _cut_to_budget(status: AutoWatchStatus, budget: int, problems: Problems) -> int:
    """Keep no more of ``status``'s sources than ``budget`` allows; how many are kept."""
    count = len(status.sources)
    if count > budget:
        kept = max(budget, 0)
        told = f"only {kept} of this file's {count} are" if kept else \
            f"none of this file's {count} is"
        problems.warning(f"the auto-watch files together give more than "
                         f"{MAX_AUTO_WATCH_SOURCES} sources: {told} watched",
                         file=status.file, section=status.build)
        status.sources = status.sources[:kept]
        status.message = f"{kept} branches (cut from {count})"
    return len(status.sources)


def _load_one(basedir: Path, build: BuildSpec, problems: Problems,
              watch_directory: str | Path = WATCH_DIR) -> AutoWatchStatus:
    path = watch_file(basedir, build.name, watch_directory)
    shown = f"{shown_directory(watch_directory)}/{build.name}"
    if not os.path.lexists(path):
        return AutoWatchStatus(build.name, PENDING, shown,
                               "no data yet: the next build of this section uploads it")
    try:
        sources, fixed = parse_watch_data(_read(path), build)
    except LegacyWatchFile as exc:
        sources, fixed = exc.sources, []
        problems.warning(f"{exc} (a list, without the build and buildout it was made for), "
                         f"read as it is (sources: {len(sources)}); the next build of this "
                         "section replaces the file, buildbot-odoo migrate converts it now",
                         file=shown, section=build.name)
    except StaleWatchFile as exc:
        problems.warning(f"stale auto-watch data, skipped: {exc}", file=shown,
                         section=build.name)
        return AutoWatchStatus(build.name, STALE, shown, str(exc))
    except (WatchFileError, OSError) as exc:
        problems.warning(f"unusable auto-watch data, skipped: {exc}", file=shown,
                         section=build.name)
        return AutoWatchStatus(build.name, MALFORMED, shown, str(exc))
    polled = list(sources)
    if len(polled) > MAX_SOURCES_PER_FILE:
        problems.warning(f"{len(polled)} sources, more than the {MAX_SOURCES_PER_FILE} an "
                         f"auto-watch file may give: only the first {MAX_SOURCES_PER_FILE} "
                         "are watched", file=shown, section=build.name)
        polled = polled[:MAX_SOURCES_PER_FILE]
    return AutoWatchStatus(build.name, MERGED, shown, f"{len(polled)} branches", polled,
                           fixed[:MAX_SOURCES_PER_FILE])


def _report_orphans(directory: Path, statuses: dict[str, AutoWatchStatus],
                    problems: Problems, shown: str = WATCH_DIR) -> None:
    """Files no auto-watch build owns: left over from a removed build, or auto-watch off."""
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        name = path.name
        if name in statuses or name.startswith(UPLOAD_TEMP_PREFIX):
            continue
        problems.warning("stale auto-watch data, skipped: no build of that name has "
                         "auto-watch = true; delete the file if the build is gone",
                         file=f"{shown}/{name}")
