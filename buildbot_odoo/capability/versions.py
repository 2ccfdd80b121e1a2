"""Capability versions and requirements (SPEC 3), in plain Python.

A :class:`Version` is what a worker declares (``postgresql 9.2devel``); a
:class:`VersionFilter` is what a build asks for (``postgresql >= 9.1 < 9.3``).
Both are parsed once, in their constructors, and compare by a canonical form,
so they can be deduplicated and used as dict keys, while ``str()`` gives back
what was written. This module must not import Buildbot: the configuration
checker and the dispatch planner use it without a master.

>>> Version('9.2devel') < Version('9.2beta1') < Version('9.2rc1') < Version('9.2')
True
>>> Version('9.2-devel') == Version('9.2devel')
True
>>> Version('17.0') in VersionFilter.parse('postgresql >= 9.1 AND < 18 OR == 8.4')
True
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

__all__ = [
    "NOT_USED",
    "OPERATORS",
    "InvalidRequirement",
    "InvalidVersion",
    "Term",
    "Version",
    "VersionFilter",
    "parse_combination",
]

# --- The grammar, in one place ----------------------------------------------
# Character classes are spelled out in ASCII ([0-9], not \d, which also accepts
# other scripts' digits) and matched with fullmatch (``$`` accepts a final
# newline).

_NUMBERS = r"[0-9]+(?:\.[0-9]+)*"
_ATTACHED_SUFFIX = r"[A-Za-z][A-Za-z0-9_+]*"  # 9.2devel, 18beta1
_DASHED_SUFFIX = r"[A-Za-z0-9][A-Za-z0-9_+.]*"  # 9.2-devel, 8.4-special
_VERSION_RE = re.compile(
    rf"(?P<numbers>{_NUMBERS})"
    rf"(?:(?P<attached>{_ATTACHED_SUFFIX})|-(?P<dashed>{_DASHED_SUFFIX}))?"
)
_PRERELEASE_RE = re.compile(r"(?P<kind>devel|alpha|beta|rc)(?P<number>[0-9]*)")  # lower case
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_OPERATOR_CHARS = "<>=!~"  # a run of these is one operator token, valid or not

OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
"""The comparison operators of a requirement, in the order error messages list them."""
NOT_USED = "not-used"
"""The whole criteria of a requirement on a capability the build does without."""
_AND, _OR = "AND", "OR"

# Suffix ranks: pre-releases in PostgreSQL's order, then the release and its variants.
_PRERELEASE_RANKS = {"devel": 0, "alpha": 1, "beta": 2, "rc": 3}
_RELEASE_RANK = 4

_VERSION_HELP = (
    "expected dot-separated numbers with an optional suffix, e.g. 9.2, 9.2devel, 8.4-special"
)
_NAME_HELP = "letters, digits and _ - . +, starting with a letter or digit"
_REQUIREMENT_HELP = "expected a capability name and optional criteria, e.g. 'postgresql >= 9.1'"
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class InvalidVersion(ValueError):
    """A version text that does not follow the grammar; the message quotes it.

    >>> Version('9..2')
    Traceback (most recent call last):
        ...
    buildbot_odoo.capability.versions.InvalidVersion: Invalid version: '9..2' \
(expected dot-separated numbers with an optional suffix, e.g. 9.2, 9.2devel, 8.4-special)
    """

    def __init__(self, message: str, *, text: str | None = None):
        super().__init__(message)
        self.text = text  # the rejected version text


class InvalidRequirement(ValueError):
    """A requirement that does not follow the grammar; quotes it and the bad token.

    >>> VersionFilter.parse('postgresql 9.1')
    Traceback (most recent call last):
        ...
    buildbot_odoo.capability.versions.InvalidRequirement: Invalid requirement: \
