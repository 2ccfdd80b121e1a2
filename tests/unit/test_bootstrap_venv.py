"""The known-good bootstrap: what is installed, the pins ``check`` warns about, the
worker script's choices (interpreter, reuse), the ``bootstrap`` step and the
environment of a worker started from an activated virtualenv."""

from __future__ import annotations

import doctest
import fcntl
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading
import venv as venv_module
from pathlib import Path

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import builtin_capabilities, validate_definitions
from buildbot_odoo.config import bootstrap
from buildbot_odoo.config.manifest import load_manifests
from buildbot_odoo.errors import Problems
from buildbot_odoo.master.steps import capability
from buildbot_odoo.master.steps.bootstrap import BootstrapStep
from buildbot_odoo.master.steps.capability import CapabilityEnvironment, SetCapabilityProperties
from buildbot_odoo.master.subfactories.retrieval import worker_script

SCRIPT_PATH = Path(worker_script("bootstrap_venv.py"))


def load_script():
    """The worker script as a module, to call its functions (it is a standalone file)."""
    spec = importlib.util.spec_from_file_location("bootstrap_venv", SCRIPT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = load_script()


@pytest.mark.parametrize("module", [bootstrap, capability])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


# --- what is installed, and what check says (buildbot_odoo.config.bootstrap)


@pytest.mark.parametrize(("values", "expected"), [
    ({}, ["zc.buildout==5.2.0", "zc.recipe.egg==4.0.0"]),
    ({"recipe-egg-version": "3.0.0"}, ["zc.buildout==5.2.0", "zc.recipe.egg==3.0.0"]),
    ({"version": "6.0.1"}, ["zc.buildout==6.0.1", "zc.recipe.egg"]),
    ({"version": "3.3"}, ["zc.buildout==3.3"]),
    ({"version": "2.13.8", "recipe-egg-version": "2.0.7"},
     ["zc.buildout==2.13.8", "zc.recipe.egg==2.0.7"]),
    ({"setuptools-version": "79.0.1", "pip-version": "25.2"},
     ["zc.buildout==5.2.0", "zc.recipe.egg==4.0.0", "setuptools==79.0.1", "pip==25.2"]),
])
def test_requirements(values, expected):
    assert bootstrap.requirements(values) == expected


def check(write, text: str) -> tuple[list, list[str]]:
    write("buildouts/b.cfg", "[buildout]\nparts =\n")
    path = write("buildouts/MANIFEST.cfg", text)
    problems = Problems()
    builds = load_manifests([(path, "MANIFEST.cfg")], problems)
    return builds, [str(p) for p in problems]


def test_default_bootstrap_and_safe_pins_raise_nothing(write):
    builds, problems = check(write, """\
        [DEFAULT]
        buildout = standalone b.cfg

        [default]

        [pinned]
        bootstrap-version = 5.2.0
        bootstrap-recipe-egg-version = 4.0.0
        bootstrap-reuse = no

        [six-made-safe]
        bootstrap-version = 6.0.1
        bootstrap-setuptools-version = 79.0.1
        bootstrap-pip-version = 25.2
        """)
    assert problems == []
    assert [b.name for b in builds] == ["default", "pinned", "six-made-safe"]


def test_pins_known_to_break_are_warned_about_where_they_are_written(write):
    builds, problems = check(write, """\
        [DEFAULT]
        buildout = standalone b.cfg
        bootstrap-version = 6.0.1

        [a]

        [b]
        bootstrap-version = 5.2.0
        bootstrap-recipe-egg-version = 6.0.0

        [c]
        bootstrap-version = 3.3
        """)
    assert len(builds) == 3  # warnings: the builds are made
    six, mismatch, three = problems
    # one warning for the [DEFAULT] line, however many builds inherit it
    assert six.startswith("MANIFEST.cfg:3: DEFAULT: bootstrap-version: warning: zc.buildout "
                          "6.0.1 leaves beside odoo.egg-link an odoo-<version>.dist-info ")
    assert "\"No module named 'odoo'\"" in six and "bootstrap-pip-version < 25.3" in six
    assert mismatch == ("MANIFEST.cfg:9: b: bootstrap-recipe-egg-version: warning: "
                        "zc.recipe.egg 6.0.0 requires zc.buildout >= 6.0.0, and the bootstrap "
                        "installs zc.buildout 5.2.0: pip cannot install both")
    assert three.startswith("MANIFEST.cfg:12: c: bootstrap-version: warning: zc.buildout 3.3 "
                            "takes the newest zc.recipe.egg")


def test_pre_releases_count_with_their_major_version():
    assert [p.option for p in bootstrap.bootstrap_problems({"version": "6.0.0rc1"})] == [
        "bootstrap-version"]
    assert bootstrap.requirements({"version": "4.0.0a1"}) == ["zc.buildout==4.0.0a1",
                                                             "zc.recipe.egg"]


def test_recipe_egg_pin_is_checked_against_the_default_zc_buildout(write):
    _, problems = check(write, "[a]\nbuildout = standalone b.cfg\n"
                               "bootstrap-recipe-egg-version = 6.0.0\n")
    assert problems == ["MANIFEST.cfg:3: a: bootstrap-recipe-egg-version: warning: "
                        "zc.recipe.egg 6.0.0 requires zc.buildout >= 6.0.0, and the bootstrap "
                        "installs zc.buildout 5.2.0: pip cannot install both"]


def test_bad_values_are_errors_and_leave_the_build_out(write):
    builds, problems = check(write, """\
        [a]
        buildout = standalone b.cfg
        bootstrap-version = latest
        bootstrap-pip-version = >=25
        bootstrap-reuse = sometimes
        bootstrap-python = -c
        """)
    assert builds == []
    assert problems == [
        "MANIFEST.cfg:3: a: bootstrap-version: 'latest' is not a version (PEP 440, such as "
        "3.0.1): give the one version to install",
        "MANIFEST.cfg:4: a: bootstrap-pip-version: '>=25' is not a version (PEP 440, such as "
        "3.0.1): give the one version to install",
        "MANIFEST.cfg:5: a: bootstrap-reuse: 'sometimes' is not a boolean (true/false, yes/no, "
        "on/off, 1/0)",
        "MANIFEST.cfg:6: a: bootstrap-python: '-c': a command must be a program name or an "
        "absolute path",
    ]


# --- the worker script's decisions (bootstrap_venv.py, in this process)


def make_virtualenv_dir(root: Path, name: str) -> Path:
    """A directory shaped like a virtualenv: ``pyvenv.cfg`` and ``bin/python3``."""
    venv = root / name
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "python3").symlink_to(sys.executable)
    return venv


