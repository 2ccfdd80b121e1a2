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
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problems

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


def read_ini(path: str | Path, problems: Problems, display_name: str | None = None) -> IniDocument:
    """Parse ``path``; parse errors go to ``problems`` and yield an empty document."""
    name = display_name or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.error(f"cannot read file: {exc.strerror or exc}", file=name)
        return IniDocument(name, {})
    except UnicodeDecodeError as exc:
        problems.error(f"not UTF-8 text: {exc}", file=name)
        return IniDocument(name, {})
    return parse_ini(text, name, problems)


def parse_ini(text: str, name: str, problems: Problems) -> IniDocument:
    parser = configparser.ConfigParser(
        interpolation=None, strict=True, default_section=_NO_DEFAULT, empty_lines_in_values=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=name)
    except configparser.Error as exc:
        problems.error(_describe_parse_error(exc), file=name, line=getattr(exc, "lineno", None))
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


def _describe_parse_error(exc: configparser.Error) -> str:
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"section [{exc.section}] appears twice"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"[{exc.section}] option {exc.option!r} appears twice"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"text before any [section] header: {exc.line.strip()!r}"
    if isinstance(exc, configparser.ParsingError):
        bad = "; ".join(f"line {lineno}: {line.strip()!r}" for lineno, line in exc.errors)
        return f"cannot parse {bad}"
    return str(exc)


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