'postgresql 9.1': '9.1' has no operator (expected one of == != < <= > >= before it)
    """

    def __init__(self, message: str, *, text: str | None = None, token: str | None = None):
        super().__init__(message)
        self.text = text  # the whole requirement
        self.token = token  # the part that is wrong


# --- Versions -----------------------------------------------------------------


def _numbers_key(numbers: tuple[int, ...]) -> tuple[int, ...]:
    """Drop trailing zeros, so that ``9.2`` and ``9.2.0`` compare equal."""
    end = len(numbers)
    while end > 1 and numbers[end - 1] == 0:
        end -= 1
    return numbers[:end]


def _suffix_key(suffix: str | None) -> tuple[int, int, str]:
    """Rank a suffix: pre-releases by kind then number; anything else is a variant.

    Variants share the release's rank and are told apart by their text (the
    release itself has the empty text, so it comes first).
    """
    if suffix is None:
        return (_RELEASE_RANK, 0, "")
    lowered = suffix.lower()
    prerelease = _PRERELEASE_RE.fullmatch(lowered)
    if prerelease is None:
        return (_RELEASE_RANK, 0, lowered)
    return (_PRERELEASE_RANKS[prerelease["kind"]], int(prerelease["number"] or 0), "")


class Version:
    """A capability version: numbers, then an optional pre-release or variant suffix.

    Missing trailing numbers count as zero, pre-releases sort before the
    release in PostgreSQL's order (devel, alpha, beta, rc), and any other
    suffix is a variant of the release's rank, sorted after the release and
    never equal to it. Suffixes compare case-insensitively.

    >>> sorted(Version(v) for v in ['9.2', '9.2rc1', '9.2beta10', '9.2beta2', '9.2alpha1'])
    [<Version('9.2alpha1')>, <Version('9.2beta2')>, <Version('9.2beta10')>, \
<Version('9.2rc1')>, <Version('9.2')>]
    >>> Version('15') == Version('15.0'), Version('8.4') == Version('8.4-special')
    (True, False)
    >>> v = Version('9.2-devel')
    >>> str(v), v.numbers, v.suffix, v.is_prerelease
    ('9.2-devel', (9, 2), 'devel', True)
    """

    __slots__ = ("_key", "_numbers", "_suffix", "_text")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Version() takes a string, not {type(text).__name__}")
        match = _VERSION_RE.fullmatch(text)
        if match is None:
            raise InvalidVersion(f"Invalid version: {text!r} ({_VERSION_HELP})", text=text)
        self._text = text
        self._numbers = tuple(int(n) for n in match["numbers"].split("."))
        self._suffix: str | None = match["attached"] or match["dashed"]
        self._key = (_numbers_key(self._numbers), *_suffix_key(self._suffix))

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``text``; the same as ``Version(text)``, for symmetry with VersionFilter.

        >>> Version.parse('18beta1')
        <Version('18beta1')>
        """
        return cls(text)

    @property
    def numbers(self) -> tuple[int, ...]:
        """The numbers as written, trailing zeros included (``9.2.0`` -> ``(9, 2, 0)``)."""
        return self._numbers

    @property
    def suffix(self) -> str | None:
        """The suffix as written, without its dash; None for a plain release."""
        return self._suffix

    @property
    def is_prerelease(self) -> bool:
        """True for devel, alpha, beta and rc versions, which sort before their release.

        >>> Version('17rc1').is_prerelease, Version('8.4-special').is_prerelease
        (True, False)
        """
        return self._key[1] < _RELEASE_RANK

    def _compare(self, other: object, compare: Callable[[Any, Any], bool]) -> bool:
        """Compare canonical keys; other types are left to Python (NotImplemented)."""
        if not isinstance(other, Version):
            return NotImplemented
        return compare(self._key, other._key)

    def __eq__(self, other: object) -> bool:
        return self._compare(other, operator.eq)

    def __lt__(self, other: object) -> bool:
        return self._compare(other, operator.lt)

    def __le__(self, other: object) -> bool:
        return self._compare(other, operator.le)

    def __gt__(self, other: object) -> bool:
        return self._compare(other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return self._compare(other, operator.ge)

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<Version({self._text!r})>"

    def __reduce__(self) -> tuple[type[Version], tuple[str]]:
        """Pickle and copy by the written text, re-parsed on the way back."""
        return (Version, (self._text,))


def _as_version(version: Version | str) -> Version:
    """Accept a Version or its text (parsed, so a bad text raises InvalidVersion)."""
    if isinstance(version, Version):
        return version
    if isinstance(version, str):
        return Version(version)
    raise TypeError(f"expected a Version, a version string or None, not {type(version).__name__}")


# --- Requirements -------------------------------------------------------------

Term = tuple[str, Version]
"""One ``OP VERSION`` term of a requirement, e.g. ``('>=', Version('9.1'))``."""


class _Token(NamedTuple):
    """A piece of criteria text: an operator (``>=``) or a word (a version or a keyword)."""

    is_operator: bool
    text: str

    @property
    def keyword(self) -> str | None:
        """``'AND'`` or ``'OR'`` for those words in any case, else None."""
        upper = self.text.upper()
        return upper if not self.is_operator and upper in (_AND, _OR) else None


class VersionFilter:
    """A requirement on a capability: ``NAME [CRITERIA]``.

    Terms joined by spaces (or ``AND``) must all hold; ``OR`` separates
    alternatives and binds less tightly. Without criteria any declaration
    matches, even one without version (None); ``not-used`` matches nothing.

    >>> f = VersionFilter.parse('postgresql > 9.0 OR == 8.4')
    >>> [f.match(v) for v in ('8.4', '9.0', '9.1')]
    [True, False, True]
    >>> str(VersionFilter.parse('postgresql >=9.1 AND <9.3'))
    'postgresql >= 9.1 < 9.3'
    >>> VersionFilter.parse('rabbitmq').match(None), VersionFilter.parse('pg >= 1').match(None)
    (True, False)
    >>> VersionFilter.parse('postgresql < 10').filter(['9.6', '10devel', '10', '10.1'])
    ['9.6', '10devel']
    """

    __slots__ = ("_alternatives", "_name", "_not_used")

    def __init__(
        self,
        name: str,
        alternatives: Iterable[Iterable[Term]] = (),
        not_used: bool = False,
    ) -> None:
        if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None:
            raise InvalidRequirement(
                f"Invalid requirement: {name!r} is not a capability name ({_NAME_HELP})",
                text=str(name), token=str(name))
        groups = tuple(_checked_group(name, group) for group in alternatives)
        if not_used and groups:
            raise InvalidRequirement(
                f"Invalid requirement for {name!r}: {NOT_USED!r} takes no other criteria",
                text=name, token=NOT_USED)
        self._name = name
        self._alternatives = groups
        self._not_used = bool(not_used)

    @classmethod
    def parse(cls, text: str) -> VersionFilter:
        """Parse a requirement line such as ``postgresql >= 9.1 < 9.3 OR == 8.4``.

        >>> VersionFilter.parse('postgresql not-used').not_used
        True
        >>> VersionFilter.parse('postgresql >= 9.1 AND').criteria_str()
        Traceback (most recent call last):
            ...
        buildbot_odoo.capability.versions.InvalidRequirement: Invalid requirement: \
'postgresql >= 9.1 AND': 'AND' has no term after it
        """
        name, criteria = _split_name(text)
        tokens = _tokenize(criteria)
        if _is_not_used(tokens):
            return cls(name, not_used=True)
        return cls(name, _parse_alternatives(text, tokens))

    @property
    def name(self) -> str:
        """The capability name, as written."""
        return self._name

    @property
    def alternatives(self) -> tuple[tuple[Term, ...], ...]:
        """The OR-ed alternatives, each a non-empty tuple of AND-ed ``(op, Version)`` terms."""
        return self._alternatives

    @property
    def not_used(self) -> bool:
        """True for ``NAME not-used``: the build does without the capability."""
        return self._not_used

    @property
    def has_criteria(self) -> bool:
        """False when any declaration matches (no criteria at all); ``not-used`` counts."""
        return bool(self._alternatives) or self._not_used

    def match(self, version: Version | str | None) -> bool:
        """Whether a declared version fits; None is a declaration without version.

        A string is parsed first, so a bad one raises InvalidVersion whatever
        the criteria.

        >>> f = VersionFilter.parse('postgresql >= 9.2devel')
        >>> [f.match(v) for v in ('9.2devel', '9.2beta1', '9.3', '9.1', None)]
        [True, True, True, False, False]
        """
        candidate = None if version is None else _as_version(version)
        if self._not_used:
            return False
        if not self._alternatives:
            return True
        return candidate is not None and any(
            _group_matches(group, candidate) for group in self._alternatives)

    def __contains__(self, version: Version | str | None) -> bool:
        return self.match(version)

    def filter(self, versions: Iterable[Version | str | None]) -> list[Version | str | None]:
        """The matching items, unchanged and in input order."""
        return [version for version in versions if self.match(version)]

    def criteria_str(self) -> str:
        """The criteria alone, canonically spelled: ``'>= 9.1 < 9.3 OR == 8.4'``.

        Single spaces, implicit AND, versions as written; ``''`` when there are
        none and ``'not-used'`` for a capability the build does without.
        """
        if self._not_used:
            return NOT_USED
        return f" {_OR} ".join(
            " ".join(f"{op} {version}" for op, version in group) for group in self._alternatives)

    def _key(self) -> tuple[str, bool, tuple[tuple[Term, ...], ...]]:
        return (self._name, self._not_used, self._alternatives)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionFilter):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        criteria = self.criteria_str()
        return f"{self._name} {criteria}" if criteria else self._name

    def __repr__(self) -> str:
        return f"<VersionFilter({str(self)!r})>"

    def __reduce__(self) -> tuple[type[VersionFilter], tuple[Any, ...]]:
        """Pickle and copy through the constructor, which validates again."""
        return (VersionFilter, (self._name, self._alternatives, self._not_used))


