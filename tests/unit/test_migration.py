"""Coming from anybox.buildbot.odoo: its files work as they are, and ``migrate`` rewrites them.

``tests/data/anybox_master`` is a master directory shaped like the original's
samples (its ``workers.cfg.sample``, ``buildouts/MANIFEST.cfg`` and test
manifests, ``master.cfg.sample``), written for these tests: every old
spelling the original documented or read, ``[DEFAULT]`` and ``inherit``
disagreeing, blank lines inside a value, an auto-watch file of the original's
format, a master.cfg of the original's API with its own ``force`` scheduler.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from buildbot.process.properties import Properties

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.cli import main
from buildbot_odoo.config import legacy
from buildbot_odoo.migration import migrate_directory

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "anybox_master"
COPIED = ("workers.cfg", "buildouts", "watch")

#: what the original's documentation says these files make (doc/manifest.rst,
#: doc/worker.rst: builders NAME-pgVERSION for build-for, workers filtered by
#: build-requires and build-only-if-requires, categories as tags)
BUILDERS = {
    "odoo-12-pg9.6": (["pg-host"], {"pg_version": "9.6"}),
    "odoo-12-pg12": (["pg-host"], {"pg_version": "12"}),
    "project-pg12": (["pg-host"], {"pg_version": "12", "build_requires": ["python >= 3.6"]}),
    "project-release-pg12": (["pg-host"], {"pg_version": "12",
                                           "build_requires": ["python >= 3.6"]}),
    "project-from-archive-pg12": (["pg-host"], {"pg_version": "12"}),
    "functional-pg12": (["selenium-box"], {"pg_version": "12",
                                           "build_requires": ["selenium"]}),
    "legacy-tests-pg9.6": (["pg-host"], {"pg_version": "9.6"}),
    "upgrade-pg12": (["pg-host"], {"pg_version": "12"}),
}


@pytest.fixture
def copied(tmp_path, capsys) -> Path:
    """The original's files copied into a `buildbot-odoo init` directory (issue 10)."""
    directory = tmp_path / "master"
    assert main(["init", str(directory)]) == 0
    for name in COPIED:
        source = SAMPLE / name
        if source.is_dir():
            shutil.copytree(source, directory / name, dirs_exist_ok=True)
        else:
            shutil.copy(source, directory / name)
    capsys.readouterr()
    return directory


def check(directory: Path, capsys) -> tuple[int, list[str]]:
    code = main(["check", str(directory)])
    return code, capsys.readouterr().out.splitlines()[:-1]


def configured(directory: Path) -> dict:
    config: dict = {}
    BuildoutsConfigurator(directory).populate(config)
    return config


