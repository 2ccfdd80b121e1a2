"""INI reading that remembers where each section and option was written.

configparser does the parsing (continuation lines, comments, duplicates), but
it forgets line numbers; users need them in error messages, so a light second
pass over the text maps each ``(section, option)`` to its line.  ``[DEFAULT]``
is returned as a section of its own: the manifest gives it a lower precedence
than ``inherit``, which configparser cannot express.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problems
from . import values
from .textfile import UnreadableFile, read_text

DEFAULT = "DEFAULT"
_NO_DEFAULT = "\0no-default-section"
_SECTION_RE = re.compile(r"^\[(?P<name>[^\]]+)\]")
_OPTION_RE = re.compile(r"^(?P<key>[^\s=:;#\[][^=:]*?)\s*[=:]")


@dataclass
class IniSection:
    """A section's own options (no defaults merged in) and their line numbers."""

    name: str
    file: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, option: str | None) -> int:
        if option is None:
            return self.line
        return self.lines.get(option, self.line)


@dataclass
class IniDocument:
    path: str
    sections: dict[str, IniSection]
    defaults: IniSection | None = None


def read_ini(path: str | Path, problems: Problems, display_name: str | None = None,
             secret_options: Collection[str] = ()) -> IniDocument:
    """Parse ``path``; parse errors go to ``problems`` and yield an empty document.

    Lines starting with one of ``secret_options`` are never quoted in messages.
    """
    name = display_name or str(path)
    try:
        text = read_text(path)
    except UnreadableFile as exc:
        problems.error(f"cannot read file: {exc}", file=name)
        return IniDocument(name, {})
    return parse_ini(text, name, problems, secret_options)


def parse_ini(text: str, name: str, problems: Problems,
              secret_options: Collection[str] = ()) -> IniDocument:
    """Parse ``text``, reporting *every* structural problem, not only the first.

    configparser stops at the first duplicate or at text before any header, so
    those are found by a scan of our own first (and the stray lines blanked,
    keeping line numbers); its remaining complaints (lines that are neither
    ``option = value`` nor a header) come all at once at the end of its read,
    after it has parsed everything else.  A file with problems still yields its
    sections, so the options of the good ones are checked too.
    """
    shown = _Shown(secret_options)
    text, line_sections = _scan_structure(text, name, problems, shown)
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, default_section=_NO_DEFAULT, empty_lines_in_values=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=name)
    except configparser.ParsingError as exc:
        lines = text.splitlines()
        why: dict[int, str] = {}
        for lineno, _ in exc.errors:
            # an orphaned line right after another has the same explanation: reusing it
            # keeps a long run of them linear (each would walk back over the whole run)
            why[lineno] = (why[lineno - 1] if lineno - 1 in why and _continues(lines, lineno)
                           else _why_unparsable(lines, lineno))
            problems.error(f"cannot parse {shown(lines[lineno - 1])}: {why[lineno]}",
                           file=name, line=lineno, section=line_sections.get(lineno))
    except configparser.Error as exc:  # not expected after the scan; never a traceback
        problems.error(str(exc), file=name, line=getattr(exc, "lineno", None))
        return IniDocument(name, {})
    line_map = _line_numbers(text)
    sections: dict[str, IniSection] = {}
    for section_name in parser.sections():
        lines = line_map.get(section_name, {})
        section = IniSection(section_name, name, lines.get(None, 0))
        for key, value in parser.items(section_name, raw=True):
            section.options[key] = value.strip()
            section.lines[key] = lines.get(key, section.line)
        sections[section_name] = section
    defaults = sections.pop(DEFAULT, None)
    return IniDocument(name, sections, defaults)


class _Shown:
    """How a line is quoted in a message: never one that may hold a secret.

    A line is hidden when it starts with one of ``secret_options`` or reads
    as a secret-holding option whatever its case (:func:`.values.is_secret_line`);
    in any other, secret assignments are hidden (:func:`.values.quoted`).
    """

    def __init__(self, secret_options: Collection[str]):
        self.secret_options = frozenset(secret_options)

    def hides(self, line: str) -> bool:
        first = re.split(r"[\s=:]", line.strip(), maxsplit=1)[0]
        return first in self.secret_options or values.is_secret_line(line)

    def __call__(self, line: str) -> str:
        first = re.split(r"[\s=:]", line.strip(), maxsplit=1)[0]
        if first in self.secret_options:
            return f"the {first!r} line (not shown: it may hold a secret)"
        return values.quoted(line.strip())


def _is_filler(line: str) -> bool:
    """A blank or comment line: at the start of a line, it ends a multi-line value."""
    return not line.strip() or line.lstrip().startswith(("#", ";"))


def _continues(lines: list[str], lineno: int) -> bool:
    """Line ``lineno`` and the one before are both indented, neither a filler."""
    return all(lines[i][:1].isspace() and not _is_filler(lines[i])
               for i in (lineno - 2, lineno - 1))


