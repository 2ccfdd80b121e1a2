"""MANIFEST.cfg parsing (SPEC 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildbot_odoo.capability.versions import VersionFilter
from buildbot_odoo.config.manifest import WatchSpec, load_manifests
from buildbot_odoo.errors import Problems


def load(*paths: Path):
    problems = Problems()
    builds = load_manifests([(p, p.name) for p in paths], problems)
    return {b.name: b for b in builds}, problems


@pytest.fixture
def manifest(write):
    write("buildouts/sample.cfg", "[buildout]\nparts =\n")

    def _manifest(text: str, name: str = "buildouts/MANIFEST.cfg") -> Path:
        return write(name, text)

    return _manifest


def test_options_defaults_and_inherit_chain(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        build-category = odoo

        [base]
        buildout = standalone sample.cfg
        build-for = postgresql >= 9.1 < 9.3
                    python == 3.11 OR > 3.11
        odoo-addons = sale, stock

        [child]
        inherit = base
        build-requires = rabbitmq

        [grandchild]
        inherit = child
        build-category = special
        post-buildout-steps = install-modules-test pytest
        """))
    assert not problems.errors, [str(p) for p in problems]
    base, child, grand = builds["base"], builds["child"], builds["grandchild"]
    assert base.category == "odoo"
    assert base.build_for == [VersionFilter.parse("postgresql >= 9.1 < 9.3"),
                              VersionFilter.parse("python == 3.11 OR > 3.11")]
    assert child.odoo_addons == ["sale", "stock"] and child.buildout == base.buildout
    assert child.build_requires == [VersionFilter.parse("rabbitmq")]
    assert grand.build_requires == child.build_requires
    assert grand.category == "special"
    assert grand.post_buildout_steps == ["install-modules-test", "pytest"]
    assert base.post_buildout_steps == ["install-modules-test"]
    assert base.start_command == "bin/start_odoo" and base.upgrade_command == "bin/upgrade_odoo"
    # no test script unless asked for: the tests run with the start script
    assert base.test_command == ""
    assert base.buildout.local_path.read_text().startswith("[buildout]")


def test_default_counts_as_the_sections_own_and_the_other_order_is_warned(manifest):
    # configparser's order, and anybox.buildbot.odoo's: [DEFAULT] is part of each
    # section, the parent only fills what the section (with [DEFAULT]) lacks
    builds, problems = load(manifest("""
        [DEFAULT]
        db_template = template0

        [base]
        buildout = standalone sample.cfg
        db_template = base_tpl
        build-category = base

        [child]
        inherit = base

        [explicit]
        inherit = base
        db_template = base_tpl
        """))
    assert builds["base"].db_template == "base_tpl"
    assert builds["child"].db_template == "template0"
    assert builds["child"].category == "base"  # not in [DEFAULT]: inherited
    assert builds["explicit"].db_template == "base_tpl"
    (warning,) = problems.warnings
    assert (warning.line, warning.section, warning.option) == (10, "child", "db_template")
    assert "[DEFAULT] (line 2) gives db_template = 'template0'" in warning.message
    assert "'base_tpl' inherited from [base] (line 6)" in warning.message
    assert "write 'db_template = ...' in [child]" in warning.message


def test_inherit_cycle_and_missing_parent(manifest):
    _, problems = load(manifest("""
        [a]
        inherit = b
        [b]
        inherit = a
        [c]
        inherit = nowhere
        """))
    messages = [str(p) for p in problems.errors]
    assert any("inheritance cycle: a -> b -> a" in m for m in messages)
    assert any("'nowhere' is not a section of any manifest" in m and ":6: c: inherit:" in m
               for m in messages)


