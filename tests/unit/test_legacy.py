"""The table of anybox.buildbot.odoo's spellings (config/legacy.py), through the loaders."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from buildbot_odoo.config import legacy
from buildbot_odoo.config.manifest import load_manifests
from buildbot_odoo.config.workers import load_workers
from buildbot_odoo.errors import Problems

MIGRATING = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"
STEPS = ("install-modules-test", "install-modules", "update-modules", "pytest", "functional",
         "static-analysis", "doc", "packaging", "autocommit")


@pytest.fixture
def manifest(tmp_path):
    (tmp_path / "sample.cfg").write_text("[buildout]\n")

    def write(text: str) -> Path:
        path = tmp_path / "MANIFEST.cfg"
        path.write_text(textwrap.dedent(text).lstrip())
        return path
    return write


def load(path: Path):
    problems = Problems()
    builds = load_manifests([(path, "MANIFEST.cfg")], problems, STEPS)
    return {b.name: b for b in builds}, problems


def one(manifest, options: str, section: str = "a"):
    builds, problems = load(manifest(f"[{section}]\nbuildout = standalone sample.cfg\n{options}"))
    return builds.get(section), problems


@pytest.mark.parametrize(("old", "new", "value"), [
    ("functional.port-min", "odoo.http-port-min", "9100"),
    ("functional.port-max", "odoo.http-port-max", "9900"),
    ("functional.port-step", "odoo.http-port-step", "5"),
    ("static-analysis.part", "static-analysis.parts", "lint"),
    ("doc.sphinx-sourcedir", "doc.sourcedir", "docs"),
    ("doc.sphinx-builddir", "doc.outdir", "docs/_out"),
    ("doc.sphinx-bin", "doc.sphinx", "bin/sphinx"),
    ("doc.sphinx-mode", "doc.mode", "incremental"),
    ("upgrade.script", "upgrade-command", "bin/upgrade_acme"),
])
def test_renamed_options_are_read_under_their_new_name(manifest, old, new, value):
    build, problems = one(manifest, f"{old} = {value}\n")
    assert build is not None and build.options[new] == value and old not in build.options
    (warning,) = [w for w in problems.warnings if w.option == old]
    assert (warning.file, warning.line, warning.section) == ("MANIFEST.cfg", 3, "a")
    assert f"write {new!r} instead of {old!r}" in warning.message


def test_an_old_name_and_its_new_name_in_one_section_is_an_error(manifest):
    build, problems = one(manifest, "upgrade.script = bin/a\nupgrade-command = bin/b\n")
    assert build is None
    (error,) = problems.errors
    assert (error.line, error.option) == (3, "upgrade.script")
    assert "give only one of them" in error.message


def test_the_closer_source_wins_between_old_and_new_names(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        upgrade.script = bin/a
        [a]
        buildout = standalone sample.cfg
        upgrade-command = bin/b
        """))
    assert builds["a"].upgrade_command == "bin/b" and not problems.errors


@pytest.mark.parametrize(("steps", "expected", "extra"), [
    ("standard", ["install-modules-test"], {}),
    ("test-openerp", ["install-modules-test"], {}),
    ("test-odoo", ["install-modules-test"], {}),
    ("openerpcommand-initialize-tests", ["install-modules-test"], {}),
    ("update-openerp", ["update-modules"], {legacy.UPGRADE_SCRIPT_OPTION: "true"}),
    ("update-odoo", ["update-modules"], {legacy.UPGRADE_SCRIPT_OPTION: "true"}),
    ("nose", ["install-modules", "pytest"], {}),
    ("static-analysis\n    test-odoo\n    doc", ["static-analysis", "install-modules-test",
                                               "doc"], {}),
])
def test_old_step_names(manifest, steps, expected, extra):
    build, problems = one(manifest, f"post-buildout-steps = {steps}\n")
    assert build is not None, [str(p) for p in problems]
    assert build.post_buildout_steps == expected
    for key, value in extra.items():
        assert build.options[key] == value
    (warning,) = [w for w in problems.warnings if w.option == "post-buildout-steps"]
    assert warning.line == 3 and "deprecated anybox.buildbot.odoo step names" in warning.message


