"""What a step says when the program it runs ends before Odoo logs anything."""

from __future__ import annotations

import doctest

import pytest

from buildbot_odoo.reports import startup
from buildbot_odoo.reports.startup import explain_early_end, last_stderr_line


def test_doctests():
    assert doctest.testmod(startup).failed == 0


def test_the_last_word_skips_blank_lines_and_odoo_start_up_warnings():
    assert last_stderr_line(["Running as user 'root' is a security risk.", "", "  "]) is None
    assert last_stderr_line(["boom", "Running as user 'root' is a security risk."]) == "boom"


@pytest.mark.parametrize(("line", "advice"), [
    ("ModuleNotFoundError: No module named 'openerp'", "use zc.buildout 5.2.0"),
    ("ModuleNotFoundError: No module named 'imp'", "build with Python 3.11"),
])
def test_known_causes_come_with_what_to_do(line, advice):
    assert advice in explain_early_end("bin/start_odoo", 1, ["Traceback ...", line])


def test_a_long_last_line_is_cut():
    text = explain_early_end("bin/start_odoo", 3, ["x" * 500])
    assert text.endswith("x...") and len(text) < 250


def test_missing_program_without_hint():
    assert explain_early_end("bin/upgrade_odoo", 1, ["whatever"], missing=True) == (
        "bin/upgrade_odoo not made by the buildout")