def test_the_originals_files_pass_check_with_located_deprecation_warnings(copied, capsys):
    code, lines = check(copied, capsys)
    assert code == 0, "\n".join(lines)
    assert all(": warning: " in line for line in lines), "\n".join(lines)
    expected = [
        "workers.cfg:6: pg-host: passwd: warning: deprecated anybox.buildbot.odoo spelling: "
        "write 'password' instead of 'passwd'",
        "workers.cfg:16: pg-host: slave_priority: warning: deprecated anybox.buildbot.odoo "
        "spelling: write 'worker_priority' instead of 'slave_priority'",
        "buildouts/MANIFEST.cfg:5: DEFAULT: bootstrap-virtualenv: warning: "
        "'bootstrap-virtualenv' of anybox.buildbot.odoo is ignored",
        "buildouts/MANIFEST.cfg:6: DEFAULT: bootstrap-type: warning: 'bootstrap-type' of "
        "anybox.buildbot.odoo is ignored",
        "buildouts/MANIFEST.cfg:20: odoo-12: post-buildout-steps: warning: deprecated "
        "anybox.buildbot.odoo step names in post-buildout-steps: write 'install-modules-test' "
        "instead of 'standard'",
        "buildouts/MANIFEST.cfg:44: project-release: bootstrap-version: warning: [DEFAULT] "
        "(line 4) gives bootstrap-version = '2.13.3', which wins over '2.9.5' inherited from "
        "[project] (line 28)",
        "buildouts/MANIFEST.cfg:58: project-from-archive: buildout: warning: archive buildouts "
        "read their archives under archive.root-dir",
        "buildouts/MANIFEST.cfg:68: functional: functional.commands: warning: deprecated "
        "anybox.buildbot.odoo spelling: write 'functional.command = tests/run-selenium.sh "
        "{port} {db}' instead of 'functional.commands'",
        "buildouts/MANIFEST.cfg:76: legacy-tests: post-buildout-steps: warning: deprecated "
        "anybox.buildbot.odoo step names in post-buildout-steps: write 'install-modules "
        "pytest' instead of 'nose'",
        "watch/project: project: warning: anybox.buildbot.odoo's format",
        "buildouts/MANIFEST.cfg:90: upgrade: post-buildout-steps: warning: deprecated "
        "anybox.buildbot.odoo step names in post-buildout-steps: write 'update-modules' instead "
        "of 'update-odoo' (with update-modules.upgrade-script = true",
        "buildouts/MANIFEST.cfg:91: upgrade: upgrade.script: warning: deprecated "
        "anybox.buildbot.odoo spelling: write 'upgrade-command' instead of 'upgrade.script'",
        "buildouts/MANIFEST.cfg:94: upgrade: buildout.pip-exists-action: warning: the ' ;' "
        "comment at the end of this line is part of the value today",
    ]
    for needle in expected:
        assert any(line.startswith(needle) for line in lines), (needle, lines)


def test_the_originals_files_make_what_its_documentation_says(copied):
    config = configured(copied)
    builders = {b.name: (sorted(b.workernames), b.properties) for b in config["builders"]}
    assert builders == BUILDERS
    by_name = {b.name: b for b in config["builders"]}
    assert by_name["odoo-12-pg12"].tags == ["mature", "public"]  # two words, two tags
    workers = {w.workername: w for w in config["workers"]}
    assert sorted(workers) == ["pg-host", "selenium-box"]
    pg_host = workers["pg-host"].properties.asDict()
    assert pg_host["capability"][0] == {
        # the blank line between two capability lines is inside the value
        "postgresql": {"9.6": {"port": "5433"},
                       "12": {"port": "5434", "bin": "/usr/lib/postgresql/12/bin",
                              "lib": "/usr/lib/postgresql/12/lib"}},
        "python": {"3.8": {"bin": "/usr/bin"}}, "wkhtmltopdf": {"0.12": {}}}
    assert pg_host["worker_priority"][0] == 2.5  # slave_priority, a number again
    assert pg_host["db_prefix"][0] == "abo" and pg_host["rack"][0] == "b3"
    assert "passwd" not in pg_host and "password" not in pg_host
    assert workers["pg-host"].password == "pg-host-secret"
    assert workers["pg-host"].max_builds == 2
    selenium = workers["selenium-box"].properties.asDict()
    assert selenium["build-only-if-requires"][0] == "selenium"
    assert selenium["worker_priority"][0] == 1.0
    assert selenium["capability"][0] == {"postgresql": {"12": {}}, "selenium": {"3.141": {}}}
    # the auto-watch file of the original's format is polled
    pollers = {p.name for p in config["change_source"]}
    assert "git https://git.example.org/oca/sale-workflow.git 12.0" in pollers
    assert (copied / "watch").is_dir()


