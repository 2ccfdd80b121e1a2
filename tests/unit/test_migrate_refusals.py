"""Every old spelling ``check`` refuses is rewritten by ``migrate``, or reported at its line.

``check`` refuses an old spelling when reading it as it is would change what
the build does, and says what to write instead.  Where the files determine
that (``static-analysis.max-line-length`` next to ``static-analysis.arguments``,
the python capability's ``bin=python2.6``), ``migrate --write`` writes it and
``check`` then accepts the directory; where they do not (two functional
scripts, coverage with nose), ``migrate`` exits 1 with the refusal at its
line and leaves the line for the user.

:func:`test_every_refusal_of_the_table_is_covered` probes the table of
:mod:`buildbot_odoo.config.legacy` itself: a refusal added there without a
case here fails it.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from buildbot_odoo.cli import main
from buildbot_odoo.config import legacy

WORKERS = """\
[w1]
password = w1-secret
capability = postgresql 15 port=5432
             python 3.11 bin=/usr/bin
"""

#: (old option, manifest section lines, what migrate writes instead) -- check accepts the result
REWRITTEN = [
    ("static-analysis.max-line-length",
     "post-buildout-steps = static-analysis\nstatic-analysis.paths = src\n"
     "static-analysis.arguments = -q\n"
     "static-analysis.max-line-length = 99\n",
     "static-analysis.arguments = -q --max-line-length 99"),
    ("nose.tests",
     "post-buildout-steps = nose\npytest.arguments = -q\nnose.tests = src/acme/tests\n",
     "pytest.arguments = -q src/acme/tests"),
]

#: (old option, manifest section lines, the refusal migrate reports at the line)
REPORTED = [
    ("functional.commands",
     "post-buildout-steps = functional\nfunctional.commands = a.sh b.sh\n",
     "functional.command runs one command"),
    ("static-analysis.max-line-length",
     "post-buildout-steps = static-analysis\n"
     "static-analysis.arguments = --max-line-length=120\n"
     "static-analysis.max-line-length = 99\n",
     "gives a line length too"),
    ("update.log_file_option",
     "post-buildout-steps = update-odoo\nupdate.log_file_option = --logfile\n",
     "name a wrapper script accepting --log-file"),
    ("install-as-upgrade", "post-buildout-steps = nose\ninstall-as-upgrade = true\n",
     "write 'install-modules update-modules'"),
    ("nose.coverage", "post-buildout-steps = nose\nnose.coverage = true\n",
     "run coverage with pytest-cov"),
    ("nose.profile", "post-buildout-steps = nose\nnose.profile = true\n", "--durations=N"),
    ("nose.cprofile", "post-buildout-steps = nose\nnose.cprofile = true\n", "--durations=N"),
    ("doc.version", "post-buildout-steps = doc\ndoc.version = 1.0\n",
     "in <doc.upload-dir>/<builder>"),
]


def master(tmp_path: Path, section: str, workers: str = WORKERS) -> Path:
    directory = tmp_path / "master"
    assert main(["init", str(directory)]) == 0
    (directory / "workers.cfg").write_text(workers)
    (directory / "buildouts" / "MANIFEST.cfg").write_text(
        "[build]\nbuildout = standalone odoo-17.cfg\nbuild-for = postgresql >= 12\n" + section)
    return directory


def run(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines()
            if ": warning: " not in line and "deprecated" not in line
            and line[:1] not in "+- @" and "errors," not in line
            and not line.startswith(("rewrote ", "nothing to rewrite"))]


@pytest.mark.parametrize(("option", "section", "written"), REWRITTEN,
                         ids=[case[0] for case in REWRITTEN])
def test_what_the_file_determines_is_written(tmp_path, capsys, option, section, written):
    directory = master(tmp_path, section)
    code, output = run(capsys, "check", str(directory))
    assert code == 0, output  # read as it is, with a deprecation warning
    code, output = run(capsys, "migrate", str(directory), "--write")
    assert code == 0, output
    text = (directory / "buildouts" / "MANIFEST.cfg").read_text()
    assert written in text.splitlines(), text
    assert f"{option} =" not in text
    code, output = run(capsys, "check", str(directory))
    assert code == 0 and option not in output, output


@pytest.mark.parametrize(("option", "section", "message"), REPORTED,
                         ids=[f"{case[0]}-{n}" for n, case in enumerate(REPORTED)])
def test_what_it_does_not_is_reported_at_its_line(tmp_path, capsys, option, section, message):
    directory = master(tmp_path, section)
    line = 4 + section.splitlines().index(next(s for s in section.splitlines()
                                               if s.startswith(option + " =")))
    code, output = run(capsys, "migrate", str(directory), "--write")
    assert code == 1, output
    located = [e for e in errors(output)
               if e.startswith(f"buildouts/MANIFEST.cfg:{line}: build: {option}: ")]
    assert located and message in located[0], output
    assert f"{option} =" in (directory / "buildouts" / "MANIFEST.cfg").read_text()


def _probe_values() -> list[str]:
    return ["true", "yes", "1", "a.sh b.sh", "--logfile", "99", "src/tests", "1.0"]


def _probe_contexts() -> list[dict[str, str]]:
    steps = ["install-modules-test", "functional", "static-analysis", "doc", "nose",
             "update-odoo", "update-openerp"]
    extras = [{}, {"static-analysis.arguments": "--max-line-length=1"},
              {"pytest.arguments": "-q"}, {"doc.upload-dir": "docs"}]
    return [{"post-buildout-steps": step, **extra}
            for step, extra in itertools.product(steps, extras)]


def test_every_refusal_of_the_table_is_covered():
    """Whatever value and build context make an old option refused has a case above."""
    refusable = set()
    for rule in legacy.OLD_OPTIONS:
        for value, context in itertools.product(_probe_values(), _probe_contexts()):
            change = rule.convert(value, context)
            if change is not None and change.refused:
                refusable.add(rule.name)
    covered = {case[0] for case in REWRITTEN + REPORTED}
    assert refusable, "the probe found no refusal: it no longer probes the table"
    assert refusable <= covered, f"refusals without a rewrite or a reported case: " \
                                 f"{sorted(refusable - covered)}"


# --- the python capability of anybox.buildbot.odoo named the bootstrap's interpreter


PY_WORKERS = textwrap.dedent("""\
    [w1]
    password = w1-secret
    capability = postgresql 15 port=5432

                 python 2.6 bin=python2.6
    \t     selenium
    [w2]
    password = w2-secret
    capability = postgresql 15 port=5433
                 python 2.7 bin=/usr/bin/python2.7
    """)


def test_an_interpreter_named_by_the_python_capability_is_rewritten(tmp_path, capsys):
    directory = master(tmp_path, "build-requires = python < 2.7\n", PY_WORKERS)
    (directory / "buildouts" / "MANIFEST.cfg").write_text(
        (directory / "buildouts" / "MANIFEST.cfg").read_text()
        + "[other]\nbuildout = standalone odoo-17.cfg\nbuild-for = postgresql >= 12\n"
          "build-requires = python >= 2.7\n")
    code, output = run(capsys, "check", str(directory))
    assert code == 1 and "names an interpreter" in output, output
    code, output = run(capsys, "migrate", str(directory), "--write")
    assert code == 0, output
    workers = (directory / "workers.cfg").read_text().splitlines()
    assert "             python 2.6" in workers
    assert "             python 2.7 bin=/usr/bin" in workers
    assert "\t     selenium" in workers  # the rest as written
    manifest = (directory / "buildouts" / "MANIFEST.cfg").read_text()
    # each build gets the interpreter of the python version it requires
    assert manifest.split("[other]")[0].splitlines()[-1] == "bootstrap-python = python2.6"
    assert manifest.splitlines()[-1] == "bootstrap-python = python2.7"
    code, output = run(capsys, "check", str(directory))
    assert code == 0, output


def test_a_virtualenv_of_the_python_capability_becomes_bootstrap_python(tmp_path, capsys):
    workers = PY_WORKERS.replace("bin=python2.6", "venv=/srv/odoo-env/").replace(
        "python 2.7 bin=/usr/bin/python2.7", "wkhtmltopdf 0.12")
    directory = master(tmp_path, "build-requires = python\n", workers)
    code, output = run(capsys, "migrate", str(directory), "--write")
    assert code == 0, output
    assert "             python 2.6" in (directory / "workers.cfg").read_text().splitlines()
    manifest = (directory / "buildouts" / "MANIFEST.cfg").read_text()
    assert manifest.splitlines()[-1] == "bootstrap-python = /srv/odoo-env/bin/python"
    assert run(capsys, "check", str(directory))[0] == 0


def test_what_cannot_be_an_interpreter_is_reported_at_its_line(tmp_path, capsys):
    workers = PY_WORKERS.replace("bin=python2.6", "venv=~/odoo-env")
    directory = master(tmp_path, "build-requires = python\n", workers)
    code, output = run(capsys, "migrate", str(directory), "--write")
    assert code == 1
    (error,) = errors(output)
    assert error.startswith("workers.cfg:5: w1: capability: 'venv=~/odoo-env' of "
                            "anybox.buildbot.odoo's python capability cannot be rewritten"), \
        output
    assert "python 2.6 venv=~/odoo-env" in (directory / "workers.cfg").read_text()


def test_workers_naming_different_interpreters_for_one_build_are_reported(tmp_path, capsys):
    directory = master(tmp_path, "build-requires = python\n", PY_WORKERS)
    code, output = run(capsys, "migrate", str(directory), "--write")
    assert code == 1
    (error,) = errors(output)
    assert error.startswith(
        "buildouts/MANIFEST.cfg:1: build: the workers' python capability named several "
        "interpreters (python2.6 on w1, python2.7 on w2)"), output
