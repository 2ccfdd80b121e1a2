"""Did Odoo install the addons a build asked for, and if not, why (issue: a build that
tests nothing is not green).

Odoo goes on when it cannot install an addon and often exits 0: a name it
does not know is only a WARNING (``invalid module names, ignored: x``), an
addon whose manifest says ``installable: False`` is passed over without a
word, one whose dependency cannot be installed stays ``to install`` after an
INFO ``module x: Unmet dependencies: y`` and an ERROR about inconsistent
states; one whose dependency is missing altogether stops the whole load with a
``UserError``.  The ground truth is the state Odoo left in ``ir_module_module``
(``installed`` or not); the reason is what Odoo logged about it, read by
:class:`~buildbot_odoo.reports.odoo_log.OdooLogAnalyzer`.

>>> from buildbot_odoo.reports.odoo_log import OdooLogAnalyzer
>>> log = OdooLogAnalyzer.from_text(
...     "2024-05-02 10:00:00,000 7 INFO ? odoo: addons paths: ['/srv/odoo/addons', '/srv/x'] \\n"
...     "2024-05-02 10:00:01,000 7 WARNING db odoo.modules.loading: "
...     "invalid module names, ignored: rr_okk \\n")
>>> [str(p) for p in not_installed(["rr_okk", "sale"], {"sale": "installed"}, log)]
['rr_okk: no module of that name in the addons path (/srv/odoo/addons, /srv/x)']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .odoo_log import LogRecord, OdooLogAnalyzer

INSTALLED = "installed"
#: the longest error excerpt a summary quotes
MESSAGE_CHARS = 160
#: ``psql -A -t -F '|'`` output of ``SELECT name, state FROM ir_module_module``
_STATE_LINE = re.compile(r"^(?P<name>[^|\s]+)\|(?P<state>[a-z ]+)$")
_EXCEPTION = re.compile(r"^(?:\w+\.)*\w*(?:Error|Exception|Warning): (?P<message>.*)$")


@dataclass(frozen=True)
class NotInstalled:
    """An addon Odoo did not install, and Odoo's reason in a few words."""

    addon: str
    reason: str

    def __str__(self) -> str:
        return f"{self.addon}: {self.reason}"


def parse_states(output: str) -> dict[str, str]:
    """Module states from psql's unaligned output (``name|state`` per line).

    >>> parse_states("base|installed\\nsale|to install\\nnoise\\n")
    {'base': 'installed', 'sale': 'to install'}
    """
    states = {}
    for line in output.splitlines():
        match = _STATE_LINE.match(line.strip())
        if match:
            states[match["name"]] = match["state"]
    return states


def not_installed(addons: Sequence[str], states: Mapping[str, str] | None,
                  log: OdooLogAnalyzer, addons_path: Sequence[str] = ()) -> list[NotInstalled]:
    """The addons of ``addons`` Odoo did not install, each with its reason.

    ``states`` is what ``ir_module_module`` says after the run, or None when it
    could not be read (the load failed before the table existed): then only
    what the log says counts.  ``addons_path`` is used when the log did not
    name its addons path (Odoo logs it as it starts).
    """
    if list(addons) == ["all"]:
        return []
    paths = log.addons_paths or list(addons_path)
    found = []
    for addon in addons:
        if states is None:
            reason = _unknown_name(paths) if addon in log.invalid_names else None
        else:
            reason = _reason(states.get(addon), addon, log, paths)
        if reason is not None:
            found.append(NotInstalled(addon, reason))
    return found


def _reason(state: str | None, addon: str, log: OdooLogAnalyzer,
            paths: Sequence[str]) -> str | None:
    if state == INSTALLED:
        return None
    if state is None:
        return _unknown_name(paths)
    if state == "uninstallable":
        return ("not installable: its manifest says 'installable': False "
                "(or it is not made for this Odoo version)")
    if state == "to install" and addon in log.unmet:
        return f"not installed: dependencies Odoo cannot install: {log.unmet[addon]}"
    error = first_error_message(log)
    if error:
        return f"not installed: {error}"
    return f"not installed (Odoo left it {state!r})"


def _unknown_name(paths: Sequence[str]) -> str:
    where = f" ({', '.join(paths)})" if paths else ""
    return f"no module of that name in the addons path{where}"


def first_error_message(log: OdooLogAnalyzer) -> str:
    """The first error's own words: the exception's message when the record carries a
    traceback (``Failed to load registry`` says little), else its first line."""
    first = log.first_error
    if first is None:
        return ""
    return shorten(exception_message(first[0]) or first[0].message.strip())


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` on one line, cut at ``limit`` characters.

    >>> shorten("a\\n  b", 10), shorten("x" * 20, 10)
    ('a b', 'xxxxxxx...')
    """
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def exception_message(record: LogRecord) -> str:
    """The message of the last exception of a record's traceback, its lines joined.

    >>> from buildbot_odoo.reports.odoo_log import OdooLogAnalyzer
    >>> log = OdooLogAnalyzer.from_text(
    ...     "2024-05-02 10:00:00,000 7 ERROR db odoo.modules.registry: Failed to load registry\\n"
    ...     "Traceback (most recent call last):\\n"
    ...     '  File "x.py", line 1, in f\\n'
    ...     "odoo.exceptions.UserError: You try to install module 'a' that depends on 'b'.\\n"
    ...     "But the latter module is not available in your system.\\n")
    >>> exception_message(log.error_records[0])
    "You try to install module 'a' that depends on 'b'. But the latter module is not \
available in your system."
    """
    lines = list(record.continuation)
    for index in range(len(lines) - 1, -1, -1):
        match = _EXCEPTION.match(lines[index])
        if match and not lines[index].startswith(" "):
            rest = [line.strip() for line in lines[index + 1:] if line.strip()]
            return " ".join([match["message"].strip(), *rest]).strip()
    return ""


def untested(addons: Sequence[str], log: OdooLogAnalyzer,
             missing: Sequence[NotInstalled] = ()) -> list[str]:
    """The installed addons of ``addons`` no test of which appears in the log."""
    absent = {problem.addon for problem in missing}
    return [a for a in addons if a != "all" and a not in absent and not log.tests_of(a)]