def test_migrate_shows_a_diff_then_writes_files_check_accepts_without_warning(copied, capsys):
    before = _builders(configured(copied))
    texts = {p: p.read_text() for p in copied.rglob("*") if p.is_file()}
    assert main(["migrate", str(copied)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("--- a/workers.cfg\n+++ b/workers.cfg\n")
    assert "-passwd = pg-host-secret\n+password = pg-host-secret\n" in out
    assert "3 files to rewrite: run again with --write" in err
    assert {p: p.read_text() for p in copied.rglob("*") if p.is_file()} == texts  # nothing yet
    assert main(["migrate", str(copied), "--write"]) == 0
    assert "rewrote 3 files: workers.cfg, buildouts/MANIFEST.cfg, watch/project" in \
        capsys.readouterr().err
    code, lines = check(copied, capsys)
    assert (code, lines) == (0, [])
    assert _builders(configured(copied)) == before
    # once is enough
    assert main(["migrate", str(copied)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "nothing to rewrite" in err


def test_migrate_edits_lines_and_keeps_comments_and_layout(copied):
    migration = migrate_directory(copied)
    manifest = next(r for r in migration.changes if r.shown == "buildouts/MANIFEST.cfg")
    old, new = manifest.old.splitlines(), manifest.new.splitlines()
    assert [line for line in old if line.lstrip().startswith("#")] == \
        [line for line in new if line.lstrip().startswith("#")]
    # a value's continuation lines stay where they were, old step names renamed in place
    at = new.index("post-buildout-steps = static-analysis")
    assert new[at:at + 3] == ["post-buildout-steps = static-analysis",
                              "                      install-modules-test",
                              "                      doc"]
    section = _section(new, "project")
    assert "static-analysis.paths = src/acme_sale" in section
    assert "static-analysis.arguments = --max-line-length 120" in section
    assert "static-analysis.parts = static-analysis" in section  # the original's default
    assert "doc.upload-dir = /srv/docs/acme" in section  # upload-root + upload-dir
    assert "doc.base-url = https://docs.example.org/acme" in section
    assert "bootstrap-version = 2.13.3" in _section(new, "project-release")  # [DEFAULT] wins
    assert "archive.root-dir = packages" in _section(new, "project-from-archive")
    assert "functional.command = tests/run-selenium.sh {port} {db}" in _section(new,
                                                                                "functional")
    assert _section(new, "upgrade")[4:] == [
        "post-buildout-steps = update-modules", "update-modules.upgrade-script = true",
        "upgrade-command = bin/upgrade_acme", "; Wipe", "buildout.pip-exists-action =  w"]
    assert _section(new, "legacy-tests") == [
        "[legacy-tests]", "buildout = standalone odoo-12.cfg", "build-for = postgresql == 9.6",
        "post-buildout-steps = install-modules pytest",
        "pytest.arguments = src/acme_sale/tests", ""]
    written = {line.split(" =")[0] for line in new if " = " in line and line[:1].isalpha()}
    # no old name is left (post-buildout-steps, packaging.root-dir and bootstrap-version
    # are today's names too)
    assert written & set(legacy.old_names(legacy.MANIFEST)) == {"post-buildout-steps",
                                                                 "packaging.root-dir",
                                                                 "bootstrap-version"}
    # zc.buildout 2.9.5 dies on today's Python: the default, not [DEFAULT]'s pin
    assert "bootstrap-version =" in section and "bootstrap-version = 2.9.5" not in section
    watch = next(r for r in migration.changes if r.shown == "watch/project")
    assert json.loads(watch.new) == {
        "format": 1, "build": "project",
        "buildout": "git https://git.example.org/acme/project.git 12.0 buildout.cfg",
        "part": "odoo", "fixed": [],
        "sources": [{"vcs": "git", "url": "https://git.example.org/oca/sale-workflow.git",
                     "branch": "12.0"}]}


def test_the_old_update_step_runs_the_upgrade_script_as_it_did(copied):
    # the original's update-odoo always ran upgrade.script (default bin/upgrade_<part>)
    config = configured(copied)
    (upgrade,) = [b for b in config["builders"] if b.name == "upgrade-pg12"]
    steps = {name: shown for _, name, shown in map(_step, upgrade.factory.steps)}
    command = dict(steps["update-modules"])["command"]
    assert command.startswith("['bin/upgrade_acme', '-d', 'db', '--init-load-demo-data', "
                              "'--log-file="), command


def test_migrate_notes_the_watch_line_on_the_buildouts_own_repository(copied):
    # the original kept one branch per repository (the buildout's); both are watched now
    migration = migrate_directory(copied)
    (note,) = [p for p in migration.problems if p.option == "watch"]
    assert (note.file, note.line, note.section, note.is_error) == (
        "buildouts/MANIFEST.cfg", 40, "project", False)
    assert "12.0-dev" in note.message and "remove this line" in note.message


def test_a_whole_master_directory_with_its_master_cfg(tmp_path, capsys):
    directory = tmp_path / "master"
    shutil.copytree(SAMPLE, directory)
    assert main(["migrate", str(directory), "--write"]) == 0
    out, err = capsys.readouterr()
    assert "-from anybox.buildbot.odoo.configurator import BuildoutsConfigurator\n" \
           "+from buildbot_odoo import BuildoutsConfigurator\n" in out
    assert "+configurator.populate(BuildmasterConfig)\n" in out
    assert "master.cfg:17: warning: your own force scheduler" in err
    assert "rewrote 4 files: master.cfg, workers.cfg, buildouts/MANIFEST.cfg, watch/project" \
        in err
    code, lines = check(directory, capsys)
    assert (code, lines) == (0, [])


def test_buildbot_loads_the_migrated_config_with_its_own_force_scheduler(tmp_path):
    # the original's master.cfg adds a scheduler named 'force' after populate: ours has
    # another name, so Buildbot's loader accepts both
    import runpy

    from buildbot.config.master import MasterConfig

    directory = tmp_path / "master"
    shutil.copytree(SAMPLE, directory)
    migrate_directory(directory).write()
    namespace = runpy.run_path(str(directory / "master.cfg"),
                               init_globals={"basedir": str(directory)})
    config = namespace["BuildmasterConfig"]
    config["buildbotNetUsageData"] = None
    loaded = MasterConfig.loadFromDict(config, str(directory / "master.cfg"))
    assert sorted(s.name for s in loaded.schedulers.values() if "force" in s.name) == [
        "buildbot-odoo-force", "force"]


def test_slaves_cfg_is_read_then_renamed(copied, capsys):
    (copied / "workers.cfg").rename(copied / "slaves.cfg")
    code, lines = check(copied, capsys)
    assert code == 0
    assert any(line.startswith("slaves.cfg: warning: read in place of workers.cfg") for line in
               lines), lines
    migration = migrate_directory(copied)
    (rewrite,) = [r for r in migration.changes if r.path.name == "slaves.cfg"]
    assert rewrite.diff().startswith("--- a/slaves.cfg\n+++ b/workers.cfg\n")
    migration.write()
    assert (copied / "workers.cfg").is_file() and not (copied / "slaves.cfg").exists()
    assert check(copied, capsys) == (0, [])


def test_what_has_no_equivalent_is_refused_and_left_for_the_user(copied, capsys):
    manifest = copied / "buildouts" / "MANIFEST.cfg"
    text = manifest.read_text().replace("nose.coverage = false", "nose.coverage = true")
    manifest.write_text(text)
    code, lines = check(copied, capsys)
    assert code == 1
    (error,) = [line for line in lines if ": warning: " not in line]
    assert error.startswith(
        "buildouts/MANIFEST.cfg:78: legacy-tests: nose.coverage: 'nose.coverage' of "
        "anybox.buildbot.odoo has no equivalent: run coverage with pytest-cov: put pytest-cov "
        "in the buildout and write 'pytest.arguments = --cov=ADDON --cov-report=term'")
    assert main(["migrate", str(copied), "--write"]) == 1
    assert "buildouts/MANIFEST.cfg:78: legacy-tests: nose.coverage: 'nose.coverage' of " \
           "anybox.buildbot.odoo has no equivalent" in capsys.readouterr().err
    assert "nose.coverage = true" in manifest.read_text()  # the user decides


def test_blank_lines_inside_manifest_values(copied, capsys):
    manifest = copied / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "build-for = postgresql == 9.6\n",
        "build-for =\n\n    postgresql == 9.6\n\n    # and more some day\n"))
    config = configured(copied)
    assert "legacy-tests-pg9.6" in {b.name for b in config["builders"]}


def _builders(config: dict) -> dict:
    """Names, workers, properties, tags and every step (class, name, command rendered)."""
    return {b.name: (sorted(b.workernames), b.properties, b.tags,
                     [_step(s) for s in b.factory.steps]) for b in config["builders"]}


#: the arguments of steps that carry what the manifests say
COMPARED = ("command", "masterdest", "url", "workersrc", "repourl", "branch", "mode",
            "sphinx_sourcedir", "sphinx_builddir", "timeout")


def _step(factory) -> tuple:
    """A step as (class, name, its main arguments rendered with example properties)."""
    props = Properties(builddir="/w/b", buildnumber=1, buildername="b", testing_db="db",
                       odoo_http_port=8069, packaging_name="p", workername="w")
    shown = []
    for key in COMPARED:
        if key in factory.kwargs:
            rendered: list = []
            props.render(factory.kwargs[key]).addCallbacks(rendered.append, lambda _: None)
            shown.append((key, repr(rendered[0]) if rendered else "unrendered"))
    return factory.step_class.__name__, factory.kwargs.get("name"), shown


def _section(lines: list[str], name: str) -> list[str]:
    start = lines.index(f"[{name}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")),
               len(lines))
    return lines[start:end]