def test_clean_environment_drops_the_virtualenvs(tmp_path):
    active = make_virtualenv_dir(tmp_path, "active")
    other = make_virtualenv_dir(tmp_path, "other")
    tools = tmp_path / "tools"
    tools.mkdir()
    environ = {"PATH": f"{active}/bin:{tools}::{other}/bin/:/usr/bin", "VIRTUAL_ENV": str(active),
               "PYTHONHOME": "/x", "PYTHONPATH": "/y", "PIP_USER": "1", "HOME": "/root"}
    env, dropped = script.clean_environment(environ)
    assert env == {"PATH": f"{tools}:/usr/bin", "HOME": "/root"}
    assert dropped == [f"{active}/bin", f"{other}/bin/"]


def test_virtualenv_bin_directories_are_told_by_their_layout(tmp_path):
    old = tmp_path / "old-virtualenv"  # virtualenv < 20
    (old / "bin").mkdir(parents=True)
    (old / "lib" / "python2.7").mkdir(parents=True)
    (old / "lib" / "python2.7" / "orig-prefix.txt").write_text("/usr")
    shims = tmp_path / "pyenv-virtualenv" / "shims"  # has an activate script, is no venv
    shims.mkdir(parents=True)
    (shims / "activate").write_text("")
    assert script.is_virtualenv_bin(str(old / "bin"))
    assert script.is_virtualenv_bin(str(make_virtualenv_dir(tmp_path, "v") / "bin"))
    assert not script.is_virtualenv_bin(str(shims))
    assert not script.is_virtualenv_bin("/usr/bin")


def test_interpreter_in_a_virtualenv_is_replaced_by_its_base(tmp_path):
    venv = tmp_path / "v"
    venv_module.EnvBuilder(symlinks=True).create(venv)
    env, dropped = script.clean_environment({"PATH": f"{venv}/bin",
                                             "VIRTUAL_ENV": str(venv)})
    assert env["PATH"] == "" and dropped == [f"{venv}/bin"]
    python, version, notes = script.find_interpreter("python3", env, dropped)
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    assert python == base
    assert version == sys.version.split()[0]
    assert notes == [f"python3 is only in a virtualenv's bin directory: {venv}/bin/python3",
                     f"{venv}/bin/python3 belongs to a virtualenv: using its base "
                     f"interpreter {base}"]