def test_static_analysis_keeps_what_the_original_did_unasked(manifest):
    build, _ = one(manifest, "post-buildout-steps = static-analysis\n"
                             "static-analysis.flake-directories = src/a src/b\n")
    assert build.options["static-analysis.paths"] == "src/a src/b"
    assert build.options["static-analysis.parts"] == "static-analysis"
    assert build.options["static-analysis.arguments"] == "--max-line-length 100"
    build, _ = one(manifest, "post-buildout-steps = static-analysis\n"
                             "static-analysis.flake-directories = src\n"
                             "static-analysis.part = tools\n"
                             "static-analysis.max-line-length = 79\n")
    assert build.options["static-analysis.parts"] == "tools"
    assert build.options["static-analysis.arguments"] == "--max-line-length 79"


@pytest.mark.parametrize(("options", "message"), [
    ("post-buildout-steps = functional\nfunctional.commands = a.sh b.sh\n",
     "functional.command runs one command; write a script running a.sh, b.sh one after the "
     "other and name it in 'functional.command = SCRIPT {port} {db}'"),
    ("post-buildout-steps = nose\nnose.coverage = true\n", "run coverage with pytest-cov"),
    ("post-buildout-steps = nose\nnose.profile = true\n", "--durations=N"),
    ("post-buildout-steps = nose\nnose.cprofile = yes\n", "--durations=N"),
    ("post-buildout-steps = nose\ninstall-as-upgrade = true\n",
     "write 'install-modules update-modules' in post-buildout-steps with "
     "'update-modules.upgrade-script = true'"),
    ("post-buildout-steps = doc\ndoc.version = $(buildout-tag:-current)s\n",
     "in <doc.upload-dir>/<builder>"),
    ("post-buildout-steps = update-odoo\nupdate.log_file_option = --logfile\n",
     "the upgrade script is called with --log-file"),
    ("post-buildout-steps = static-analysis\n"
     "static-analysis.arguments = -q --max-line-length=120\n"
     "static-analysis.max-line-length = 99\n",
     "static-analysis.arguments ('-q --max-line-length=120') gives a line length too"),
])
def test_what_has_no_equivalent_is_refused_with_what_to_write(manifest, options, message):
    build, problems = one(manifest, options)
    assert build is None
    (error,) = problems.errors
    assert (error.file, error.section) == ("MANIFEST.cfg", "a")
    assert "of anybox.buildbot.odoo has no equivalent" in error.message
    assert message in error.message, error.message


@pytest.mark.parametrize("options", [
    "nose.coverage = true\ninstall-as-upgrade = true\nnose.upload-path = /srv/cov\n",
    "doc.version = 1.0\n",
    "update.log_file_option = --logfile\n",
    "post-buildout-steps = nose\nnose.coverage = false\nnose.upload-url = http://x/\n",
])
def test_what_the_original_ignored_is_ignored_with_a_warning(manifest, options):
    # options of a step the build does not run, or switched off: nothing read them
    build, problems = one(manifest, options)
    assert build is not None and not problems.errors, [str(p) for p in problems]
    assert problems.warnings


def test_doc_upload_root_joins_upload_dir_and_base_url(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        doc.upload-root = /srv/docs
        doc.base-url = https://docs.example.org/
        [a]
        buildout = standalone sample.cfg
        post-buildout-steps = doc
        doc.upload-dir = acme
        [b]
        buildout = standalone sample.cfg
        """))
    assert builds["a"].options["doc.upload-dir"] == "/srv/docs/acme"
    assert builds["a"].options["doc.base-url"] == "https://docs.example.org/acme"
    assert "doc.upload-root" not in builds["b"].options
    # one warning for the [DEFAULT] line, whichever builds read it
    (warning,) = [w for w in problems.warnings if w.option == "doc.upload-root"]
    assert (warning.line, warning.section) == (2, "DEFAULT")


def test_archive_builds_read_packaging_root_dir(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        packaging.root-dir = /srv/packages
        [from-archive]
        buildout = archive pkg_dir pkg_name release.cfg
        [other]
        buildout = standalone sample.cfg
        """))
    assert builds["from-archive"].options["archive.root-dir"] == "/srv/packages"
    assert "archive.root-dir" not in builds["other"].options
    (warning,) = problems.warnings
    assert (warning.line, warning.section, warning.option) == (4, "from-archive", "buildout")
    assert "write 'archive.root-dir = /srv/packages'" in warning.message


@pytest.mark.parametrize("value", ["true", "false"])
def test_bootstrap_virtualenv_is_not_todays_virtualenv(manifest, value):
    # bootstrap-virtualenv = false bootstrapped with the system Python; today's
    # 'virtualenv = false' would run the worker's own buildout, with no bootstrap
    build, problems = one(manifest, f"bootstrap-virtualenv = {value}\n")
    assert build.virtualenv is True and "virtualenv" not in build.options
    (warning,) = problems.warnings
    assert warning.option == "bootstrap-virtualenv" and "bootstrap-python" in warning.message


