"""No error or warning quotes a password, whatever the mistake around it (issue 9.4).

Every message path is tried: ini.py's structural errors (text before a
header, after a header, unparsable lines), workers.cfg option errors
(values folded into another option by configparser, capability lines,
property names) and manifest errors; through ``buildbot-odoo check`` (the
terminal) and through ``populate`` (what Buildbot writes to twistd.log).
"""

from __future__ import annotations

import logging
import textwrap

import pytest

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.cli import main
from buildbot_odoo.errors import ConfigError, Problem

SECRET = "hunter2"
GOOD_WORKER = "[w1]\npassword = x\ncapability = postgresql 15\n"
GOOD_MANIFEST = "[a]\nbuildout = standalone b.cfg\nbuild-for = postgresql\n"

WORKERS = {
    # configparser folds an indented line into the option above it
    "under capability": "[w1]\npassword = x\ncapability = postgresql 15\n"
                        "  password = hunter2\n",
    "under capability, no '='": "[w1]\npassword = x\ncapability = postgresql 15\n"
                                "  password hunter2\n",
    "under max_builds": "[w1]\nmax_builds = 2\n  password = hunter2\n",
    "under worker_priority, upper case": "[w1]\npassword = x\nworker_priority = 1\n"
                                         "  PASSWORD = hunter2\n",
    "under db_prefix, with ':'": "[w1]\npassword = x\ndb_prefix = ci\n  pgpassword: hunter2\n",
    "under a property": "[w1]\npassword = x\nfoo = bar\n  password = hunter2\n",
    "after a section header": "[w1] password = hunter2\ncapability = postgresql 15\n",
    "before any header": "Password = hunter2\n" + GOOD_WORKER,
    "orphaned by a comment": "[w1]\npassword = x\nfoo = 1\n# note\n  Passwd hunter2\n",
    "in a property name": "[w1]\npassword = x\nPassword hunter2 = x\n",
    "capability line without '='": "[w1]\npassword = x\n"
                                   "capability postgresql 15 password=hunter2\n",
    "inline capability option": "[w1]\npassword = x\n"
                                "capability = postgresql 15 password=hunter2\n",
    "a bad token, then an inline capability option": "[w1]\npassword = x\ncapability = "
                                                    "postgresql 15 oops pass=hunter2\n",
}
MANIFESTS = {
    "under build-for": "[a]\nbuildout = standalone b.cfg\nbuild-for = postgresql\n"
                       "  password = hunter2\n",
    "under watch": "[a]\nbuildout = standalone b.cfg\nwatch = git https://x/r.git main\n"
                   "  password = hunter2\n",
    "under tree-stable-timer": "[a]\nbuildout = standalone b.cfg\ntree-stable-timer = 3\n"
                               "  password = hunter2\n",
    "after a section header": "[a] password = hunter2\nbuildout = standalone b.cfg\n",
    "before any header": "password = hunter2\n" + GOOD_MANIFEST,
}


def master(tmp_path, workers: str = GOOD_WORKER, manifest: str = GOOD_MANIFEST):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest))
    (tmp_path / "workers.cfg").write_text(workers)
    return tmp_path


def assert_refused_without_the_secret(directory, capsys, caplog):
    assert main(["check", str(directory)]) == 1
    shown = capsys.readouterr()
    assert SECRET not in shown.out + shown.err
    assert "error" in shown.out
    with caplog.at_level(logging.WARNING), pytest.raises(ConfigError) as caught:
        BuildoutsConfigurator(directory).populate({})
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text
    plan = BuildoutsConfigurator(directory).load()
    assert all(SECRET not in str(w.properties) for w in plan.workers)


@pytest.mark.parametrize("text", WORKERS.values(), ids=list(WORKERS))
def test_no_workers_cfg_message_quotes_a_password(tmp_path, capsys, caplog, text):
    assert_refused_without_the_secret(master(tmp_path, workers=text), capsys, caplog)


@pytest.mark.parametrize("text", MANIFESTS.values(), ids=list(MANIFESTS))
def test_no_manifest_message_quotes_a_password(tmp_path, capsys, caplog, text):
    assert_refused_without_the_secret(master(tmp_path, manifest=text), capsys, caplog)


def test_an_indented_password_line_is_explained_at_its_line(tmp_path, capsys):
    directory = master(tmp_path, workers=WORKERS["under max_builds"])
    assert main(["check", str(directory)]) == 1
    out = [line for line in capsys.readouterr().out.splitlines() if "workers.cfg" in line]
    assert out == [
        "workers.cfg:1: w1: missing required option 'password'",
        "workers.cfg:3: w1: max_builds: this indented line continues max_builds but looks "
        "like a 'password' option, so it is not read (not shown: it may hold a secret); "
        "remove its indentation"]


def test_a_capability_line_is_quoted_with_its_secret_hidden(tmp_path, capsys):
    directory = master(tmp_path,
                       workers=WORKERS["a bad token, then an inline capability option"])
    main(["check", str(directory)])
    out = capsys.readouterr().out
    assert "'postgresql 15 oops pass=<hidden>': 'oops' is not KEY=VALUE" in out


def test_any_problem_hides_a_secret_assignment_in_its_message():
    problem = Problem("'2\\nPGPASSWORD = hunter2 x' is not a number; db_pass=hunter2, "
                      "password-secret=pg_ci, port=5432", file="w.cfg")
    assert SECRET not in str(problem)
    assert problem.message == ("'2\\nPGPASSWORD = <hidden> x' is not a number; "
                               "db_pass=<hidden>, password-secret=pg_ci, port=5432")
