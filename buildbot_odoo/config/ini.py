"""INI reading that remembers where each section and option was written.

configparser does the parsing (continuation lines, comments, duplicates), but
it forgets line numbers; users need them in error messages, so a light second
pass over the text maps each ``(section, option)`` to its line, and each line
of a multi-line value to its own line.  ``[DEFAULT]`` is returned as a section
of its own: the manifest resolves it together with ``inherit``, which
configparser cannot express.

Blank and comment lines inside a multi-line value are part of it, as in
configparser's default and in Python 2's ConfigParser (which the files
written for anybox.buildbot.odoo were read with): a blank line between two
``capability`` lines does not end the value, and a comment line is skipped.
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

#: where the first word of a line (an option's name) ends
_FIRST_WORD_END = re.compile(r"[\s=:]")

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
    #: option -> the line of each line of its (stripped) value
    value_lines: dict[str, list[int]] = field(default_factory=dict)

    def line_of(self, option: str | None) -> int:
        if option is None:
            return self.line
        return self.lines.get(option, self.line)

    def line_of_value(self, option: str, index: int) -> int:
        """The line holding the ``index``-th line of ``option``'s value.

        Blank lines inside the value count (they are lines of the value);
        comment lines do not (configparser drops them).
        """
        lines = self.value_lines.get(option, [])
        return lines[index] if 0 <= index < len(lines) else self.line_of(option)


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
        interpolation=None, strict=False, default_section=_NO_DEFAULT, empty_lines_in_values=True
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=name)
    except configparser.ParsingError as exc:
        lines = text.splitlines()
        for lineno, _ in exc.errors:
            problems.error(f"cannot parse {shown(lines[lineno - 1])}: "
                           f"{_why_unparsable(lines, lineno)}",
                           file=name, line=lineno, section=line_sections.get(lineno))
    except configparser.Error as exc:  # not expected after the scan; never a traceback
        problems.error(str(exc), file=name, line=getattr(exc, "lineno", None))
        return IniDocument(name, {})
    line_map, value_map = _line_numbers(text)
    sections: dict[str, IniSection] = {}
    for section_name in parser.sections():
        lines = line_map.get(section_name, {})
        section = IniSection(section_name, name, lines.get(None, 0))
        for key, value in parser.items(section_name, raw=True):
            section.options[key] = value.strip()
            section.lines[key] = lines.get(key, section.line)
            section.value_lines[key] = value_map.get(section_name, {}).get(key, [])
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
        first = _FIRST_WORD_END.split(line.strip(), maxsplit=1)[0]
        return first in self.secret_options or values.is_secret_line(line)

    def __call__(self, line: str) -> str:
        first = _FIRST_WORD_END.split(line.strip(), maxsplit=1)[0]
        if first in self.secret_options:
            return f"the {first!r} line (not shown: it may hold a secret)"
        return values.quoted(line.strip())


def _is_filler(line: str) -> bool:
    """A blank or comment line (inside a multi-line value, part of it)."""
    return not line.strip() or line.lstrip().startswith(("#", ";"))


def _why_unparsable(lines: list[str], lineno: int) -> str:
    """What configparser expected; for an indented line, why it continues nothing.

    An indented line continues the value of the option above it, across blank
    and comment lines; only one with no option above it in its section (right
    after the header) is an error.
    """
    if lines[lineno - 1][:1].isspace():
        return ("an indented line continues the value of the option above it, and there "
                "is none in this section (remove the indentation, or add 'option =' above)")
    return "expected 'option = value', an indented continuation line or a [section]"


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

    An indented line continues the option above it (configparser's rule),
    across the blank and comment lines inside the value.  When such a line
    reads as a password option, it was meant as one: left in place, its text would end
    up in the other option's value, and in any message quoting it.  It is
    reported without its text and left out.  Returns the option (and its
    indent) the next line may continue, and the line to parse.
    """
    indent = len(line) - len(line.lstrip())
    if _is_filler(line):
        return continued, line
    if continued is not None and indent > continued[1]:
        if shown.hides(line):
            first = _FIRST_WORD_END.split(line.strip(), maxsplit=1)[0]
            problems.error(f"this indented line continues {continued[0]} but looks like a "
                           f"{first!r} option, so it is not read (not shown: it may hold a "
                           "secret); remove its indentation", line=lineno,
                           option=continued[0], **where)
            return None, ""
        return continued, line
    option = _OPTION_RE.match(line.lstrip())
    return ((option.group("key").strip(), indent) if option else continued), line


def _line_numbers(text: str) -> tuple[dict[str, dict[str | None, int]],
                                         dict[str, dict[str, list[int]]]]:
    """Map section -> option -> 1-based line (key None: the header line), and
    section -> option -> the line of each line of its stripped value."""
    result: dict[str, dict[str | None, int]] = {}
    values: dict[str, dict[str, list[int]]] = {}
    current: dict[str | None, int] | None = None
    current_values: dict[str, list[int]] = {}
    entries: list[tuple[int, bool]] | None = None  # (line, has text) of the open value
    key = ""
    for lineno, line in enumerate(text.splitlines(), start=1):
        header = _SECTION_RE.match(line)
        option = None if header else _OPTION_RE.match(line)
        if entries is not None and not header and not option and (
                not line.strip() or line[:1].isspace() or _is_comment(line)):
            if not _is_comment(line):  # configparser drops comment lines from values
                entries.append((lineno, bool(line.strip())))
            continue
        _close_value(current_values, key, entries)
        entries = None
        if header:
            current = result.setdefault(header.group("name"), {None: lineno})
            current_values = values.setdefault(header.group("name"), {})
        elif option and current is not None:
            key = option.group("key").strip()
            current.setdefault(key, lineno)
            if key not in current_values:
                rest = line[option.end():]
                entries = [(lineno, bool(rest.strip()))]
    _close_value(current_values, key, entries)
    return result, values


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(("#", ";"))


def _close_value(values: dict[str, list[int]], key: str,
                 entries: list[tuple[int, bool]] | None) -> None:
    """Record the lines of a finished value, without its leading and trailing blanks
    (the loaders strip values)."""
    if entries is None:
        return
    filled = [i for i, (_, has_text) in enumerate(entries) if has_text]
    values[key] = ([n for n, _ in entries[filled[0]:filled[-1] + 1]] if filled else [])