def test_the_stamped_interpreter_untouched_is_not_run_again(tmp_path):
    real = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    link = tmp_path / "python3"
    link.symlink_to(real)
    env = {"PATH": str(tmp_path)}
    known = {"python": real, "python_version": "3.99.0", "fingerprint": script.fingerprint(real)}
    # the version is the stamp's: the interpreter was not asked
    assert script.find_interpreter("python3", env, [], known)[:2] == (real, "3.99.0")
    replaced = {**known, "fingerprint": [0, 0, 0, 0]}  # e.g. upgraded since
    assert script.find_interpreter("python3", env, [], replaced)[:2] == (
        real, sys.version.split()[0])


def test_interpreter_missing_everywhere_is_a_clear_error(tmp_path):
    with pytest.raises(script.BootstrapError) as caught:
        script.find_interpreter("python3.0", {"PATH": str(tmp_path)}, [])
    assert str(caught.value) == (f"bootstrap-python 'python3.0' is not on this worker's PATH: "
                                 f"{tmp_path}")


KEY = {"format": 1, "python": "/usr/bin/python3.11", "python_version": "3.11.2",
       "requirements": ["zc.buildout==5.2.0", "zc.recipe.egg==4.0.0"], "index_url": None,
       "find_links": []}


def stamped_venv(root: Path, key: dict = KEY) -> Path:
    """What a successful bootstrap leaves: programs, site-packages, the stamp."""
    venv = root / "venv"
    for program in ("python", "buildout"):
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        (venv / "bin" / program).write_text("")
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "zc").mkdir(parents=True)
    (site / "__pycache__").mkdir()
    (venv / script.STAMP).write_text(json.dumps({"key": key, "installed": ["zc"]}))
    return venv


def test_an_intact_virtualenv_with_the_same_key_is_reused(tmp_path):
    venv = stamped_venv(tmp_path)
    assert script.why_not_reuse(str(venv), KEY, reuse=True) is None
    assert script.why_not_reuse(str(venv), KEY, reuse=False) == "bootstrap-reuse = false"


@pytest.mark.parametrize(("change", "reason"), [
    ({"requirements": ["zc.buildout==6.0.1", "zc.recipe.egg"]},
     "requirements changed: zc.buildout==5.2.0 zc.recipe.egg==4.0.0 -> zc.buildout==6.0.1 "
     "zc.recipe.egg"),
    ({"python": "/usr/bin/python3.12"},
     "interpreter changed: /usr/bin/python3.11 -> /usr/bin/python3.12"),
    ({"python_version": "3.11.9"}, "Python version changed: 3.11.2 -> 3.11.9"),
    ({"index_url": "https://pypi.example/simple"},
     "package index changed: None -> https://pypi.example/simple"),
    ({"find_links": ["/wheels"]}, "find-links changed: (none) -> /wheels"),
    ({"format": 2}, "made by another buildbot-odoo version: 1 -> 2"),
])
def test_any_change_of_the_key_makes_it_again(tmp_path, change, reason):
    venv = stamped_venv(tmp_path)
    assert script.why_not_reuse(str(venv), {**KEY, **change}, reuse=True) == reason


def test_a_damaged_or_unstamped_virtualenv_is_made_again(tmp_path):
    assert script.why_not_reuse(str(tmp_path / "none"), KEY, True) == "no virtualenv yet"
    venv = stamped_venv(tmp_path)
    (venv / "lib" / "python3.11" / "site-packages" / "extra.pth").write_text("")
    assert script.why_not_reuse(str(venv), KEY, True) == (
        "site-packages changed since it was made (added ['extra.pth'], removed [])")
    (venv / "bin" / "buildout").unlink()
    assert script.why_not_reuse(str(venv), KEY, True) == "broken: bin/buildout is missing"
    (venv / script.STAMP).write_text("{not json")
    assert script.why_not_reuse(str(venv), KEY, True) == (
        "no stamp: unfinished or older virtualenv")