def test_migrate_writes_what_python_2_read(copied, capsys):
    # ' ;' comments cut off the value, %(name)s references replaced: Python 2's ConfigParser
    manifest = copied / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[odoo-12]\n",
        "[odoo-12]\nodoo-repo = https://git.example.org/odoo/odoo.git\n").replace(
        "build-for = postgresql >= 9.6 < 13\n",
        "build-for = postgresql >= 9.6 < 13 ; the supported ones\n").replace(
        "watch = git https://git.example.org/odoo/odoo.git 12.0\n",
        "watch = git %(odoo-repo)s 12.0\n"))
    before = _builders(configured(copied))
    assert main(["migrate", str(copied), "--write"]) == 0
    capsys.readouterr()
    section = _section(manifest.read_text().splitlines(), "odoo-12")
    assert "; the supported ones" in section
    assert "build-for = postgresql >= 9.6 < 13" in section
    assert "watch = git https://git.example.org/odoo/odoo.git 12.0" in section
    # the option only the reference read goes with it (check would call it unknown)
    assert not [line for line in section if line.startswith("odoo-repo")]
    assert _builders(configured(copied)) == before
    assert check(copied, capsys) == (0, [])



VARIABLES_MANIFEST = """\
[DEFAULT]
; where every build fetches from
Mirror = https://git.example.org
branch = 17.0
build-for = postgresql >= 12

[odoo-17]
buildout = standalone odoo-17.cfg
watch = git %(mirror)s/odoo/odoo.git %(BRANCH)s
build-category = odoo-%(branch)s

[addons]
buildout = standalone odoo-17.cfg
addons-repo = %(mirror)s/acme/addons.git
watch = git %(addons-repo)s main
build-category = %(build-for)s
"""