def test_dropped_options(manifest):
    build, problems = one(manifest, "bootstrap-type = v2\nvirtualenv3 = true\n"
                                    "post-buildout-steps = packaging\npackaging.vcs = git\n"
                                    "packaging.root-dir = p\nautocommit.script = bin/x\n")
    assert build is not None and not problems.errors
    assert not {"bootstrap-type", "virtualenv3", "packaging.vcs", "autocommit.script"} & set(
        build.options)
    assert {w.option for w in problems.warnings} == {
        "bootstrap-type", "virtualenv3", "packaging.vcs", "autocommit.script"}


def test_gittag_and_several_category_words(manifest):
    build, problems = one(manifest, "build-category = mature public mature\n")
    assert build.tags == ["mature", "public"] and not problems
    builds, problems = load(manifest("[r]\nbuildout = gittag https://g.example/r.git r.cfg\n"))
    assert builds["r"].buildout.kind == "gittag" and builds["r"].buildout.watch() is None


def test_inline_comments_were_cut_off_by_python_2(manifest):
    # as in the original's own test manifest: 'buildout.pip-exists-action =  w  ; Wipe'
    build, problems = one(manifest, "odoo-addons = sale, stock ; the shop\n"
                                    "build-for = postgresql >= 12 ; recent only\n"
                                    "    python >= 3.10\n")
    assert build.odoo_addons == ["sale", "stock"]
    assert [str(f) for f in build.build_for] == ["postgresql >= 12", "python >= 3.10"]
    assert sorted(w.line for w in problems.warnings) == [3, 4]
    assert all("put the comment on a line of its own" in w.message for w in problems.warnings)


def test_workers_old_names(tmp_path):
    path = tmp_path / "workers.cfg"
    path.write_text("[w]\npasswd = hunter2 ; old one\nslave_priority = 3\n")
    problems = Problems()
    (worker,) = load_workers(path, problems, "workers.cfg")
    assert (worker.password, worker.worker_priority) == ("hunter2", 3.0)
    assert worker.properties == {}
    assert sorted((w.line, w.option) for w in problems.warnings) == [
        (2, "passwd"), (2, "passwd"), (3, "slave_priority")]  # the comment, the name
    assert "hunter2" not in "".join(str(p) for p in problems)


def test_passwd_beside_password_is_an_error_that_shows_neither(tmp_path):
    path = tmp_path / "workers.cfg"
    path.write_text("[w]\npassword = x\npasswd = hunter2\n")
    problems = Problems()
    load_workers(path, problems, "workers.cfg")
    (error,) = problems.errors
    assert (error.line, error.option) == (3, "passwd")
    assert "give only 'password'" in error.message and "hunter2" not in str(error)


def test_every_old_spelling_is_in_docs_migrating_md():
    text = MIGRATING.read_text()
    missing = [o.name for o in legacy.OLD_OPTIONS if f"`{o.name}`" not in text]
    missing += [name for name in legacy.OLD_STEP_NAMES if f"`{name}`" not in text]
    assert not missing, f"docs/migrating.md does not say what becomes of {missing}"


def test_the_docs_table_says_what_the_loaders_do():
    # each row `old` | what it becomes: a renamed option's row names its new name
    text = MIGRATING.read_text()
    for old, new in {**legacy.renames(legacy.MANIFEST), **legacy.renames(legacy.WORKERS)}.items():
        row = next((line for line in text.splitlines()
                    if line.startswith("| ") and f"`{old}`" in line.split(" | ")[0]), "")
        assert re.search(rf"`{re.escape(new)}`", row), (old, new, row)


