"""Reading a subfactory's ``<name>.<option>`` values, with located errors.

Subfactories read their options when the master loads its configuration;
a bad value is a :class:`~buildbot_odoo.errors.ConfigError` naming the
manifest file, line, section and option (``buildbot checkconfig`` shows it),
never a build that breaks later.  Each built-in subfactory declares the
options it accepts with :func:`accepts`, which is also what the manifest
loader checks option names against (unknown ones are warned about).
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable
from typing import NoReturn, TypeVar

from ...config.manifest import parse_bool
from ...errors import ConfigError, Problem
from .base import BuildOptions

F = TypeVar("F", bound=Callable)


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


def boolean(options: BuildOptions, name: str, default: bool) -> bool:
    value = text(options, name)
    if not value:
        return default
    try:
        return parse_bool(value)
    except ValueError as exc:
        config_error(options, name, str(exc))


def integer(options: BuildOptions, name: str, default: int | None,
            minimum: int = 0) -> int | None:
    value = text(options, name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        config_error(options, name, f"{value!r} is not a whole number")
    if number < minimum:
        config_error(options, name, f"{value!r} is below {minimum}")
    return number


def seconds_option(options: BuildOptions, option: str, default: int | None) -> int | None:
    """A ``<subfactory>.<option>`` holding a positive number of seconds."""
    value = text(options, option)
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        config_error(options, option, f"{value!r} is not a positive number of seconds")
    return int(value)


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


def relative_path(options: BuildOptions, name: str, default: str = "") -> str:
    """A path relative to some base (the buildout, the master), without ``..``."""
    value = text(options, name, default)
    if value and not is_safe_relative(value):
        config_error(options, name, f"{value!r} must be a relative path without '..'")
    return posixpath.normpath(value) if value else value


def relative_paths(options: BuildOptions, name: str, default: tuple[str, ...] = ()) -> list[str]:
    values = words(options, name, default)
    for value in values:
        if not is_safe_relative(value):
            config_error(options, name, f"{value!r} must be a relative path without '..'")
    return [posixpath.normpath(v) for v in values]


def executable(options: BuildOptions, name: str, default: str) -> str:
    """One executable path (relative to the buildout, or absolute, or on PATH)."""
    value = text(options, name, default)
    if any(c.isspace() for c in value):
        config_error(options, name, f"{value!r} must be one executable; put arguments in "
                     f"the matching '.arguments' option")
    return value


def is_safe_relative(value: str) -> bool:
    parts = value.replace("\\", "/").split("/")
    return not value.startswith(("/", "\\")) and "\x00" not in value and ".." not in parts
