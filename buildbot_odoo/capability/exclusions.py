"""``build-exclude``: combinations of versions dropped from a build's ``build-for`` product.

GitHub Actions' ``matrix.exclude`` and Jenkins' matrix ``excludes`` answer the
same need: a build split by PostgreSQL and Python should not run the pairs
nobody supports (``postgresql == 12 AND python >= 3.12``).  Each line of the
option is one :class:`Exclusion`; a combination of versions is dropped when
every requirement of some line matches it.  Plain Python, like the rest of
the capability logic: the manifest parses and checks the lines, dispatch drops
the combinations, planning warns about a line that drops nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .versions import InvalidRequirement, InvalidVersion, Version, VersionFilter, parse_combination

__all__ = ["Exclusion", "exclusion_problems", "first_match", "parse_exclusions"]


@dataclass(frozen=True)
class Exclusion:
    """One ``build-exclude`` line: requirements that must all match for a combination to go.

    >>> line = Exclusion.parse('postgresql == 12 AND python >= 3.12')
    >>> line.matches({'postgresql': Version('12'), 'python': Version('3.12')})
    True
    >>> line.matches({'postgresql': Version('12'), 'python': Version('3.11')})
    False
    >>> str(line)
    'postgresql == 12 AND python >= 3.12'
    """

    requirements: tuple[VersionFilter, ...]
    #: index of the line in the option's value: messages point at the line itself
    offset: int = field(default=0, compare=False)

    @classmethod
    def parse(cls, text: str, offset: int = 0) -> Exclusion:
        requirements = parse_combination(text)
        for requirement in requirements:
            if requirement.not_used:
                raise InvalidRequirement(
                    f"Invalid combination: {text!r}: {str(requirement)!r}: not-used "
                    "belongs in build-for, not in build-exclude", text=text, token="not-used")
        return cls(requirements, offset)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(r.name for r in self.requirements)

    def matches(self, versions: Mapping[str, Version]) -> bool:
        """Whether the combination ``versions`` (capability -> version) is excluded."""
        return all(r.name in versions and r.match(versions[r.name]) for r in self.requirements)

    def __str__(self) -> str:
        return " AND ".join(str(r) for r in self.requirements)


def parse_exclusions(text: str) -> list[Exclusion]:
    """Every line of the option (comments and blank lines skipped); all bad lines at once."""
    exclusions, errors = [], []
    for offset, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        try:
            exclusions.append(Exclusion.parse(line, offset))
        except InvalidRequirement as exc:
            errors.append(str(exc))
    if errors:
        raise ValueError("; ".join(errors))
    return exclusions


def exclusion_problems(build_for: Sequence[VersionFilter],
                       exclusions: Iterable[Exclusion]) -> list[tuple[Exclusion, str]]:
    """What is wrong with ``exclusions`` given the build's ``build-for`` lines.

    Only the capabilities the build is split by have a version in each
    combination; a line naming another one could never match.
    """
    split = [f.name for f in build_for if not f.not_used]
    problems = []
    for exclusion in exclusions:
        for name in sorted(exclusion.names - set(split)):
            problems.append((exclusion, f"{str(exclusion)!r}: {name!r} "
                                        f"{_why_not_split(name, build_for)}"))
    return problems


def _why_not_split(name: str, build_for: Sequence[VersionFilter]) -> str:
    if any(f.name == name and f.not_used for f in build_for):
        return "is not-used in build-for: the build is not split by it"
    split = ", ".join(f.name for f in build_for if not f.not_used)
    where = f"(build-for splits by: {split})" if split else "(build-for splits by nothing)"
    hint = ""
    try:
        Version(name)
        hint = "; a version needs an operator before it, e.g. '>= " + name + "'"
    except InvalidVersion:
        pass
    return f"is not a capability the build is split by {where}{hint}"


def first_match(exclusions: Iterable[Exclusion],
                versions: Mapping[str, Version]) -> Exclusion | None:
    """The first line excluding the combination ``versions``, or None."""
    return next((e for e in exclusions if e.matches(versions)), None)