def test_migrate_removes_variables_its_references_no_longer_need(tmp_path, capsys):
    # options of one's own, in [DEFAULT] or a section, used only through %(name)s
    # references: no unknown-option warning before (the references are warned about), and
    # once migrate has written their values, their lines go; an option buildbot-odoo reads
    # stays, even when referenced
    directory = tmp_path / "master"
    assert main(["init", str(directory)]) == 0
    manifest = directory / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(VARIABLES_MANIFEST)
    capsys.readouterr()
    code, lines = check(directory, capsys)
    assert code == 0 and lines and all("%(name)s references" in line for line in lines), \
        "\n".join(lines)
    before = _builders(configured(directory))
    assert main(["migrate", str(directory), "--write"]) == 0
    capsys.readouterr()
    assert manifest.read_text() == """\
[DEFAULT]
; where every build fetches from
build-for = postgresql >= 12

[odoo-17]
buildout = standalone odoo-17.cfg
watch = git https://git.example.org/odoo/odoo.git 17.0
build-category = odoo-17.0

[addons]
buildout = standalone odoo-17.cfg
watch = git https://git.example.org/acme/addons.git main
build-category = postgresql >= 12
"""
    assert check(directory, capsys) == (0, [])
    assert _builders(configured(directory)) == before


OLD_ERA_MASTER_CFG = """\
c = BuildmasterConfig = {}
from anybox.buildbot.odoo import configure_from_buildouts
configure_from_buildouts(basedir, BuildmasterConfig)
c['workerPortnum'] = 9989
from buildbot.schedulers.forcesched import ForceScheduler, FixedParameter
c['schedulers'].append(ForceScheduler(
    name='force',
    revision=FixedParameter(name="revision", default=""),
    builderNames=[b.name for b in c['builders']]))
c['status'] = []
from buildbot.status import html
c['status'].append(html.WebStatus(http_port=8010))
"""


