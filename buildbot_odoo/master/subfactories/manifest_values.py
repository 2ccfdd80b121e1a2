"""Reading a subfactory's ``<name>.<option>`` values, with located errors.

Subfactories read their options when the master loads its configuration;
a bad value is a :class:`~buildbot_odoo.errors.ConfigError` naming the
manifest file, line, section and option (``buildbot checkconfig`` shows it),
never a build that breaks later.  Each built-in subfactory declares the
options it accepts with :func:`accepts`, which is also what the manifest
loader checks option names against (unknown ones are warned about).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

from ...config import values
from ...errors import ConfigError, Problem
from .base import BuildOptions

F = TypeVar("F", bound=Callable)
T = TypeVar("T")
#: the longest timeout a subfactory option may set: a week
MAX_SECONDS = 7 * 24 * 3600


def accepts(*names: str) -> Callable[[F], F]:
    """Declare a subfactory's ``<subfactory>.<option>`` names (the ``options`` attribute)."""
    def declare(subfactory: F) -> F:
        subfactory.options = tuple(names)  # type: ignore[attr-defined]
        return subfactory
    return declare


def needs_database(subfactory: F) -> F:
    """Declare that a subfactory works on the testing database (the ``needs_database``
    attribute): a build saying ``postgresql not-used`` cannot list it."""
    subfactory.needs_database = True  # type: ignore[attr-defined]
    return subfactory


def config_error(options: BuildOptions, option: str, message: str) -> NoReturn:
    """Refuse the configuration, naming the manifest file, section and option."""
    raise ConfigError([Problem(message, **options.build.location(option))])  # type: ignore[arg-type]


def text(options: BuildOptions, name: str, default: str = "") -> str:
    """The option's text, stripped; ``default`` when absent or empty."""
    return options.get(name, "").strip() or default


def _checked(options: BuildOptions, name: str, check: Callable[[], T]) -> T:
    """``check()``'s value, or the configuration refused naming the option."""
    try:
        return check()
    except values.InvalidValue as exc:
        config_error(options, name, str(exc))


def boolean(options: BuildOptions, name: str, default: bool) -> bool:
    value = text(options, name)
    if not value:
        return default
    return _checked(options, name, lambda: values.boolean(value))


def integer(options: BuildOptions, name: str, default: int | None, *,
            minimum: int = 0, maximum: int) -> int | None:
    """A whole number from ``minimum`` to ``maximum``; ``default`` when absent."""
    value = text(options, name)
    if not value:
        return default
    return _checked(options, name, lambda: values.whole_number(
        value, minimum=minimum, maximum=maximum))


def seconds_option(options: BuildOptions, option: str, default: int | None) -> int | None:
    """A ``<subfactory>.<option>`` holding a positive number of seconds (a week at most)."""
    value = text(options, option)
    if not value:
        return default
    return _checked(options, option, lambda: values.whole_number(
        value, minimum=1, maximum=MAX_SECONDS, unit="seconds"))


def identifier(options: BuildOptions, name: str, kind: str, default: str = "") -> str:
    """A name of ``kind`` (see :data:`buildbot_odoo.config.values.IDENTIFIERS`)."""
    value = text(options, name, default)
    return _checked(options, name, lambda: values.identifier(value, kind))


def identifiers(options: BuildOptions, name: str, kind: str) -> list[str]:
    """Whitespace-separated names of ``kind``."""
    return [_checked(options, name, lambda w=w: values.identifier(w, kind))
            for w in words(options, name)]


#: what Buildbot and buildbot-odoo keep in a master's base directory: no build writes there
MASTER_OWN = ("master.cfg", "master.cfg.sample", "buildbot.tac", "secrets", "watch", "pollers",
              "state.sqlite", "twistd.log", "twistd.pid", "http.log", "public_html", "templates",
              "workers.cfg", "buildouts")


def master_own(configurator) -> list[str]:
    """:data:`MASTER_OWN` and the first component of the configurator's own files."""
    base = Path(configurator.basedir).resolve()
    files = [getattr(configurator, "workers_path", None),
             *getattr(configurator, "manifest_paths", ())]
    names = list(MASTER_OWN)
    for path in filter(None, files):
        full = (base / path).resolve()
        if base in full.parents:
            names.append(full.relative_to(base).parts[0])
    return names


DOCUMENTATION = "documentation"
PACKAGES = "packages"
_GO = {DOCUMENTATION: "documentation goes", PACKAGES: "packages go"}