def _group_matches(group: tuple[Term, ...], version: Version) -> bool:
    """An AND-group holds when every one of its terms does."""
    return all(_COMPARATORS[op](version, reference) for op, reference in group)


def _checked_group(name: str, group: Iterable[Term]) -> tuple[Term, ...]:
    """Validate an AND-group given to the constructor: parse() is not the only way in."""
    terms: list[Term] = []
    for op, version in group:
        if op not in OPERATORS:
            raise InvalidRequirement(
                f"Invalid requirement for {name!r}: {op!r} is not an operator "
                f"(expected one of {' '.join(OPERATORS)})", text=name, token=str(op))
        if not isinstance(version, Version):
            raise TypeError(f"a term's version must be a Version, not {type(version).__name__}")
        terms.append((op, version))
    if not terms:
        raise InvalidRequirement(
            f"Invalid requirement for {name!r}: an alternative has no terms", text=name)
    return tuple(terms)


# --- Parsing requirements -----------------------------------------------------


def _invalid(text: str, token: str, detail: str) -> InvalidRequirement:
    """The error for ``text``, pointing at ``token``."""
    return InvalidRequirement(f"Invalid requirement: {text!r}: {detail}", text=text, token=token)


def _split_name(text: str) -> tuple[str, str]:
    """Separate the capability name (the first word) from the criteria text."""
    if not isinstance(text, str):
        raise TypeError(f"a requirement must be a string, not {type(text).__name__}")
    parts = text.split(None, 1)
    if not parts:
        raise InvalidRequirement(f"Invalid requirement: {text!r} is empty ({_REQUIREMENT_HELP})",
                                 text=text, token=text)
    name = parts[0]
    if _NAME_RE.fullmatch(name) is None:
        raise _invalid(text, name, f"{name!r} is not a capability name ({_NAME_HELP})")
    return name, parts[1] if len(parts) > 1 else ""


