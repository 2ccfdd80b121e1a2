"""Capability versions and requirements (SPEC 3), in plain Python.

A :class:`Version` is what a worker declares (``postgresql 9.2devel``); a
:class:`VersionFilter` is what a build asks for (``postgresql >= 9.1 < 9.3``).
Both are parsed once, in their constructors, and compare by a canonical form so
they can be deduplicated and used as dict keys.

>>> Version('9.2devel') < Version('9.2beta1') < Version('9.2rc1') < Version('9.2')
True
>>> Version('9.2-devel') == Version('9.2devel')
True
>>> Version('17.0') in VersionFilter.parse('postgresql >= 9.1 AND < 18 OR == 8.4')
True
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

_VERSION_RE = re.compile(
    r"""^(?P<numbers>\d+(?:\.\d+)*)
        (?:(?P<attached>[A-Za-z][A-Za-z0-9_+]*)|-(?P<dashed>[A-Za-z0-9][A-Za-z0-9_+.]*))?$""",
    re.VERBOSE,
)
_PRERELEASE_RE = re.compile(r"^(?P<kind>devel|alpha|beta|rc)(?P<n>\d*)$", re.IGNORECASE)
_PRERELEASE_RANK = {"devel": 0, "alpha": 1, "beta": 2, "rc": 3}
_RELEASE_RANK = 4
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_TERM_RE = re.compile(r"^(?P<op>==|!=|<=|>=|<|>)(?P<version>.*)$")
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
NOT_USED = "not-used"


class InvalidVersion(ValueError):
    """A version text that does not follow the grammar; the message quotes it."""


class InvalidRequirement(ValueError):
    """A requirement text that does not follow the grammar; the message quotes it."""


@functools.total_ordering
class Version:
    """A capability version: numbers, then an optional pre-release or variant suffix.

    Missing trailing numbers count as zero, pre-releases sort before the
    release in PostgreSQL's order, and other suffixes are variants of the
    release's rank (sorted among themselves by suffix, never equal to it):

    >>> sorted(Version(v) for v in ['9.2', '9.2rc1', '9.2beta10', '9.2beta2', '9.2alpha1'])
    [<Version('9.2alpha1')>, <Version('9.2beta2')>, <Version('9.2beta10')>, \
<Version('9.2rc1')>, <Version('9.2')>]
    >>> Version('15') == Version('15.0'), Version('8.4') == Version('8.4-special')
    (True, False)
    >>> str(Version('9.2-devel'))
    '9.2-devel'
    """

    __slots__ = ("_key", "_text", "numbers", "suffix")

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise InvalidVersion(f"Invalid version: {text!r} (expected a string)")
        match = _VERSION_RE.match(text)
        if match is None:
            raise InvalidVersion(
                f"Invalid version: {text!r} (expected dot-separated numbers with an optional "
                "suffix, e.g. 9.2, 9.2devel, 8.4-special)")
        self._text = text
        self.numbers = tuple(int(n) for n in match.group("numbers").split("."))
        self.suffix = match.group("attached") or match.group("dashed")
        self._key = self._compute_key()

    @classmethod
    def parse(cls, text: str) -> Version:
        return cls(text)

    def _compute_key(self) -> tuple:
        numbers = list(self.numbers)
        while len(numbers) > 1 and numbers[-1] == 0:
            numbers.pop()
        if self.suffix is None:
            return (tuple(numbers), _RELEASE_RANK, 0, "")
        lowered = self.suffix.lower()
        pre = _PRERELEASE_RE.match(lowered)
        if pre:
            return (tuple(numbers), _PRERELEASE_RANK[pre.group("kind")],
                    int(pre.group("n") or 0), "")
        return (tuple(numbers), _RELEASE_RANK, 0, lowered)

    @property
    def is_prerelease(self) -> bool:
        return self._key[1] < _RELEASE_RANK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key == other._key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<Version({self._text!r})>"


Term = tuple[str, Version]

_COMPARE = {
    "==": lambda v, ref: v == ref,
    "!=": lambda v, ref: v != ref,
    "<": lambda v, ref: v < ref,
    "<=": lambda v, ref: v <= ref,
    ">": lambda v, ref: v > ref,
    ">=": lambda v, ref: v >= ref,
}


class VersionFilter:
    """A requirement on a capability: ``NAME [CRITERIA]``.

    Terms joined by spaces (or ``AND``) must all hold; ``OR`` separates
    alternatives and binds less tightly.

    >>> f = VersionFilter.parse('postgresql > 9.0 OR == 8.4')
    >>> [f.match(v) for v in ('8.4', '9.0', '9.1')]
    [True, False, True]
    >>> str(VersionFilter.parse('postgresql >=9.1 AND <9.3'))
    'postgresql >= 9.1 < 9.3'
    >>> VersionFilter.parse('rabbitmq').match(None), VersionFilter.parse('pg >= 1').match(None)
    (True, False)
    """

    __slots__ = ("alternatives", "name", "not_used")

    def __init__(self, name: str, alternatives: Sequence[Sequence[Term]] = (),
                 not_used: bool = False):
        if not _NAME_RE.match(name or ""):
            raise InvalidRequirement(f"Invalid requirement: {name!r} is not a capability name")
        if not_used and alternatives:
            raise InvalidRequirement(f"Invalid requirement for {name!r}: not-used takes no "
                                     "version criteria")
        self.name = name
        self.alternatives = tuple(tuple(group) for group in alternatives)
        self.not_used = not_used

    @classmethod
    def parse(cls, text: str) -> VersionFilter:
        tokens = _tokenize(text)
        if not tokens:
            raise InvalidRequirement(f"Invalid requirement: {text!r} is empty")
        name, criteria = tokens[0], tokens[1:]
        if not _NAME_RE.match(name) or name.upper() in ("AND", "OR"):
            raise InvalidRequirement(f"Invalid requirement: {text!r}: {name!r} is not a "
                                     "capability name")
        if criteria == [NOT_USED]:
            return cls(name, not_used=True)
        if NOT_USED in criteria:
            raise InvalidRequirement(f"Invalid requirement: {text!r}: {NOT_USED!r} must be "
                                     "the only criterion")
        return cls(name, _parse_alternatives(text, criteria))

    @property
    def has_criteria(self) -> bool:
        return bool(self.alternatives) or self.not_used

    def match(self, version: Version | str | None) -> bool:
        """Whether a declared version (None: declared without version) fits."""
        if self.not_used:
            return False
        if not self.alternatives:
            return True
        if version is None:
            return False
        if isinstance(version, str):
            version = Version(version)
        return any(all(_COMPARE[op](version, ref) for op, ref in group)
                   for group in self.alternatives)

    def __contains__(self, version: Version | str | None) -> bool:
        return self.match(version)

    def filter(self, versions: Iterable[Version | str | None]) -> list:
        """The matching versions, in input order."""
        return [v for v in versions if self.match(v)]

    def criteria_str(self) -> str:
        if self.not_used:
            return NOT_USED
        return " OR ".join(" ".join(f"{op} {ref}" for op, ref in group)
                           for group in self.alternatives)

    def _key(self) -> tuple:
        return (self.name, self.not_used, self.alternatives)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionFilter):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        criteria = self.criteria_str()
        return f"{self.name} {criteria}" if criteria else self.name

    def __repr__(self) -> str:
        return f"<VersionFilter({str(self)!r})>"


def _tokenize(text: str) -> list[str]:
    """Split on white space, and split an operator from a version written against it."""
    tokens: list[str] = []
    for raw in (text or "").split():
        match = _TERM_RE.match(raw)
        if match and match.group("version"):
            tokens.extend([match.group("op"), match.group("version")])
        else:
            tokens.append(raw)
    return tokens


def _parse_alternatives(text: str, tokens: Sequence[str]) -> list[list[Term]]:
    alternatives: list[list[Term]] = [[]]
    position = 0
    expect_term = True  # after the name, OR and AND a term must follow
    while position < len(tokens):
        token = tokens[position]
        keyword = token.upper()
        if keyword in ("AND", "OR"):
            if expect_term:
                raise InvalidRequirement(f"Invalid requirement: {text!r}: {token!r} must "
                                         "follow a version term")
            if keyword == "OR":
                alternatives.append([])
            expect_term = True
            position += 1
            continue
        alternatives[-1].append(_parse_term(text, tokens, position))
        expect_term = False
        position += 2
    if expect_term and any(alternatives):
        raise InvalidRequirement(f"Invalid requirement: {text!r} ends with {tokens[-1]!r}")
    return alternatives if any(alternatives) else []


def _parse_term(text: str, tokens: Sequence[str], position: int) -> Term:
    op = tokens[position]
    if op not in OPERATORS:
        raise InvalidRequirement(f"Invalid requirement: {text!r}: {op!r} has no operator "
                                 f"(expected one of {' '.join(OPERATORS)} before it)")
    if position + 1 >= len(tokens) or tokens[position + 1].upper() in ("AND", "OR"):
        raise InvalidRequirement(f"Invalid requirement: {text!r}: operator {op!r} has no "
                                 "version")
    try:
        return op, Version(tokens[position + 1])
    except InvalidVersion as exc:
        raise InvalidRequirement(f"Invalid requirement: {text!r}: {exc}") from None