@dataclass(frozen=True)
class MasterArea:
    """A master directory a build writes to (or sends from), and where it was configured."""

    kind: str
    path: Path
    option: str
    build: str
    file: str
    line: int
    section: str

    def where(self) -> str:
        return f"{self.option} of {self.build}, {self.file}:{self.line}"


def master_area(configurator, options: BuildOptions, name: str, default: str = "",
                kind: str = DOCUMENTATION) -> Path:
    """A directory of the master for this build (:func:`.values.master_area`'s rule).

    Recorded in the configurator's ``master_areas`` (when it keeps that list),
    so that :func:`area_clashes` can tell builds writing in each other's area.
    """
    value = text(options, name, default)
    path = _checked(options, name, lambda: values.master_area(
        configurator.basedir, value, own=master_own(configurator)))
    record = getattr(configurator, "master_areas", None)
    if isinstance(record, list):
        where = options.build.location(name)
        record.append(MasterArea(kind, path, name, options.build.name, str(where["file"]),
                                 int(where["line"] or 0), str(where["section"])))
    return path


def area_clashes(areas: list[MasterArea]) -> list[Problem]:
    """Areas of different kinds that are one or nest (a doc build named like a package
    directory would replace it), and documentation areas that nest.  Packaging and
    archive builds share their area by design."""
    distinct = sorted(set(areas), key=lambda a: (a.file, a.line, a.build))
    found: list[Problem] = []
    told: set[frozenset[Path]] = set()  # each pair of directories once
    for index, area in enumerate(distinct):
        for other in distinct[:index]:
            message = _clash(area, other)
            pair = frozenset((area.path, other.path))
            if message and pair not in told:
                told.add(pair)
                found.append(Problem(message, file=area.file, line=area.line,
                                     section=area.section, option=area.option))
                break
    return found


def _clash(area: MasterArea, other: MasterArea) -> str | None:
    same = area.kind == other.kind
    if same and area.kind == PACKAGES:
        return None
    if area.path == other.path:
        if same:
            return None
        return (f"{area.path} is also where {_GO[other.kind]} ({other.where()}): "
                "documentation and packages need directories of their own")
    if other.path in area.path.parents:
        relation = f"is inside {other.path}"
    elif area.path in other.path.parents:
        relation = f"holds {other.path}"
    else:
        return None
    if same:
        return (f"{area.path} {relation}, where documentation also goes ({other.where()}): "
                "documentation areas cannot nest")
    return (f"{area.path} {relation}, where {_GO[other.kind]} ({other.where()}): "
            "documentation and packages need directories of their own")


def words(options: BuildOptions, name: str, default: tuple[str, ...] = ()) -> list[str]:
    """Whitespace-separated words (several lines allowed)."""
    value = text(options, name)
    return value.split() if value else list(default)


def arguments(options: BuildOptions, name: str) -> list[str]:
    """Command-line arguments, split as a shell would (quotes group words), never run by one."""
    try:
        return shlex.split(text(options, name))
    except ValueError as exc:
        config_error(options, name, f"cannot split arguments: {exc}")


def relative_path(options: BuildOptions, name: str, default: str = "", *,
                  root_ok: bool = False) -> str:
    """A path inside some root (the buildout, an upload area), in its canonical form.

    The rule is :func:`buildbot_odoo.config.values.relative_path`; ``root_ok``
    accepts ``.``, the root itself.  Empty when neither the option nor
    ``default`` gives one.
    """
    value = text(options, name, default)
    if not value:
        return value
    return _checked(options, name, lambda: values.relative_path(value, root_ok=root_ok))


def relative_paths(options: BuildOptions, name: str, default: tuple[str, ...] = (), *,
                   root_ok: bool = False) -> list[str]:
    """Whitespace-separated paths, each checked as :func:`relative_path` does."""
    return [_checked(options, name, lambda v=v: values.relative_path(v, root_ok=root_ok))
            for v in words(options, name, default)]


def executable(options: BuildOptions, name: str, default: str) -> str:
    """One executable path (relative to the buildout, or absolute, or on PATH)."""
    value = text(options, name, default)
    if any(c.isspace() for c in value):
        config_error(options, name, f"{value!r} must be one executable; put arguments in "
                     f"the matching '.arguments' option")
    return _checked(options, name, lambda: values.not_an_option(value, "executable"))
