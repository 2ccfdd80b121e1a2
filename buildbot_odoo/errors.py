"""Configuration problems, located precisely enough for a user to fix them.

Every loader reports problems as :class:`Problem` records collected in a
:class:`Problems` list, so that ``buildbot-odoo check`` can print all of them at
once and :func:`Problems.raise_if_errors` can refuse the whole configuration
before anything is handed to Buildbot (nothing is ever half-configured).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .config.values import hide_secret_assignments

log = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a configuration file.

    ``str()`` gives the ``file:line: section: option: message`` form of the
    command line, dropping the parts that are unknown.
    """

    message: str
    file: str | None = None
    line: int | None = None
    section: str | None = None
    option: str | None = None
    severity: str = ERROR

    def __post_init__(self) -> None:
        # the last guard: whatever text a check quoted, no secret assignment reaches a
        # terminal or twistd.log (the readers already never quote a secret line)
        object.__setattr__(self, "message", hide_secret_assignments(self.message))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        where = self.file or "<config>"
        if self.line:
            where = f"{where}:{self.line}"
        return where

    def __str__(self) -> str:
        parts = [self.location()]
        if self.section is not None:
            parts.append(self.section)
        if self.option is not None:
            parts.append(self.option)
        text = ": ".join(parts) + ": "
        if not self.is_error:
            text += "warning: "
        return text + self.message


class ConfigError(ValueError):
    """The configuration is invalid; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = [p for p in problems if p.is_error]
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems while loading, so loaders can report everything at once.

    The same problem reported twice (a section and the sections inheriting
    from it meet the same bad option) is kept once.
    """

    def __init__(self) -> None:
        self._items: list[Problem] = []
        self._seen: set[Problem] = set()

    def error(self, message: str, **where: object) -> None:
        self.add(Problem(message, severity=ERROR, **where))  # type: ignore[arg-type]

    def warning(self, message: str, **where: object) -> None:
        self.add(Problem(message, severity=WARNING, **where))  # type: ignore[arg-type]

    def add(self, problem: Problem) -> None:
        if problem not in self._seen:
            self._seen.add(problem)
            self._items.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self._items if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self._items if not p.is_error]

    def raise_if_errors(self) -> None:
        """Raise :class:`ConfigError` with all errors; log warnings either way."""
        for problem in self.warnings:
            log.warning("%s", problem)
        if self.errors:
            raise ConfigError(self.errors)