def test_broken_inheritance_still_reports_the_sections_own_mistakes(manifest):
    builds, problems = load(manifest("""
        [c]
        inherit = nowhere
        buildout = git http://x
        odoo-addons = sale stock
        build-requirs = pg
        """))
    assert "c" not in builds
    errors = [(p.line, p.option) for p in problems.errors]
    assert errors == [(2, "inherit"), (3, "buildout"), (4, "odoo-addons")]
    assert "(addons are separated by commas)" in problems.errors[2].message
    assert [(p.line, p.option) for p in problems.warnings] == [(5, "build-requirs")]


def test_not_used_capability_cannot_be_required(manifest):
    builds, problems = load(manifest("""
        [x]
        buildout = standalone sample.cfg
        build-for = postgresql not-used
        build-requires = postgresql >= 15
        """))
    assert "x" not in builds
    (error,) = problems.errors
    assert (error.line, error.option) == (4, "build-requires")
    assert "requires postgresql, which build-for says is not-used" in error.message


def test_unique_names_across_manifests(manifest):
    first = manifest("[x]\nbuildout = standalone sample.cfg\n")
    second = manifest("[x]\nbuildout = standalone sample.cfg\n", "buildouts/OTHER.cfg")
    _, problems = load(first, second)
    (error,) = problems.errors
    assert "already used at MANIFEST.cfg:1" in error.message and error.file == "OTHER.cfg"


def test_inherit_across_manifests(manifest):
    first = manifest("[base]\nbuildout = standalone sample.cfg\nbuild-category = a\n")
    second = manifest("[child]\ninherit = base\n", "buildouts/OTHER.cfg")
    builds, problems = load(first, second)
    assert builds["child"].category == "a" and not problems.errors


def test_unknown_option_warns_with_closest(manifest):
    builds, problems = load(manifest("""
        [a]
        buildout = standalone sample.cfg
        build-require = postgresql
        """))
    assert "a" in builds
    (warning,) = problems.warnings
    assert "unknown option 'build-require'" in warning.message
    assert "did you mean 'build-requires'" in warning.message
    assert warning.line == 3


def test_subfactory_options_are_accepted(manifest):
    _, problems = load(manifest("""
        [a]
        buildout = standalone sample.cfg
        db-steps = pg_remote_copy
        post-buildout-steps = install-modules-test pytest
        pg_remote_copy.arguments = --from prod
        pytest.arguments = -x
        odoo.use-port = true
        odoo.http-port-min = 9000
        """))
    assert not list(problems)


@pytest.mark.parametrize(("line", "needle"), [
    ("build-for = postgresql 9.1", "'9.1' has no operator"),
    ("build-requires = postgresql not-used", "not-used only makes sense in build-for"),
    ("buildout = standalone missing.cfg", "does not exist"),
    ("buildout = svn http://x y", "unknown buildout type 'svn'"),
    ("buildout = git https://x/r.git 17.0", "expected git URL BRANCH CONF"),
    ("buildout = git https://x/r.git 17.0 /etc/passwd", "must be relative"),
    ("buildout = git https://x/r.git 17.0 a\\..\\b.cfg", "cannot contain '\\'"),
    ("buildout = git https://x/r.git 17.0 b.cfg subdir=a/../..", "'..' component"),
    ("buildout = git https://x/r.git 17.0 b.cfg depth=1", "unknown keyword 'depth'"),
    ("watch = svn http://x", "unknown VCS 'svn'"),
    ("watch = git http://x", "expected git URL BRANCH"),
    ("auto-watch = maybe", "'maybe' is not a boolean"),
    ("tree-stable-timer = soon", "'soon' is not a whole number"),
    (f"tree-stable-timer = {'9' * 27}", "is out of range: from 0 to 604800 seconds"),
    ("post-buildout-steps = install-modules-tests", "did you mean 'install-modules-test'"),
    ("db-steps = magic", "'magic' is not one of"),
    ("odoo-addons = sale, bad-name", "'bad-name' is not an addon name"),
    ("bootstrap-eggs = eggs", "managed by buildbot-odoo"),
    ("build-for = postgresql >= 15\n  postgresql < 17", "appears on several lines"),
    ("odoo.http-port-max = 99999", "'99999' is out of range for a TCP port: from 1 to 65535"),
    ("odoo.http-port-min = 0", "'0' is out of range for a TCP port: from 1 to 65535"),
    ("odoo.http-port-step = 1e5", "'1e5' is not a whole number"),
    ("upgrade-command = bin/upgrade_odoo --quiet", "must be one executable path"),
    ("buildout.pip-exists-action = never", "'never' is not one of pip's exists actions"),
    ("buildout.git-depth = 0", "'0' is out of range for a git depth"),
    ("buildout.clean = maybe", "'maybe' is not a boolean"),
])
def test_bad_values_name_file_section_option(manifest, line, needle):
    head = "" if line.startswith("buildout") else "buildout = standalone sample.cfg\n"
    _, problems = load(manifest(f"[a]\n{head}{line}\n"))
    (error,) = problems.errors
    assert needle in error.message, error.message
    option = line.split("=")[0].strip()
    assert str(error).startswith(f"MANIFEST.cfg:{error.line}: a: {option}: ")


