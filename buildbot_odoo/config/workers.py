"""workers.cfg: the fleet, one section per worker, into plain :class:`WorkerSpec` data.

Accepted options are declared once in :data:`WORKER_OPTIONS`; anything else is a
worker property (SPEC 2).  Nothing here knows Buildbot: the edge turns a
:class:`WorkerSpec` into a ``buildbot.worker.Worker``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..capability.options import check_option_value
from ..capability.versions import InvalidVersion, Version
from ..errors import Problems
from . import legacy, values
from .ini import IniSection, read_ini
from .spelling import closest_name

DEFAULT_DB_PREFIX = "odoo_buildbot"
#: the most concurrent builds a worker may be given, and the largest priority
MAX_BUILDS = 1000
MAX_PRIORITY = 1e9
CAPABILITY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_OPTION_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
#: worker properties are identifiers (letters, digits, '_', '-', '.'), never phrases
_PROPERTY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+$")
_NOT_IN_PROPERTY_NAME_RE = re.compile(r"[^A-Za-z0-9_]")
#: Buildbot's own rule for worker names (``buildbot.util.identifiers.ident_re``, at most
#: 50 characters, not a reserved name), checked here so that the error names the file and
#: line instead of surfacing from Buildbot's loader without either
_WORKER_NAME_RE = re.compile("^[a-zA-Z\u00a0-\U0010ffff_-][a-zA-Z0-9\u00a0-\U0010ffff_-]*$")
MAX_WORKER_NAME = 50
RESERVED_WORKER_NAMES = ("debug", "change", "status")
#: ``password = secret:NAME`` takes the worker's password from Buildbot's secrets providers
SECRET_PREFIX = "secret:"
#: capability options that must never be written in clear: they would become properties
#: (any option whose name holds a secret is refused too: values.is_secret_key, which
#: covers anybox.buildbot.odoo's ``passwd=``)
FORBIDDEN_CAPABILITY_OPTIONS = {"password": "password-secret"}


@dataclass(frozen=True)
class CapabilityDecl:
    """One ``NAME [VERSION [KEY=VALUE ...]]`` line of a worker."""

    name: str
    version: Version | None
    options: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    #: the line of the ``capability`` value it was declared on (0: the option's own line)
    offset: int = field(default=0, hash=False, compare=False, repr=False)


@dataclass
class WorkerSpec:
    name: str
    password: str = field(repr=False)
    capabilities: list[CapabilityDecl] = field(default_factory=list)
    build_only_if_requires: frozenset[str] = frozenset()
    max_builds: int | None = None
    notify_on_missing: list[str] = field(default_factory=list)
    worker_priority: float = 0.0
    db_prefix: str = DEFAULT_DB_PREFIX
    properties: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None
    #: option -> line, for messages about what was parsed
    option_lines: dict[str, int] = field(default_factory=dict, repr=False)

    def line_of(self, option: str, offset: int = 0) -> int | None:
        line = self.option_lines.get(option, self.line)
        return None if line is None else line + offset

    def declarations(self, name: str) -> list[CapabilityDecl]:
        return [decl for decl in self.capabilities if decl.name == name]

    def capability_property(self) -> dict[str, dict[str | None, dict[str, str]]]:
        """The ``capability`` worker property: ``{name: {version or None: options}}``."""
        result: dict[str, dict[str | None, dict[str, str]]] = {}
        for decl in self.capabilities:
            version = None if decl.version is None else str(decl.version)
            result.setdefault(decl.name, {})[version] = dict(decl.options)
        return result


# --- option parsers: (spec being built, raw text) -> None, raising ValueError with a message


def _set_password(spec: WorkerSpec, text: str) -> None:
    if not text:
        raise ValueError("is empty")
    if text.startswith(SECRET_PREFIX):
        secret = text[len(SECRET_PREFIX):]
        if not secret or any(c.isspace() for c in secret):
            # not quoted: whatever it is, this option's text is never shown
            raise ValueError("names no secret (secret:NAME, a name without spaces)")
    spec.password = text


class LineValueError(ValueError):
    """A problem on the ``offset``-th line of a multi-line value."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