def test_buildbot_0_9_lines_of_the_originals_sample_master_cfg(tmp_path):
    # the original's master.cfg.sample (both branches) uses Buildbot 0.8/0.9 settings that
    # Buildbot 4 refuses at start: the port is rewritten, the rest pointed at by line
    directory = tmp_path / "master"
    shutil.copytree(SAMPLE, directory)
    (directory / "master.cfg").write_text(OLD_ERA_MASTER_CFG)
    migration = migrate_directory(directory)
    (rewrite,) = [r for r in migration.changes if r.shown == "master.cfg"]
    assert "-c['workerPortnum'] = 9989\n+c['protocols'] = {'pb': {'port': 9989}}\n" \
        in rewrite.diff()
    errors = {p.line: p.message for p in migration.problems.errors if p.file == "master.cfg"}
    assert sorted(errors) == [8, 10, 11, 12]
    assert "codebases=[util.CodebaseParameter" in errors[8]
    assert all("c['www']" in errors[n] for n in (10, 11, 12))


INHERITED_REFERENCE_MANIFEST = """\
[DEFAULT]
mirror = https://b.example.org
build-for = postgresql >= 12

[base]
mirror = https://a.example.org
buildout = standalone odoo-17.cfg
watch = git %(mirror)s/acme/addons.git main

[child]
inherit = base
"""


def test_migrate_replaces_an_inherited_reference_where_it_is_written(tmp_path, capsys):
    # the original read [base]'s watch line with [base]'s own 'mirror' for [child] too
    # (InheritorConfigParser.items() took the parent's interpolated items): the line is
    # rewritten in [base], with [base]'s value, and [child] keeps inheriting it
    directory = tmp_path / "master"
    assert main(["init", str(directory)]) == 0
    manifest = directory / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(INHERITED_REFERENCE_MANIFEST)
    capsys.readouterr()
    before = _builders(configured(directory))
    assert main(["migrate", str(directory), "--write"]) == 0
    capsys.readouterr()
    assert manifest.read_text() == """\
[DEFAULT]
build-for = postgresql >= 12

[base]
buildout = standalone odoo-17.cfg
watch = git https://a.example.org/acme/addons.git main

[child]
inherit = base
"""
    assert check(directory, capsys) == (0, [])
    assert _builders(configured(directory)) == before