def test_scripts_and_what_the_recipe_is_told(manifest):
    builds, problems = load(manifest("""
        [default]
        buildout = standalone sample.cfg

        [custom]
        buildout = standalone sample.cfg
        buildout-part = erp
        test-command = bin/test_erp
        upgrade-command = bin/migrate_erp
        buildout.vcs-clear-locks = false
        buildout.vcs-clear-retry = no
        buildout.clean = off
        buildout.vcs-revert = false
        git-shallow = true
        buildout.git-depth = 3
        buildout.unzip = false
        buildout.odoo-downloads = false
        buildout.pip-exists-action =
        buildout.with-devtools = false
        """))
    assert not list(problems), [str(p) for p in problems]
    default, custom = builds["default"], builds["custom"]
    assert (default.start_command, default.test_command, default.upgrade_command) == (
        "bin/start_odoo", "", "bin/upgrade_odoo")
    assert (default.vcs_clear_locks, default.vcs_clear_retry, default.vcs_clean,
            default.vcs_revert, default.unzip, default.odoo_downloads_cache) == (True,) * 6
    assert (default.git_depth, default.pip_exists_action, default.with_devtools) == (
        1, "s", None)
    assert (custom.start_command, custom.test_command, custom.upgrade_command) == (
        "bin/start_erp", "bin/test_erp", "bin/migrate_erp")
    assert (custom.vcs_clear_locks, custom.vcs_clear_retry, custom.vcs_clean,
            custom.vcs_revert, custom.unzip, custom.odoo_downloads_cache) == (False,) * 6
    assert (custom.git_depth, custom.pip_exists_action, custom.with_devtools) == (3, "", False)


def test_watch_lines_and_buildout_watch(manifest):
    builds, problems = load(manifest("""
        [a]
        buildout = git https://example.org/b.git 17.0 buildout.cfg subdir=ci
        watch = git https://example.org/addons.git main
                hg https://example.org/hgrepo
                bzr lp:project
        [b]
        buildout = hg https://example.org/b 17.0 buildout.cfg
        watch =
        [c]
        watch = git https://example.org/c.git main
        """))
    assert not problems.errors
    a = builds["a"]
    assert a.buildout.subdir == "ci" and a.buildout.branch == "17.0"
    assert a.watches() == [
        WatchSpec("git", "https://example.org/addons.git", "main"),
        WatchSpec("hg", "https://example.org/hgrepo", "default"),
        WatchSpec("bzr", "lp:project"),
        WatchSpec("git", "https://example.org/b.git", "17.0"),
    ]
    assert builds["b"].watches() == []
    assert builds["c"].buildout is None and len(builds["c"].watches()) == 1