class LineValueErrors(ValueError):
    """Every bad line of a multi-line value: the user fixes them all in one go."""

    def __init__(self, errors: list[LineValueError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _set_capabilities(spec: WorkerSpec, text: str) -> None:
    seen: dict[tuple[str, Version | None], str] = {}
    errors: list[LineValueError] = []
    for offset, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        try:
            decl = parse_capability_line(line, offset)
        except ValueError as exc:
            errors.append(LineValueError(str(exc), offset))
            continue
        key = (decl.name, decl.version)
        if key in seen:
            version = "without version" if decl.version is None else f"version {decl.version}"
            errors.append(LineValueError(
                f"{decl.name} {version} declared twice: {values.quoted(seen[key])} and "
                f"{values.quoted(line)}", offset))
            continue
        seen[key] = line
        spec.capabilities.append(decl)
    if errors:
        raise LineValueErrors(errors)


def _set_only_if(spec: WorkerSpec, text: str) -> None:
    names = text.split()
    for name in names:
        if not CAPABILITY_NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a capability name")
    spec.build_only_if_requires = frozenset(names)


def _set_max_builds(spec: WorkerSpec, text: str) -> None:
    spec.max_builds = values.whole_number(text, minimum=1, maximum=MAX_BUILDS)


def _set_notify(spec: WorkerSpec, text: str) -> None:
    addresses = [a for a in re.split(r"[\s,]+", text) if a]
    for address in addresses:
        if not _EMAIL_RE.match(address):
            raise ValueError(f"{address!r} is not an e-mail address")
    spec.notify_on_missing = addresses


def _set_priority(spec: WorkerSpec, text: str) -> None:
    # finite: nan would make the highest-priority choice arbitrary
    spec.worker_priority = values.number(text, minimum=-MAX_PRIORITY, maximum=MAX_PRIORITY)


def _set_db_prefix(spec: WorkerSpec, text: str) -> None:
    spec.db_prefix = values.identifier(text, "db-prefix")


WORKER_OPTIONS: dict[str, Callable[[WorkerSpec, str], None]] = {
    "password": _set_password,
    "capability": _set_capabilities,
    "build-only-if-requires": _set_only_if,
    "max_builds": _set_max_builds,
    "notify_on_missing": _set_notify,
    "worker_priority": _set_priority,
    "db_prefix": _set_db_prefix,
}
REQUIRED_WORKER_OPTIONS = ("password",)
#: options whose text is never quoted in a message, even when the line is malformed
SECRET_OPTIONS = ("password", "passwd")


def parse_capability_line(line: str, offset: int = 0) -> CapabilityDecl:
    """Parse ``NAME [VERSION] [KEY=VALUE ...]``; tabs and spaces both separate tokens.

    ``offset``: the line of the ``capability`` value it is on (0: the option's own).

    >>> parse_capability_line('postgresql 9.1 port=5433')
    CapabilityDecl(name='postgresql', version=<Version('9.1')>, options={'port': '5433'})
    >>> parse_capability_line('selenium-server').version is None
    True
    """
    name, version, options = _parsed_capability_line(line)
    return CapabilityDecl(name, version, dict(options), offset)


@functools.lru_cache(maxsize=4096)
def _parsed_capability_line(line: str) -> tuple[str, Version | None, tuple[tuple[str, str], ...]]:
    """:func:`parse_capability_line`'s work, once per distinct line: a fleet's workers
    repeat theirs (``postgresql 16 port=5432``).  A bad line raises each time."""
    tokens = line.split()
    name, rest = tokens[0], tokens[1:]
    if not CAPABILITY_NAME_RE.match(name) or "=" in name:
        raise ValueError(f"{values.quoted(line)}: {name!r} is not a capability name")
    version = None
    if rest and "=" not in rest[0]:
        try:
            version = Version(rest[0])
        except InvalidVersion as exc:
            raise ValueError(f"{values.quoted(line)}: {exc}") from None
        rest = rest[1:]
    options = _capability_options(line, rest)
    for key, value in options.items():
        try:
            check_option_value(name, key, value)
        except values.InvalidValue as exc:
            raise ValueError(f"{values.quoted(line)}: option {key}: {exc}") from None
    return name, version, tuple(options.items())


def _capability_options(line: str, tokens: Iterable[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not _OPTION_KEY_RE.match(key):
            raise ValueError(f"{values.quoted(line)}: {values.quoted(token)} is not KEY=VALUE")
        if key in FORBIDDEN_CAPABILITY_OPTIONS or values.is_secret_key(key):
            raise ValueError(
                f"{values.quoted(line)}: '{key}=' would put a secret in the build properties "
                f"(readable in the web UI and the REST API); name a Buildbot secret with "
                f"'{values.secret_spelling(key)}=' instead"
            )
        if key in options:
            raise ValueError(f"{values.quoted(line)}: option {key!r} given twice")
        options[key] = value
    _check_secret_pairs(line, options)
    return options


def _check_secret_pairs(line: str, options: dict[str, str]) -> None:
    """``base_uri=...`` with ``base_uri-secret=...``: which one the build should use is
    anyone's guess; and two options one property name holds (``a-b``, ``a_b``) would
    overwrite each other."""
    for key in options:
        if key.endswith(values.SECRET_SUFFIX) and key[:-len(values.SECRET_SUFFIX)] in options:
            plain = key[:-len(values.SECRET_SUFFIX)]
            raise ValueError(f"{values.quoted(line)}: give {plain!r} either as {plain}= or "
                             f"by a secret's name as {key}=, not both")
    seen: dict[str, str] = {}
    for key in options:
        same = seen.setdefault(_NOT_IN_PROPERTY_NAME_RE.sub("_", key), key)
        if same != key:
            raise ValueError(f"{values.quoted(line)}: options {same!r} and {key!r} would be the "
                             "same build property: give one of them")


def _warn_url_passwords(section: IniSection, spec: WorkerSpec, problems: Problems) -> None:
    """A capability option is a build property, readable by anyone reading the REST API: a
    URL's password there is out.  A warning only: the seed's own RabbitMQ example
    (``base_uri=amqp://guest:guest@localhost:5672/``) holds the well-known default."""
    for decl in spec.capabilities:
        for key, value in decl.options.items():
            shown = values.hide_url_password(value)
            if shown is None:
                continue
            problems.warning(
                f"{decl.name} option {key}={shown}: the URL holds a password, and capability "
                "options become build properties, readable by anyone through the web UI and "
                f"the REST API: put the URL in a Buildbot secret and write "
                f"'{key}{values.SECRET_SUFFIX}=NAME' instead",
                file=section.file, line=section.line_of_value("capability", decl.offset),
                section=section.name, option="capability")


def parse_worker_section(section: IniSection, problems: Problems) -> WorkerSpec | None:
    spec = WorkerSpec(section.name, "", file=section.file, line=section.line,
                      option_lines=dict(section.lines))
    ok = True
    bad_name = _worker_name_problem(section.name)
    if bad_name:
        problems.error(bad_name, file=section.file, line=section.line, section=section.name)
        ok = False
    for option in REQUIRED_WORKER_OPTIONS:
        if option not in section.options:
            problems.error(f"missing required option {option!r}", file=section.file,
                           line=section.line, section=section.name)
            ok = False
    for key, value in section.options.items():
        setter = WORKER_OPTIONS.get(key)
        if setter is None and not _PROPERTY_RE.match(key):
            problems.error(_bad_property_name(key, value), file=section.file,
                           line=section.line_of(key), section=section.name)
            ok = False
            continue
        if setter is None and values.is_secret_key(key):
            problems.error(f"{key!r} would become a worker property, readable in the web UI "
                           "and the REST API: keep secrets in Buildbot's secrets providers "
                           "('password = secret:NAME' for the worker's own, "
                           "'password-secret=NAME' on a capability line)", file=section.file,
                           line=section.line_of(key), section=section.name, option=key)
            ok = False
            continue
        if setter is None:
            _warn_if_misspelled(section, key, problems)
            spec.properties[key] = value
            continue
        try:
            setter(spec, value)
        except ValueError as exc:
            for error in getattr(exc, "errors", [exc]):
                line = section.line_of_value(key, getattr(error, "offset", 0))
                problems.error(str(error), file=section.file, line=line,
                               section=section.name, option=key)
            ok = False
        else:
            if key == "capability":
                _warn_url_passwords(section, spec, problems)
    return spec if ok else None


def _warn_if_misspelled(section: IniSection, key: str, problems: Problems) -> None:
    """An unknown option is a property (SPEC 2), but one that looks like an option is
    most likely a typo whose setting would be lost: say which option it resembles."""
    meant = closest_name(key, WORKER_OPTIONS, legacy.renames(legacy.WORKERS))
    if meant is not None:
        problems.warning(f"not a workers.cfg option, so it becomes the worker property "
                         f"{key!r}: did you mean {meant!r}?", file=section.file,
                         line=section.line_of(key), section=section.name, option=key)


def _worker_name_problem(name: str) -> str | None:
    """Why Buildbot would refuse ``name`` as a worker name, if it would."""
    if name in RESERVED_WORKER_NAMES:
        return f"worker name {name!r} is reserved by Buildbot"
    if not _WORKER_NAME_RE.match(name) or len(name) > MAX_WORKER_NAME:
        return (f"worker name {name!r} is refused by Buildbot: letters, digits, '_' and '-', "
                f"not starting with a digit, at most {MAX_WORKER_NAME} characters")
    return None


def _bad_property_name(key: str, value: str) -> str:
    """``capability postgresql 9.1 port=5433`` (no ``=`` after the option) reads as an
    option ``capability postgresql 9.1 port``: say what was probably meant."""
    first = key.split()[0] if key.split() else key
    if first in SECRET_OPTIONS or values.is_secret_line(key):
        # 'password hunter2 = x', 'Password hunter2 = x': the key holds the password
        return (f"a {first!r} line without '=' right after {first!r} is not an option "
                "(not shown: it may hold a secret)")
    message = f"{values.quoted(key)} is not an option nor a property name"
    if first in WORKER_OPTIONS:
        rest = key[len(first):].strip()
        meant = values.hide_secret_assignments(f"{first} = {rest}={value}", loose=True)
        message += f" (did you mean '{meant}'?)"
    return message


def load_workers(path: str | Path, problems: Problems,
                 display_name: str | None = None) -> list[WorkerSpec]:
    """Read workers.cfg; a broken section is reported and left out."""
    doc = read_ini(path, problems, display_name, secret_options=SECRET_OPTIONS)
    sections = list(doc.sections.values())
    if doc.defaults is not None:
        sections = [_with_defaults(s, doc.defaults) for s in sections]
    specs = [parse_worker_section(_modernised(s, problems), problems) for s in sections]
    return [s for s in specs if s is not None]


def _modernised(section: IniSection, problems: Problems) -> IniSection:
    """anybox.buildbot.odoo's spellings (``passwd``, ``slave_priority``) read as today's,
    each with a deprecation warning at its line (:mod:`.legacy`)."""
    located = {key: legacy.Located(value, section.file, section.line_of(key), section.name)
               for key, value in section.options.items()}
    modern, findings = legacy.modernise(located, legacy.WORKERS)
    if not findings:
        return section
    renames = legacy.renames(legacy.WORKERS)
    source = {renames[old]: old for old in section.options if old in renames}
    result = IniSection(section.name, section.file, section.line)
    for key, value in modern.items():
        result.options[key] = value.value
        result.lines[key] = value.line
        result.value_lines[key] = section.value_lines.get(source.get(key, key), [])
    for finding in findings:
        where = {"file": finding.where.file, "line": finding.where.line,
                 "section": section.name, "option": finding.option}
        new = renames.get(finding.option)
        if new in section.options:
            problems.error(f"{finding.option!r} is {legacy.ORIGINAL}'s name of {new!r}: give "
                           f"only {new!r}", **where)
        elif finding.refused:
            problems.error(finding.message, **where)
        else:
            problems.warning(finding.message, **where)
    return result


def _with_defaults(section: IniSection, defaults: IniSection) -> IniSection:
    merged = IniSection(section.name, section.file, section.line)
    for source in (defaults, section):
        merged.options.update(source.options)
        merged.lines.update(source.lines)
        merged.value_lines.update(source.value_lines)
    return merged