def _tokenize(criteria: str) -> list[_Token]:
    """Split on white space, and an operator from the version written against it (``>=9.1``)."""
    tokens = []
    for chunk in criteria.split():
        rest = chunk.lstrip(_OPERATOR_CHARS)
        if len(rest) < len(chunk):
            tokens.append(_Token(True, chunk[: len(chunk) - len(rest)]))
        if rest:
            tokens.append(_Token(False, rest))
    return tokens


def _is_not_used(tokens: list[_Token]) -> bool:
    """Whether the criteria are exactly ``not-used`` (any case)."""
    return len(tokens) == 1 and tokens[0].text.lower() == NOT_USED


def _parse_alternatives(text: str, tokens: list[_Token]) -> tuple[tuple[Term, ...], ...]:
    """Split the criteria on OR, then parse each side as an AND-group."""
    for token in tokens:
        if token.text.lower() == NOT_USED:
            raise _invalid(text, token.text, f"{NOT_USED!r} must be the only criterion")
    if not tokens:
        return ()
    return tuple(_parse_group(text, segment) for segment in _split_on_or(text, tokens))


def _split_on_or(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    """The token runs between ORs; each must be non-empty (no leading, trailing or double OR)."""
    segments: list[list[_Token]] = [[]]
    ors: list[_Token] = []
    for token in tokens:
        if token.keyword == _OR:
            ors.append(token)
            segments.append([])
        else:
            segments[-1].append(token)
    for index, segment in enumerate(segments):
        if not segment:
            where, keyword = ("before", ors[0]) if index == 0 else ("after", ors[index - 1])
            raise _invalid(text, keyword.text, f"{keyword.text!r} has no term {where} it")
    return segments


def _parse_group(text: str, tokens: list[_Token]) -> tuple[Term, ...]:
    """Parse ``OP VERSION [AND] OP VERSION ...``; AND may only sit between two terms."""
    terms: list[Term] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token.keyword == _AND:
            _check_and(text, tokens, position)
            position += 1
            continue
        terms.append(_parse_term(text, tokens, position))
        position += 2
    return tuple(terms)


def _check_and(text: str, tokens: list[_Token], position: int) -> None:
    """Refuse an AND that is not between two terms."""
    keyword = tokens[position].text
    if position == 0:
        raise _invalid(text, keyword, f"{keyword!r} has no term before it")
    following = tokens[position + 1] if position + 1 < len(tokens) else None
    if following is None or following.keyword is not None:
        raise _invalid(text, keyword, f"{keyword!r} has no term after it")


def _parse_term(text: str, tokens: list[_Token], position: int) -> Term:
    """Parse the ``OP VERSION`` term starting at ``position``."""
    op = tokens[position]
    if not op.is_operator:
        raise _invalid(text, op.text, _why_not_a_term(op.text))
    if op.text not in OPERATORS:
        raise _invalid(text, op.text, f"{op.text!r} is not an operator "
                                      f"(expected one of {' '.join(OPERATORS)})")
    version = tokens[position + 1] if position + 1 < len(tokens) else None
    if version is None or version.is_operator or version.keyword is not None:
        raise _invalid(text, op.text, f"operator {op.text!r} has no version")
    try:
        return op.text, Version(version.text)
    except InvalidVersion as exc:
        raise _invalid(text, version.text,
                       f"{version.text!r} is not a valid version ({_VERSION_HELP})") from exc


def _why_not_a_term(word: str) -> str:
    """Explain a word found where an operator was expected."""
    try:
        Version(word)
    except InvalidVersion:
        return f"{word!r} is not a version criterion (expected an operator and a version, " \
               "e.g. '>= 9.1')"
    return f"{word!r} has no operator (expected one of {' '.join(OPERATORS)} before it)"


# --- Combinations -------------------------------------------------------------


def parse_combination(text: str) -> tuple[VersionFilter, ...]:
    """Requirements on several capabilities joined by ``AND``: ``postgresql == 12 AND python``.

    ``AND`` followed by a word that is not an operator starts the next
    requirement; before an operator it stays the requirement's own AND between
    two terms, so each requirement keeps the whole grammar (``OR`` included).

    >>> [str(f) for f in parse_combination('postgresql == 12 AND python >= 3.12')]
    ['postgresql == 12', 'python >= 3.12']
    >>> [str(f) for f in parse_combination('postgresql >= 12 AND < 14 OR == 9.6 and python')]
    ['postgresql >= 12 < 14 OR == 9.6', 'python']
    >>> parse_combination('AND python')
    Traceback (most recent call last):
        ...
    buildbot_odoo.capability.versions.InvalidRequirement: Invalid combination: 'AND python': \
'AND' has no requirement before it
    """
    if not isinstance(text, str):
        raise TypeError(f"a combination must be a string, not {type(text).__name__}")
    words = text.split()
    if not words:
        raise InvalidRequirement(f"Invalid combination: {text!r} is empty (expected "
                                 "requirements joined by AND, e.g. 'postgresql == 12 AND "
                                 "python >= 3.12')", text=text, token=text)
    segments: list[list[str]] = [[]]
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word.upper() == _AND and following and not following.startswith(
                tuple(_OPERATOR_CHARS)) and following.upper() not in (_AND, _OR):
            if not segments[-1]:
                raise InvalidRequirement(f"Invalid combination: {text!r}: {word!r} has no "
                                         "requirement before it", text=text, token=word)
            segments.append([])
            continue
        segments[-1].append(word)
    requirements = []
    for segment in segments:
        try:
            requirements.append(VersionFilter.parse(" ".join(segment)))
        except InvalidRequirement as exc:
            raise InvalidRequirement(f"Invalid combination: {text!r}: {exc}", text=text,
                                     token=exc.token) from None
    return tuple(requirements)