def test_pip_holds_the_pip_cache_alone(tmp_path, capsys):
    cache = tmp_path / "pip"
    with script.cache_lock(str(cache)), open(cache / script.LOCK_NAME) as other, \
            pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    ready = threading.Event()

    def take() -> None:
        with script.cache_lock(str(cache)):
            ready.set()

    with open(cache / script.LOCK_NAME) as other:  # released: another build takes it now
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert capsys.readouterr().out == ""
        waiter = threading.Thread(target=take)
        waiter.start()
        assert not ready.wait(0.2)  # taken here: the script waits, and says so
        fcntl.flock(other, fcntl.LOCK_UN)
        waiter.join(30)
    assert ready.is_set()
    assert capsys.readouterr().out == (f"waiting for {cache}: another build's pip is using "
                                       f"it\n")


def test_without_virtualenv_only_the_caches_are_made(tmp_path, capsys):
    caches = [tmp_path / "c" / kind for kind in ("eggs", "pip")]
    code = script.main([*(f"--make-dir={c}" for c in caches), "--no-virtualenv"])
    assert code == 0 and all(c.is_dir() for c in caches)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "bootstrap: caches ready; no virtualenv: the worker's buildout runs")


def test_a_virtualenv_needs_its_arguments(capsys):
    with pytest.raises(SystemExit) as caught:
        script.main(["--venv=/tmp/v", "--", "zc.buildout"])
    assert caught.value.code == 2
    assert "--venv, --pip-cache and requirements are needed" in capsys.readouterr().err


# --- the step on the master


class BootstrapStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """The script goes on stdin; its last ``bootstrap:`` line is the summary."""

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _expect_run(self, output: str, rc: int = 0):
        self.setup_step(BootstrapStep("print('hi')\n", command=["python3", "-", "--no-virtualenv"],
                                      env={"A": "1"}))
        self.expect_commands(ExpectShell(workdir="wkdir", command=["python3", "-",
                                                                   "--no-virtualenv"],
                                         env={"A": "1"}, initial_stdin="print('hi')\n")
                             .stdout(output).exit(rc))

    @defer.inlineCallbacks
    def test_summary_says_what_happened(self):
        self._expect_run("interpreter: /usr/bin/python3.11 (Python 3.11.2)\n"
                  "bootstrap: virtualenv reused\n")
        self.expect_outcome(result=SUCCESS, state_string="virtualenv reused")
        yield self.run_step()

    @defer.inlineCallbacks
    def test_failure_keeps_the_reason(self):
        self._expect_run("bootstrap: failed: bootstrap-python 'python3' is not on this worker's "
                  "PATH: /usr/bin\n", rc=2)
        self.expect_outcome(result=FAILURE, state_string=(
            "failed: bootstrap-python 'python3' is not on this worker's PATH: /usr/bin"))
        yield self.run_step()


# --- the environment of every command on a worker started from a virtualenv


class ActiveVirtualenvEnvironmentTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @defer.inlineCallbacks
    def render(self, definitions, worker_environ, **properties):
        self.setup_step(SetCapabilityProperties([], {}))
        self.build.workerforbuilder.worker.worker_environ = worker_environ
        props = Properties()
        props.build = self.build
        props.master = self.master
        for name, value in properties.items():
            props.setProperty(name, value, "test")
        env = yield props.render(CapabilityEnvironment(definitions))
        return env

    @defer.inlineCallbacks
    def test_activated_virtualenv_is_undone(self):
        postgresql = validate_definitions(builtin_capabilities())["postgresql"]
        env = yield self.render([postgresql], {
            "PATH": "/srv/bb/venv/bin:/usr/local/bin:/usr/bin", "VIRTUAL_ENV": "/srv/bb/venv",
            "PYTHONHOME": "/srv/bb/venv"}, cap_postgresql_bin="/opt/pg/bin")
        self.assertEqual(env, {"PATH": ["/opt/pg/bin", "/usr/local/bin", "/usr/bin"],
                               "VIRTUAL_ENV": None, "PYTHONHOME": None})

    @defer.inlineCallbacks
    def test_clean_worker_keeps_its_path(self):
        env = yield self.render([], {"PATH": "/usr/bin"})
        self.assertEqual(env, {})


def test_script_runs_from_stdin(tmp_path):
    """What the worker does: ``python3 - ARGS`` with the script's text on stdin."""
    done = subprocess.run([sys.executable, "-", f"--make-dir={tmp_path / 'eggs'}",
                           "--no-virtualenv"], input=SCRIPT_PATH.read_text(), text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("bootstrap: caches ready")
    assert (tmp_path / "eggs").is_dir()
    assert textwrap.dedent(script.__doc__).startswith("Make, or reuse, a builder's virtualenv")
