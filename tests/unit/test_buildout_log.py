"""Reading real buildout outputs: why a buildout failed, in one line (issue 15, point 4).

Every output here was made by the real tools (zc.buildout 5.2.0 with
zc.recipe.egg 4.0.0, pip, gcc, git, hg, the real oca.recipe.odoo), see
``tests/unit/data/buildout_logs/README.md``.  The header -> Debian package
table is checked against docs/worker-setup.md, both ways.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from buildbot_odoo.reports import buildout_log, system_packages
from buildbot_odoo.reports.buildout_log import BuildoutLog, BuildoutProblem
from buildbot_odoo.reports.system_packages import MISSING_THINGS, packages_for

DATA = Path(__file__).parent / "data" / "buildout_logs"
DOC = Path(__file__).resolve().parents[2] / "docs" / "worker-setup.md"


def read(name: str) -> BuildoutLog:
    log = BuildoutLog()
    with (DATA / name).open() as output:
        for line in output:  # line by line, newline included, as a log observer feeds it
            log.feed_line(line)
    return log


@pytest.mark.parametrize("module", [buildout_log, system_packages])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


#: every real output, and the one line its step summary says
SUMMARIES = {
    # a distribution that did not build
    "python-ldap-no-headers.txt": "python-ldap 3.4.0 did not build: lber.h: No such file or "
                                  "directory (Debian package: libldap2-dev)",
    "python-ldap-no-library.txt": "python-ldap 3.4.0 did not build: cannot find -lldap_r "
                                  "(Debian package: libldap2-dev)",
    "psycopg2-no-pg-config.txt": "psycopg2 2.9.5 did not build: pg_config executable not found "
                                 "(Debian package: libpq-dev)",
    "pip-python-ldap-no-sasl.txt": "python-ldap 3.4.0 did not build: sasl/sasl.h: No such file "
                                   "or directory (Debian package: libsasl2-dev)",
    "pip-lxml-no-headers.txt": "lxml 4.9.3 did not build: libxml/xmlversion.h: No such file or "
                               "directory (Debian package: libxml2-dev)",
    "pip-cffi-no-headers.txt": "cffi 1.15.1 did not build: ffi.h: No such file or directory "
                               "(Debian package: libffi-dev)",
    "pip-pillow-no-jpeg.txt": "Pillow 10.0.1 did not build: headers or library files not found "
                              "for jpeg (Debian package: libjpeg-dev)",
    "pip-psutil-no-python-headers.txt": "psutil 5.9.4 did not build: Python.h: No such file or "
                                        "directory (Debian package: python3-dev)",
    "standin-broken-ext.txt": "buildbot-odoo-broken-ext 1.0 did not build: "
                              "buildbot_odoo_missing.h: No such file or directory",
    "develop-offline-no-wheel.txt": "develop /tmp/bl/st/src/oca.recipe.odoo did not build: "
                                    "No matching distribution found for wheel",
    # a version conflict
    "version-conflict.txt": "version conflict: requests 2.31.0 requires urllib3<3,>=1.21.1, "
                            "but urllib3 1.20 is installed",
    "versions-constraint.txt": "version conflict: the buildout requires six>=1.17, but "
                               "[versions] pins six = 1.16.0",
    "versions-constraint-of-dependency.txt": "version conflict: python-dateutil==2.9.0.post0 "
                                             "requires six>=1.5, but [versions] pins six = 1.4.1",
    # a distribution not found
    "not-found-pypi.txt": "distribution not found: buildbot-odoo-no-such-distribution",
    "not-found-offline.txt": "distribution not found: buildbot-odoo-no-such-distribution",
    "not-found-version.txt": "distribution not found: six==99.0",
    "index-unreachable.txt": "distribution not found: six (the index could not be read: "
                             "http://127.0.0.1:9/simple/six/: [Errno 111] Connection refused)",
    # a download that failed
    "extends-unreachable.txt": "download failed: http://127.0.0.1:9/base.cfg: "
                               "<urlopen error [Errno 111] Connection refused>",
    "odoo-archive-unreachable.txt": "download failed: http://127.0.0.1:9/odoo_17.0.latest.tar.gz:"
                                    " <urlopen error [Errno 111] Connection refused>",
    "odoo-archive-404.txt": "download failed: http://127.0.0.1:8765/odoo_17.0.latest.tar.gz: "
                            "HTTP Error 404: File not found",
    # a missing recipe
    "recipe-not-found.txt": "recipe not found: oca.recipe.odo (part odoo)",
    "recipe-entry-point-missing.txt": "recipe not found: zc.recipe.egg:nosuch (part odoo): "
                                      "ImportError: Entry point ('zc.buildout', 'nosuch') "
                                      "not found",
    # a VCS error
    "git-no-such-repository.txt": "git ls-remote failed (part odoo): fatal: "
                                  "'/tmp/bl/no-such-odoo.git' does not appear to be a git "
                                  "repository",
    "git-unreachable-url.txt": "git ls-remote failed (part odoo): fatal: unable to access "
                               "'http://127.0.0.1:9/odoo.git/': Failed to connect to 127.0.0.1 "
                               "port 9 after 0 ms: Couldn't connect to server",
    "hg-no-such-repository.txt": "hg clone failed (part odoo): abort: repository "
                                 "/tmp/bl/no-such-odoo-hg not found",
}


def test_every_real_output_is_read():
    assert sorted([*SUMMARIES, "standin-success.txt"]) == sorted(
        p.name for p in DATA.glob("*.txt"))


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_the_summary_says_why(name):
    assert read(name).summary() == SUMMARIES[name]


@pytest.mark.parametrize(("name", "kind"), [
    ("python-ldap-no-headers.txt", "build"), ("version-conflict.txt", "conflict"),
    ("versions-constraint.txt", "conflict"), ("not-found-pypi.txt", "not-found"),
    ("extends-unreachable.txt", "download"), ("recipe-not-found.txt", "recipe"),
    ("git-no-such-repository.txt", "vcs"), ("hg-no-such-repository.txt", "vcs"),
])
def test_each_cause_has_its_kind(name, kind):
    assert read(name).problem.kind == kind


def test_a_build_problem_names_the_distribution_the_missing_header_and_the_packages():
    problem = read("python-ldap-no-headers.txt").problem
    assert problem == BuildoutProblem("build", "python-ldap 3.4.0",
                                      "lber.h: No such file or directory", ("libldap2-dev",),
                                      "tools")


def test_a_successful_run_has_no_problem():
    log = read("standin-success.txt")
    assert log.problem is None
    assert log.summary("buildout") == "buildout"


def test_a_distribution_is_named_by_its_archive_when_the_requirement_pins_nothing():
    log = BuildoutLog.from_text((DATA / "python-ldap-no-headers.txt").read_text().replace(
        "'python-ldap==3.4.0'", "'python-ldap'"))
    assert log.summary().startswith("python-ldap 3.4.0 did not build: lber.h")


def test_the_first_distribution_that_failed_is_the_one_named():
    """zc.buildout stops at the first failure; a later "Getting distribution" (another part
    of the same log) does not take its place."""
    text = (DATA / "psycopg2-no-pg-config.txt").read_text()
    log = BuildoutLog.from_text(text + "Getting distribution for 'six'.\nGot six 1.17.0.\n")
    assert log.summary().startswith("psycopg2 2.9.5 did not build: pg_config")


def test_a_git_checkout_before_a_distribution_that_did_not_build_is_not_blamed():
    """The recipe clones Odoo (git says things on stderr), then a distribution fails."""
    git = (DATA / "git-no-such-repository.txt").read_text()
    checkout = git[git.index("Installing odoo."):git.index("fatal:")]
    text = (DATA / "psycopg2-no-pg-config.txt").read_text().replace(
        "Installing tools.\n", f"Installing tools.\n{checkout}")
    log = BuildoutLog.from_text(text)
    assert log.problem.kind == "build"
    assert log.summary().startswith("psycopg2 2.9.5 did not build: pg_config")


def test_evidence_is_the_few_lines_the_problem_was_read_from():
    evidence = read("python-ldap-no-headers.txt").evidence()
    assert evidence == [
        "Getting distribution for 'python-ldap==3.4.0'.",
        "\u00d7 Building wheel for python-ldap (pyproject.toml) did not run successfully.",
        "Modules/common.h:15:10: fatal error: lber.h: No such file or directory",
        "While:", "  Installing tools", "  Getting distribution for 'python-ldap==3.4.0'"]


def test_a_password_in_a_url_is_hidden():
    """A git URL with credentials (a deploy token) never reaches the summary or the log."""
    text = (DATA / "git-unreachable-url.txt").read_text().replace(
        "http://127.0.0.1:9/odoo.git", "https://ci:tok3n@127.0.0.1:9/odoo.git")
    log = BuildoutLog.from_text(text)
    assert "tok3n" not in log.summary() and "tok3n" not in "\n".join(log.evidence())
    assert "https://ci:<hidden>@127.0.0.1:9/odoo.git/" in log.summary()


def test_an_unknown_error_is_quoted():
    log = BuildoutLog.from_text("Installing odoo.\nWhile:\n  Installing odoo.\n"
                                "Error: The directory '/srv/x' does not exist\n")
    assert log.summary() == "buildout failed (part odoo): The directory '/srv/x' does not exist"


def test_nothing_to_say_gives_the_default():
    assert BuildoutLog.from_text("Killed\n").summary("buildout") == "buildout"


# -- the header -> package table and docs/worker-setup.md

_SECTION = "### When the buildout says a distribution did not build"


def doc_table() -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
    text = DOC.read_text()
    assert _SECTION in text, f"{DOC} lost its section {_SECTION!r}"
    section = text[text.index(_SECTION):]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((tuple(re.findall(r"`([^`]+)`", cells[0])),
                         tuple(re.findall(r"`([^`]+)`", cells[1])), cells[2]))
    return rows


def test_the_documented_table_is_the_table_the_step_reads():
    assert doc_table() == [(t.names, t.packages, t.needed_by) for t in MISSING_THINGS]


def test_every_package_of_the_table_is_in_the_documented_install_command():
    command = re.search(r"sudo apt-get install python3-venv.*?\n```", DOC.read_text(), re.S)
    assert command, "docs/worker-setup.md lost its apt-get install command"
    installed = set(command.group(0).replace("\\\n", " ").split())
    assert {p for t in MISSING_THINGS for p in t.packages} <= installed


def test_the_headers_of_the_issue_have_their_packages():
    assert {header: packages_for(header) for header in (
        "lber.h", "ldap.h", "sasl/sasl.h", "pg_config", "libxml/xmlversion.h", "Python.h",
        "ffi.h", "jpeglib.h")} == {
        "lber.h": ("libldap2-dev",), "ldap.h": ("libldap2-dev",),
        "sasl/sasl.h": ("libsasl2-dev",), "pg_config": ("libpq-dev",),
        "libxml/xmlversion.h": ("libxml2-dev",), "Python.h": ("python3-dev",),
        "ffi.h": ("libffi-dev",), "jpeglib.h": ("libjpeg-dev",)}