def test_configparser_references_were_replaced_by_python_2(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        mirror = https://git.example.org
        [a]
        buildout = git %(mirror)s/acme/project.git 12.0 buildout.cfg
        build-category = 100%% %(Mirror)s
        """))
    assert builds["a"].buildout.url == "https://git.example.org/acme/project.git"
    assert builds["a"].category == "100% https://git.example.org"
    assert sorted(w.line for w in problems.warnings if "references" in w.message) == [4, 5]



def test_an_option_only_referenced_is_a_variable_not_an_unknown_option(manifest):
    # Python 2's ConfigParser matched %(name)s to the option name lower-cased: 'Mirror'
    # is the variable of '%(mirror)s' in every section, also in builds that never use it
    builds, problems = load(manifest("""
        [DEFAULT]
        Mirror = https://git.example.org
        branch = 12.0
        unused_common = foo
        [a]
        buildout = standalone sample.cfg
        watch = git %(mirror)s/acme/project.git %(BRANCH)s
        [b]
        buildout = standalone sample.cfg
        """))
    assert [str(w) for w in builds["a"].watch] == [
        "git https://git.example.org/acme/project.git 12.0"]
    unknown = sorted({(w.line, w.option) for w in problems.warnings
                      if w.message.startswith("unknown option")})
    # a variable referenced nowhere is still an unknown option, for every build
    assert unknown == [(4, "unused_common")]
    assert [w.line for w in problems.warnings if "references" in w.message] == [7]


def test_a_misspelled_old_name_is_pointed_to_todays(manifest, tmp_path):
    _, problems = one(manifest, "upgrade.scripts = bin/x\n")
    (warning,) = problems.warnings
    assert "did you mean 'upgrade-command'?" in warning.message
    path = tmp_path / "workers.cfg"
    path.write_text("[w]\npassword = x\nslave-priority = 2\n")
    problems = Problems()
    load_workers(path, problems, "workers.cfg")
    assert "'worker_priority'" in " ".join(str(p) for p in problems)


@pytest.mark.parametrize(("line", "expected"), [
    # anybox.buildbot.odoo ran its bootstrap with `cap_python_bin`: an interpreter's name
    ("python 2.7 bin=python2.7", ["remove 'bin=' here", "'bootstrap-python = python2.7'"]),
    ("python 3.8 bin=/usr/local/bin/python3.8", ["write 'bin=/usr/local/bin'",
                                                 "'bootstrap-python = python3.8'"]),
    # and `cap_python_venv`: a virtualenv prepared on the worker
    ("python 3.8 venv=/home/ci/odoo-env", ["remove 'venv='", "'bootstrap-python = "
                                                             "/home/ci/odoo-env/bin/python'"]),
])
def test_the_original_python_capability_options_are_refused_with_what_to_write(
        tmp_path, line, expected):
    path = tmp_path / "workers.cfg"
    path.write_text(f"[w]\npassword = x\ncapability = postgresql 15\n  {line}\n")
    problems = Problems()
    load_workers(path, problems, "workers.cfg")
    (error,) = problems.errors
    assert (error.line, error.option) == (4, "capability")
    assert "anybox.buildbot.odoo" in error.message
    assert all(text in error.message for text in expected), error.message


def test_a_python_bin_directory_is_still_a_directory(tmp_path):
    path = tmp_path / "workers.cfg"
    path.write_text("[w]\npassword = x\ncapability = python 3.11 bin=/opt/python3.11/bin\n"
                    "  python 3.12 bin=/opt/py/bin:/opt/py/sbin\n")
    problems = Problems()
    (worker,) = load_workers(path, problems, "workers.cfg")
    assert not list(problems) and len(worker.capabilities) == 2


@pytest.mark.parametrize("pin", ["2.2.1", "2.9.5", "2.13.2"])
def test_zc_buildout_pins_of_the_original_era_are_dropped_with_a_warning(manifest, pin):
    # the original's sample manifests pin zc.buildout 2.2.1 and 2.9.5 (Python 2 builds);
    # on Python 3.11, zc.buildout < 2.13.3 dies on import
    build, problems = one(manifest, f"bootstrap-version = {pin}\n")
    assert build is not None and "version" not in build.bootstrap
    (warning,) = [w for w in problems.warnings if w.option == "bootstrap-version"]
    assert warning.line == 3 and "older than 2.13.3 does not run on Python >= 3.10" \
        in warning.message and "write 'bootstrap-version ='" in warning.message


def test_a_dropped_zc_buildout_pin_does_not_let_the_default_section_pin_show(manifest):
    builds, _ = load(manifest("""
        [DEFAULT]
        bootstrap-version = 2.13.3
        [a]
        buildout = standalone sample.cfg
        bootstrap-version = 2.9.5
        """))
    assert "version" not in builds["a"].bootstrap  # the default, as migrate writes it


@pytest.mark.parametrize("pin", ["2.13.3", "5.2.0"])
def test_later_zc_buildout_pins_are_kept(manifest, pin):
    build, problems = one(manifest, f"bootstrap-version = {pin}\n"
                                    "bootstrap-recipe-egg-version = 4.0.0\n")
    assert build.bootstrap["version"] == pin
    assert not [w for w in problems.warnings if "older than" in w.message]


OPENERP_BUILDOUT = """\
[buildout]
parts = openerp

[openerp]
recipe = anybox.recipe.openerp:server
version = bzr lp:openobject-server/6.1 openerp-6.1 last:1
"""


def test_the_slaves_cfg_eras_default_part_openerp_is_read_with_a_warning(manifest, tmp_path):
    # anybox.buildbot.openerp's DEFAULT_BUILDOUT_PART was 'openerp', and its sample
    # manifests name no buildout-part: the part is the one the buildout file has
    (tmp_path / "6.1.cfg").write_text(OPENERP_BUILDOUT)
    builds, problems = load(manifest("""
        [openerp-6.1]
        buildout = standalone 6.1.cfg
        [odoo-17]
        buildout = standalone sample.cfg
        [explicit]
        buildout = standalone 6.1.cfg
        buildout-part = openerp
        """))
    assert builds["openerp-6.1"].buildout_part == "openerp"
    assert builds["openerp-6.1"].start_command == "bin/start_openerp"
    assert builds["explicit"].buildout_part == "openerp"
    assert builds["odoo-17"].buildout_part == "odoo"  # its buildout has no [openerp]
    (warning,) = problems.warnings
    assert (warning.line, warning.section, warning.option) == (2, "openerp-6.1", "buildout")
    assert "write 'buildout-part = openerp'" in warning.message


def test_migrate_writes_the_openerp_part(tmp_path, capsys):
    from buildbot_odoo.cli import main

    directory = tmp_path / "master"
    assert main(["init", str(directory)]) == 0
    (directory / "buildouts" / "6.1.cfg").write_text(OPENERP_BUILDOUT)
    manifest_path = directory / "buildouts" / "MANIFEST.cfg"
    manifest_path.write_text("[openerp-6.1]\nbuildout = standalone 6.1.cfg\n"
                             "build-for = postgresql >= 9.1\n")
    capsys.readouterr()
    assert main(["migrate", str(directory), "--write"]) == 0
    assert "buildout-part = openerp" in manifest_path.read_text()
    capsys.readouterr()
    assert main(["check", str(directory)]) == 0
    assert ": warning: " not in capsys.readouterr().out


@pytest.mark.parametrize(("defaults", "child"), [
    # [DEFAULT] gives the child its own 'mirror' (it wins over the inherited one)
    ("[DEFAULT]\nmirror = https://b.example.org\n", ""),
    # the child writes its own 'mirror'
    ("", "mirror = https://c.example.org\n"),
])
def test_an_inherited_value_is_read_with_the_options_of_the_section_writing_it(
        manifest, defaults, child):
    # anybox.buildbot.odoo's InheritorConfigParser.items() took the parent's items, each
    # value interpolated by Python 2's ConfigParser against the parent's own options and
    # [DEFAULT], then laid the child's own over them: the child reads its parent's value
    # as the parent does, whatever 'mirror' is in the child
    builds, problems = load(manifest(defaults + textwrap.dedent("""
        [base]
        mirror = https://a.example.org
        buildout = standalone sample.cfg
        watch = git %(mirror)s/acme/addons.git main
        [child]
        inherit = base
        """) + child))
    for name in ("base", "child"):
        assert [str(w) for w in builds[name].watch] == [
            "git https://a.example.org/acme/addons.git main"], name
    references = {(w.section, w.line) for w in problems.warnings if "references" in w.message}
    assert references == {("base", 7 if defaults else 4)}
    # nothing reads the child's 'mirror': which one wins there is no choice to make
    assert not [w for w in problems.warnings if w.option == "mirror"]


def test_a_default_value_is_read_with_the_options_of_each_section_reading_it(manifest):
    # [DEFAULT]'s own lines are part of each section's items(): each reads them with its
    # own options and [DEFAULT], not with those of its parent
    builds, _ = load(manifest("""
        [DEFAULT]
        mirror = https://b.example.org
        watch = git %(mirror)s/acme/addons.git main
        [base]
        mirror = https://a.example.org
        buildout = standalone sample.cfg
        [child]
        inherit = base
        [own]
        inherit = base
        mirror = https://c.example.org
        """))
    assert {name: [str(w) for w in build.watch] for name, build in builds.items()} == {
        "base": ["git https://a.example.org/acme/addons.git main"],
        "child": ["git https://b.example.org/acme/addons.git main"],
        "own": ["git https://c.example.org/acme/addons.git main"]}