def test_bootstrap_options(manifest):
    builds, problems = load(manifest("""
        [a]
        buildout = standalone sample.cfg
        bootstrap-version = 5.1.3
        bootstrap-index = https://pypi.example/simple
        bootstrap-whatever = 1
        """))
    assert builds["a"].bootstrap == {"version": "5.1.3", "index": "https://pypi.example/simple"}
    (warning,) = problems.warnings
    assert "bootstrap-whatever" in warning.message


def test_inherit_in_default_is_an_error_not_ignored(manifest):
    _, problems = load(manifest("""
        [DEFAULT]
        inherit = base

        [base]
        buildout = standalone sample.cfg

        [child]
        build-category = x
        """))
    (error,) = problems.errors
    assert (error.line, error.section, error.option) == (2, "DEFAULT", "inherit")
    assert "each section" in error.message


def test_addons_alias_takes_its_place_in_the_precedence(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        openerp-addons = from_default

        [base]
        buildout = standalone sample.cfg
        odoo-addons = from_base

        [child]
        inherit = base
        openerp-addons = from_child

        [grandchild]
        inherit = child
        odoo-addons = from_grandchild
        """))
    assert not problems.errors, [str(p) for p in problems]
    assert builds["base"].odoo_addons == ["from_base"]
    assert builds["child"].odoo_addons == ["from_child"]
    assert builds["grandchild"].odoo_addons == ["from_grandchild"]


def test_addons_and_its_alias_in_one_section_is_an_error(manifest):
    builds, problems = load(manifest("""
        [a]
        buildout = standalone sample.cfg
        odoo-addons = sale
        openerp-addons = stock
        """))
    assert "a" not in builds
    (error,) = problems.errors
    assert (error.line, error.option) == (4, "openerp-addons")
    assert "odoo-addons" in error.message


def test_options_of_a_subfactory_the_build_does_not_use_are_warned_about(manifest):
    builds, problems = load(manifest("""
        [DEFAULT]
        pytest.arguments = -x

        [a]
        buildout = standalone sample.cfg
        pg_remote_copy.arguments = --from prod
        pg_remote_copy.timeout = soon
        doc.builder = html

        [b]
        buildout = standalone sample.cfg
        db-steps = pg_remote_copy
        pg_remote_copy.arguments = --from prod
        post-buildout-steps = pytest doc
        doc.builder = html
        """))
    assert set(builds) == {"a", "b"} and not problems.errors
    # [DEFAULT]'s option is for the builds using pytest: not a mistake of build a
    assert sorted((w.section, w.line, w.option) for w in problems.warnings) == [
        ("a", 6, "pg_remote_copy.arguments"), ("a", 7, "pg_remote_copy.timeout"),
        ("a", 8, "doc.builder")]
    by_option = {w.option: w.message for w in problems.warnings}
    assert "db-steps" in by_option["pg_remote_copy.timeout"]
    assert "post-buildout-steps" in by_option["doc.builder"]


@pytest.mark.parametrize(("line", "needle"), [
    ("watch = git --upload-pack=touch${IFS}/tmp/x;: 17.0", "a URL cannot start with '-'"),
    ("watch = hg --config=hooks.pre-pull=touch${IFS}/tmp/x default",
     "a URL cannot start with '-'"),
    ("watch = git ext::sh 17.0", "remote-helper transport ('ext::...')"),
    ("watch = git fd::3 17.0", "remote-helper transport ('fd::...')"),
    ("watch = git ssh://-oProxyCommand=touch/r 17.0", "is not a host name"),
    ("watch = git https://x/r.git --upload-pack=touch", "a branch cannot start with '-'"),
    ("watch = hg https://x/r --config=hooks.x=y", "a branch cannot start with '-'"),
    ("watch = git https://x/r.git a..b", "is not a git branch name"),
    ("buildout = git --upload-pack=touch 17.0 b.cfg", "a URL cannot start with '-'"),
    ("buildout = git -utouch${IFS}/tmp/x;: 17.0 b.cfg", "a URL cannot start with '-'"),
    ("buildout = git ext::sh 17.0 b.cfg", "remote-helper transport"),
    ("buildout = git https://x/r.git --orphan b.cfg", "a branch cannot start with '-'"),
    ("buildout = hg ssh://-oProxyCommand=touch/r default b.cfg", "is not a host name"),
    ("buildout = hg https://x/r --config=x b.cfg", "a branch cannot start with '-'"),
    ("buildout = hg https://x/r -R b.cfg", "a branch cannot start with '-'"),
    ("buildout = hgtag --config=hooks.x=y b.cfg", "a URL cannot start with '-'"),
    ("buildout = hgtag -R b.cfg", "a URL cannot start with '-'"),
    ("buildout = bzr --x b.cfg", "a URL cannot start with '-'"),
    ("start-command = --version", "cannot start with '-'"),
    ("test-command = -h", "cannot start with '-'"),
])
def test_urls_and_branches_that_would_be_options_or_commands_are_refused(manifest, line, needle):
    head = "" if line.startswith("buildout") else "buildout = standalone sample.cfg\n"
    builds, problems = load(manifest(f"[a]\n{head}{line}\n"))
    (error,) = problems.errors
    assert needle in error.message, error.message
    assert error.option == line.split("=")[0].strip()
    assert "a" not in builds


@pytest.fixture
def secrets(tmp_path):
    """The master's secrets/ beside buildouts/, as ``buildbot-odoo init`` makes it."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "local-worker").write_text("hunter2\n")
    return tmp_path / "secrets"


@pytest.mark.parametrize(("conf", "needle"), [
    ("../secrets/local-worker", "'..' component"),
    ("sub/../../secrets/local-worker", "'..' component"),
    ("{secrets}/local-worker", "must be relative"),
    ("link/local-worker", "a symbolic link takes it to"),
    ("linked.cfg", "a symbolic link takes it to"),
])
def test_standalone_buildouts_stay_inside_the_manifest_directory(manifest, secrets, conf,
                                                                 needle):
    directory = secrets.parent / "buildouts"
    directory.mkdir(exist_ok=True)
    (directory / "link").symlink_to(secrets)
    (directory / "linked.cfg").symlink_to(secrets / "local-worker")
    line = f"buildout = standalone {conf.format(secrets=secrets)}"
    builds, problems = load(manifest(f"[a]\n{line}\n"))
    (error,) = problems.errors
    assert needle in error.message and error.option == "buildout"
    assert "hunter2" not in error.message
    assert "a" not in builds


def test_standalone_buildouts_in_subdirectories_and_links_inside_are_fine(manifest, tmp_path):
    (tmp_path / "buildouts" / "sub").mkdir(parents=True)
    (tmp_path / "buildouts" / "sub" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "current.cfg").symlink_to(tmp_path / "buildouts" / "sub" / "b.cfg")
    builds, problems = load(manifest("[a]\nbuildout = standalone sub//b.cfg\n"
                                     "[b]\nbuildout = standalone current.cfg\n"))
    assert not problems.errors, [str(p) for p in problems]
    assert builds["a"].buildout.local_path == (tmp_path / "buildouts" / "sub" / "b.cfg")
    assert builds["b"].buildout.local_path == (tmp_path / "buildouts" / "sub" / "b.cfg")


@pytest.mark.parametrize(("line", "meant"), [
    ("Build-For = postgresql", "build-for"),
    ("build_requires = postgresql", "build-requires"),
    ("db-template = template0", "db_template"),
    ("tree_stable_timer = 60", "tree-stable-timer"),
    ("openerp_addons = sale", "odoo-addons"),  # an alias leads to its option
])
def test_unknown_option_hint_ignores_case_and_dash_or_underscore(manifest, line, meant):
    _, problems = load(manifest(f"[a]\nbuildout = standalone sample.cfg\n{line}\n"))
    (warning,) = problems.warnings
    assert warning.message.endswith(f"is ignored (did you mean {meant!r}?)")


def test_a_thousand_deep_inherit_chain_is_resolved(manifest):
    depth = 1000
    sections = ["[s0]\nbuildout = standalone sample.cfg\nodoo-addons = sale\n"]
    sections += [f"[s{i}]\ninherit = s{i - 1}\n" for i in range(1, depth)]
    builds, problems = load(manifest("\n".join(sections)))
    assert not list(problems)
    assert len(builds) == depth
    assert builds[f"s{depth - 1}"].odoo_addons == ["sale"]
    assert builds[f"s{depth - 1}"].where["odoo-addons"][2] == "s0"


def test_each_inheritance_cycle_is_reported_once(manifest):
    _, problems = load(manifest("""
        [a]
        inherit = b
        [b]
        inherit = c
        [c]
        inherit = a
        [d]
        inherit = a
        [e]
        inherit = d
        """))
    assert [str(p) for p in problems.errors] == [
        "MANIFEST.cfg:6: c: inherit: inheritance cycle: a -> b -> c -> a"]


@pytest.mark.parametrize(("line", "message"), [
    ("bootstrap-version = >=3 lol", "'>=3 lol' is not a version (PEP 440, such as 3.0.1): "
                                    "give the one version to install"),
    ("bootstrap-setuptools-version = latest", "'latest' is not a version"),
    ("bootstrap-python = -c", "'-c': a command must be a program name or an absolute path"),
    ("bootstrap-python = bin/python", "'bin/python': a command must be absolute"),
    ("bootstrap-index = ftp://mirror/simple", "'ftp://mirror/simple' is not a URL"),
    ("bootstrap-find-links = /srv/wheels wheels", "'wheels': a path must be absolute"),
    ("bootstrap-find-links = --pre", "'--pre': a URL cannot start with '-'"),
])
def test_bootstrap_values_are_checked_when_the_manifest_is_read(manifest, line, message):
    builds, problems = load(manifest(f"[a]\nbuildout = standalone sample.cfg\n{line}\n"))
    assert "a" not in builds
    (error,) = problems.errors
    assert (error.line, error.option) == (3, line.split(" =")[0])
    assert message in error.message, error.message


def test_good_bootstrap_values_and_an_empty_one_meaning_the_default(manifest):
    builds, problems = load(manifest("""
        [base]
        buildout = standalone sample.cfg
        bootstrap-python = /opt/python3.8/bin/python3
        bootstrap-version = 5.1.3
        bootstrap-index = https://pypi.example.com/simple/
        bootstrap-find-links = /srv/wheels
                               https://example.com/links/
        [child]
        inherit = base
        bootstrap-python =
        bootstrap-version =
        """))
    assert not list(problems)
    assert builds["base"].bootstrap == {
        "python": "/opt/python3.8/bin/python3", "version": "5.1.3",
        "index": "https://pypi.example.com/simple/",
        "find-links": "/srv/wheels\nhttps://example.com/links/"}
    # empty: back to the default (zc.buildout 5.2.0, python3), not an empty word
    assert builds["child"].bootstrap == {
        "index": "https://pypi.example.com/simple/",
        "find-links": "/srv/wheels\nhttps://example.com/links/"}


def test_odoo_addons_all_is_warned_about_where_odoo_runs(manifest):
    """Odoo's -i all installs none of the buildout's addons (real Odoo 17; the stand-in
    models it): a build asking for all tests base, not its addons."""
    _, problems = load(manifest("""
        [a]
        buildout = standalone sample.cfg
        odoo-addons = all

        [b]
        buildout = standalone sample.cfg
        odoo-addons = all
        post-buildout-steps = pytest

        [c]
        buildout = standalone sample.cfg
        odoo-addons = sale_x
        """))
    (warning,) = problems.warnings
    assert (warning.section, warning.option, warning.line) == ("a", "odoo-addons", 3)
    assert warning.message.startswith("all: Odoo's -i all installs none of the buildout's "
                                      "addons")