def _why_unparsable(lines: list[str], lineno: int) -> str:
    """What configparser expected; for an indented line, which line cut it off its value.

    A comment or blank line at the start of a line ends a multi-line value, so
    the indented lines after it are not continuations any more.
    """
    generic = "expected 'option = value', an indented continuation line or a [section]"
    index = lineno - 2  # the line before, 0-based
    if not lines[lineno - 1][:1].isspace():
        return generic
    while index >= 0 and lines[index][:1].isspace() and not _is_filler(lines[index]):
        index -= 1  # other orphaned lines of the same run
    while index >= 0 and _is_filler(lines[index]):
        index -= 1
    breaker = index + 1  # the first of the comment or blank lines
    while index >= 0 and lines[index][:1].isspace():
        index -= 1  # the value's own continuation lines
    option = _OPTION_RE.match(lines[index]) if index >= 0 and breaker < lineno - 1 else None
    if option is None:
        return generic
    return (f"the comment or blank line {breaker + 1} ends the value of "
            f"{option.group('key').strip()!r}, so this indented line continues nothing "
            "(indent the comment, or remove it or the blank line)")


def _scan_structure(text: str, name: str, problems: Problems,
                    shown: _Shown) -> tuple[str, dict[int, str]]:
    """Report duplicates and text before the first header; blank that text out.

    Returns the text to hand to configparser and the section of each line.
    An option repeated in one section is an error (configparser would keep
    the last value silently); a repeated section is an error too, and its
    options are merged for the rest of the checks.
    """
    kept: list[str] = []
    continued: tuple[str, int] | None = None  # the option a value line continues, its indent
    line_sections: dict[int, str] = {}
    headers: dict[str, int] = {}
    current: str | None = None
    seen_options: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        header = _SECTION_RE.match(line)
        if header:
            current = header.group("name")
            trailing = line[header.end():].strip()
            if trailing and not trailing.startswith(("#", ";")):  # configparser drops it
                problems.error(f"text after the section header: {shown(trailing)}",
                               file=name, line=lineno, section=current)
            if current in headers:
                problems.error(f"section [{current}] appears twice (first at line "
                               f"{headers[current]})", file=name, line=lineno, section=current)
            headers.setdefault(current, lineno)
            seen_options = {}
            continued = None
        elif current is None:
            if line.strip() and not line.lstrip().startswith(("#", ";")):
                problems.error(f"text before any [section] header: {shown(line)}",
                               file=name, line=lineno)
                line = ""
        else:
            line_sections[lineno] = current
            continued, line = _continued(line, lineno, continued, shown, problems,
                                         {"file": name, "section": current})
            option = _OPTION_RE.match(line)
            if option:
                key = option.group("key").strip()
                if key in seen_options:
                    problems.error(f"appears twice (first at line {seen_options[key]})",
                                   file=name, line=lineno, section=current, option=key)
                seen_options.setdefault(key, lineno)
        kept.append(line)
    return "\n".join(kept) + "\n", line_sections


def _continued(line: str, lineno: int, continued: tuple[str, int] | None, shown: _Shown,
               problems: Problems, where: dict) -> tuple[tuple[str, int] | None, str]:
    """Follow configparser's multi-line values; blank a secret line folded into one.

    An indented line continues the option above it (configparser's rule; a
    blank or comment line ends the value).  When such a line reads as a
    password option, it was meant as one: left in place, its text would end
    up in the other option's value, and in any message quoting it.  It is
    reported without its text and left out.  Returns the option (and its
    indent) the next line may continue, and the line to parse.
    """
    indent = len(line) - len(line.lstrip())
    if _is_filler(line):
        return None, line
    if continued is not None and indent > continued[1]:
        if shown.hides(line):
            first = re.split(r"[\s=:]", line.strip(), maxsplit=1)[0]
            problems.error(f"this indented line continues {continued[0]} but looks like a "
                           f"{first!r} option, so it is not read (not shown: it may hold a "
                           "secret); remove its indentation", line=lineno,
                           option=continued[0], **where)
            return None, ""
        return continued, line
    option = _OPTION_RE.match(line.lstrip())
    return ((option.group("key").strip(), indent) if option else continued), line


def _line_numbers(text: str) -> dict[str, dict[str | None, int]]:
    """Map section -> option -> 1-based line (key None: the header line)."""
    result: dict[str, dict[str | None, int]] = {}
    current: dict[str | None, int] | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        header = _SECTION_RE.match(line)
        if header:
            current = result.setdefault(header.group("name"), {None: lineno})
            continue
        option = _OPTION_RE.match(line)
        if option and current is not None:
            current.setdefault(option.group("key").strip(), lineno)
    return result
