"""Why a program an Odoo step runs ended before Odoo logged anything (SPEC 6, item 7).

A step running ``bin/start_<part>`` (or the test or upgrade script) reads
Odoo's log to tell the story; when the program is missing, or dies while
importing, there is no log at all, and "no tests run (exit code 1)" would
send the user looking in the wrong place.  :func:`explain_early_end` says
what happened from what the step knows then: whether the program exists on
the worker, its exit code, and the last line it wrote to stderr (a Python
traceback ends with the exception), plus what to do for the causes real
buildouts run into:

>>> explain_early_end("bin/test_odoo", 1, [], missing=True,
...                   missing_hint="oca.recipe.odoo writes it only with with_devtools = true")
'bin/test_odoo not made by the buildout: oca.recipe.odoo writes it only with with_devtools = true'
>>> print(explain_early_end("bin/test_odoo", 1, [
...     "Traceback (most recent call last):", "    import mock_dt",
...     "ModuleNotFoundError: No module named 'mock_dt'"]))
bin/test_odoo died before Odoo logged anything (exit code 1): ModuleNotFoundError: \
No module named 'mock_dt' -- anybox.testing.datetime (with_devtools) is Python 2 code: \
leave test-command unset, the tests then run with the start script and Odoo's test flags
>>> explain_early_end("bin/start_odoo", -1, [])
'bin/start_odoo ended before Odoo logged anything (exit code -1), without a word on stderr'

Plain Python, no Buildbot: the step is a thin edge around it.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Longest excerpt of the program's last stderr line in a summary.
LAST_LINE_CHARS = 160

#: (text found in the last stderr line, what to do), first match wins.  Each
#: cause is one users of oca.recipe.odoo meet (see docs/build.md).
KNOWN_CAUSES: tuple[tuple[str, str], ...] = (
    ("No module named 'mock_dt'",
     "anybox.testing.datetime (with_devtools) is Python 2 code: leave test-command unset, "
     "the tests then run with the start script and Odoo's test flags"),
    ("No module named 'openerp'",
     "the script's path has no Odoo: zc.buildout >= 6 puts develop-eggs there instead of the "
     "Odoo tree when the tree's path sorts before it; use zc.buildout 5.2.0, the "
     "bootstrap's default (leave bootstrap-version unset, docs/build.md)"),
    ("No module named 'imp'",
     "oca.recipe.odoo uses the imp module, removed in Python 3.12: build with Python 3.11 "
     "(bootstrap-python)"),
    ("Using the database user 'postgres' is a security risk",
     "Odoo refuses the role postgres: give the worker's postgresql capability another user="),
)

#: stderr lines Odoo writes before anything goes wrong: never "the last word"
_NOISE = ("Running as user 'root' is a security risk.",)


def last_stderr_line(lines: Sequence[str]) -> str | None:
    """The last line worth quoting: not blank, not one of Odoo's start-up warnings."""
    for line in reversed(lines):
        text = line.strip()
        if text and text not in _NOISE:
            return text
    return None


def known_cause(line: str) -> str | None:
    return next((hint for needle, hint in KNOWN_CAUSES if needle in line), None)


def explain_early_end(program: str, exit_code: int | None, stderr_lines: Sequence[str], *,
                      missing: bool = False, missing_hint: str = "") -> str:
    """One line for the step summary: the program is missing, or how it died."""
    if missing:
        text = f"{program} not made by the buildout"
        return f"{text}: {missing_hint}" if missing_hint else text
    code = f"exit code {exit_code}"
    last = last_stderr_line(stderr_lines)
    if last is None:
        return f"{program} ended before Odoo logged anything ({code}), without a word on stderr"
    quoted = last if len(last) <= LAST_LINE_CHARS else last[:LAST_LINE_CHARS - 3] + "..."
    text = f"{program} died before Odoo logged anything ({code}): {quoted}"
    hint = known_cause(last)
    return f"{text} -- {hint}" if hint else text
