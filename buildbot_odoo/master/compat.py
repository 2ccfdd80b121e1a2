"""anybox.buildbot.odoo's Python API, accepted as it was, with a warning naming today's form.

A master.cfg written for the original builds its configurator as
``BuildoutsConfigurator(basedir, BuildmasterConfig, manifest_paths=...,
workers_path=..., poll_interval=..., capabilities=...)`` and calls
``populate()`` without argument; the older anybox.buildbot.openerp named the
fleet file ``slaves.cfg`` (``slaves_path=``).  These still work: the
warnings (located at the master.cfg line that made the configurator) go to
``check`` and to the master's log with the configuration's other problems.
Today's form, the documented one: ``BuildoutsConfigurator(basedir,
manifest_paths=..., workers_path=..., capabilities=...)`` and
``populate(BuildmasterConfig)``.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WARNING, Problem

ORIGINAL = "anybox.buildbot.odoo"
#: the original's positional parameters after (basedir, BuildmasterConfig)
OLD_POSITIONAL = ("manifest_paths", "workers_path", "poll_interval", "capabilities")
#: today's positional parameters after basedir
POSITIONAL = ("manifest_paths", "workers_path", "capabilities")
OLD_WORKERS_FILE = "slaves.cfg"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Arguments:
    """The configurator's arguments, whichever form they came in."""

    given: dict[str, object] = field(default_factory=dict)
    config: MutableMapping | None = None  # the original's second positional argument
    problems: list[Problem] = field(default_factory=list)


def caller_location() -> dict[str, object]:
    """The file and line of the user's code calling into buildbot_odoo (master.cfg)."""
    frame = sys._getframe(1)
    while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(
            _PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return {}
    path = Path(frame.f_code.co_filename)
    return {"file": path.name if path.name == "master.cfg" else str(path),
            "line": frame.f_lineno}


def deprecated(message: str) -> Problem:
    return Problem(message, severity=WARNING, **caller_location())  # type: ignore[arg-type]


def bind(args: tuple, keywords: dict[str, object]) -> Arguments:
    """Positional and keyword arguments after ``basedir``, in either form.

    ``keywords`` holds the keyword arguments given (None: not given).
    """
    bound = Arguments()
    positional = list(args)
    names = POSITIONAL
    if positional and isinstance(positional[0], MutableMapping):
        bound.config = positional.pop(0)
        names = OLD_POSITIONAL
        bound.problems.append(deprecated(
            f"BuildoutsConfigurator(basedir, BuildmasterConfig, ...) then populate() is "
            f"{ORIGINAL}'s form: write BuildoutsConfigurator(basedir, ...) then "
            "populate(BuildmasterConfig)"))
    if len(positional) > len(names):
        raise TypeError(f"BuildoutsConfigurator() takes at most {len(names) + 1} positional "
                        f"arguments after basedir ({', '.join(names)})")
    bound.given = dict(zip(names, positional, strict=False))
    slaves_path = keywords.pop("slaves_path", None)
    if slaves_path is not None:
        bound.problems.append(deprecated(
            "slaves_path= is anybox.buildbot.openerp's name: write workers_path="))
        if keywords.get("workers_path") is None:
            keywords["workers_path"] = slaves_path
    for name, value in keywords.items():
        if value is None:
            continue
        if name in bound.given:
            raise TypeError(f"BuildoutsConfigurator() got multiple values for {name!r}")
        bound.given[name] = value
    return bound


def master_directory(basedir: str | Path) -> tuple[Path, Problem | None]:
    """The master directory; the original also accepted master.cfg's own path."""
    path = Path(basedir)
    if path.is_file():
        return path.parent, deprecated(
            f"the path of master.cfg given for the master directory ({ORIGINAL} accepted "
            "it): write configure_from_buildouts(basedir, BuildmasterConfig)")
    return path, None


def workers_file(basedir: Path, workers_path: str | Path, default: str
                 ) -> tuple[str | Path, Problem | None]:
    """``slaves.cfg`` in place of a missing default ``workers.cfg``, with a warning."""
    if str(workers_path) != default or (basedir / default).exists() \
            or not (basedir / OLD_WORKERS_FILE).is_file():
        return workers_path, None
    return OLD_WORKERS_FILE, Problem(
        f"read in place of {default}, which does not exist: {OLD_WORKERS_FILE} is "
        f"anybox.buildbot.openerp's name for it; rename it {default} (buildbot-odoo migrate "
        "does)", file=OLD_WORKERS_FILE, severity=WARNING)
