"""Reading linter output: ``PATH:LINE:COL: CODE message`` lines (ruff, flake8).

Both tools write this form -- flake8 by default (``--format=default``), ruff
with ``--output-format=concise`` (its syntax errors read ``invalid-syntax:
message``) -- so one reader serves both.  Lines that do
not have that shape (ruff's "Found 3 errors." footer, flake8's statistics)
are not issues.  Plain Python: the Buildbot step in
:mod:`buildbot_odoo.master.steps.static_analysis` feeds it line by line.

>>> report = LintReport()
>>> for line in ["sale_x/models.py:3:1: F401 [*] `os` imported but unused",
...              "sale_x/models.py:9:101: E501 Line too long (120 > 100)",
...              "sale_x/wizard.py:1:1: F401 `re` imported but unused",
...              "Found 3 errors."]:
...     _ = report.feed_line(line)
>>> report.summary()
'3 issues (F401: 2, E501: 1)'
>>> report.issues[0]
Issue(path='sale_x/models.py', line=3, column=1, code='F401', message='`os` imported but unused')
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

#: Codes shown in the summary before "+N more".
SUMMARY_CODES = 3

_ISSUE = re.compile(
    r"^(?P<path>[^:\s][^:]*):(?P<line>\d+):(?:(?P<column>\d+):)? "
    r"(?P<code>[A-Z]+[0-9]*|[a-z]+(?:-[a-z]+)*):?(?: \[\*\])? (?P<message>.*)$")


@dataclass(frozen=True)
class Issue:
    path: str
    line: int
    column: int | None
    code: str
    message: str

    def __str__(self) -> str:
        column = f"{self.column}:" if self.column is not None else ""
        return f"{self.path}:{self.line}:{column} {self.code} {self.message}"


@dataclass
class LintReport:
    issues: list[Issue] = field(default_factory=list)

    def feed_line(self, line: str) -> Issue | None:
        """Record the issue ``line`` describes, if it describes one."""
        match = _ISSUE.match(line.rstrip("\r\n"))
        if match is None:
            return None
        column = match["column"]
        issue = Issue(match["path"], int(match["line"]), int(column) if column else None,
                      match["code"], match["message"].strip())
        self.issues.append(issue)
        return issue

    @property
    def codes(self) -> Counter[str]:
        return Counter(issue.code for issue in self.issues)

    def summary(self) -> str:
        """``12 issues (E501: 7, F401: 4, +1 more)``, or ``no issues``."""
        if not self.issues:
            return "no issues"
        count = len(self.issues)
        text = f"{count} issue" if count == 1 else f"{count} issues"
        common = self.codes.most_common()
        shown = [f"{code}: {n}" for code, n in common[:SUMMARY_CODES]]
        if len(common) > SUMMARY_CODES:
            shown.append(f"+{len(common) - SUMMARY_CODES} more")
        return f"{text} ({', '.join(shown)})"
