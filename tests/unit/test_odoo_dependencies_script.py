"""The worker script odoo_dependencies.py, its pure part: which modules go into the
dependencies template, what its key is made of, the Odoo series, the data directory.

The database part on a real PostgreSQL is tested in
tests/integration/test_dependencies_script_pg.py (copy, discard) and, with the
whole pipeline and the Odoo stand-in, in test_addons_tests_e2e.py and
test_dependencies_template_faults_e2e.py.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from buildbot_odoo.master.subfactories import database
from buildbot_odoo.master.subfactories.retrieval import worker_script

SCRIPT_PATH = Path(worker_script("odoo_dependencies.py"))


def load_script():
    spec = importlib.util.spec_from_file_location("odoo_dependencies", SCRIPT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = load_script()


def write_module(root: Path, name: str, **manifest) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "__manifest__.py").write_text(repr({"name": name, **manifest}))
    (directory / "__init__.py").write_text("")
    return directory


def modules_of(root: Path) -> dict:
    return script.load_modules(script.find_modules([str(root)]))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """base <- web (auto_install) ; base <- dep_a <- dep_b ; addon_x needs dep_b and web."""
    root = tmp_path / "addons"
    write_module(root, "base")
    write_module(root, "web", depends=["base"], auto_install=True)
    write_module(root, "dep_a", depends=["base"])
    write_module(root, "dep_b", depends=["dep_a"])
    write_module(root, "addon_x", depends=["dep_b", "web"])
    write_module(root, "addon_y", depends=["addon_x"])
    return root


def test_the_template_holds_the_addons_dependencies_and_base(tree):
    assert script.template_modules(["addon_x"], modules_of(tree)) == [
        "base", "dep_a", "dep_b", "web"]


def test_addons_and_what_depends_on_them_stay_out(tree):
    """addon_y depends on addon_x, itself under test: its tests must run, so it is not
    installed beforehand, and neither is a dependency that needs an addon."""
    write_module(tree, "glue", depends=["addon_x"])
    write_module(tree, "addon_z", depends=["glue", "dep_a"])
    assert script.template_modules(["addon_x", "addon_z"], modules_of(tree)) == [
        "base", "dep_a", "dep_b", "web"]


def test_auto_install_modules_whose_triggers_are_in_come_in(tree):
    """Odoo installs a module when all its auto_install triggers are installed
    (odoo/modules/module.py load_manifest; a list names the triggers)."""
    write_module(tree, "bridge", depends=["dep_a", "web"], auto_install=True)
    write_module(tree, "partial", depends=["dep_b", "base"], auto_install=["dep_b"])
    write_module(tree, "unrelated", depends=["dep_c"], auto_install=True)
    write_module(tree, "dep_c", depends=["base"])
    assert script.template_modules(["addon_x"], modules_of(tree)) == [
        "base", "bridge", "dep_a", "dep_b", "partial", "web"]


def test_modules_odoo_cannot_install_are_left_to_the_test_run(tree):
    """Missing, not installable, or depending on such: Odoo says why when the addon is
    installed, in the tests' step."""
    write_module(tree, "broken_dep", depends=["base", "nowhere"])
    write_module(tree, "closed", depends=["base"], installable=False)
    write_module(tree, "needs_closed", depends=["closed"])
    write_module(tree, "addon_w", depends=["broken_dep", "needs_closed", "dep_a"])
    assert script.template_modules(["addon_w"], modules_of(tree)) == ["base", "dep_a", "web"]


def test_the_first_addons_directory_holding_a_module_wins(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write_module(first, "dep_a", depends=["base"])
    write_module(second, "dep_a", depends=["base", "other"])
    found = script.find_modules([str(first), str(second)])
    assert found["dep_a"][0] == str(first / "dep_a")


def test_an_unreadable_manifest_is_a_module_odoo_cannot_install(tmp_path):
    directory = tmp_path / "addons" / "bad"
    directory.mkdir(parents=True)
    (directory / "__manifest__.py").write_text("{'name': oops}")
    assert not modules_of(tmp_path / "addons")["bad"].installable


@pytest.mark.parametrize(("text", "major"), [
    ("version_info = (17, 0, 0, FINAL, 0, '')\n", 17),
    ("version_info = ('saas~17', 1, 0, FINAL, 0, '')\n", 17),
    ("version_info = (11, 0, 0, FINAL, 0, '')\n", 11),
    ("nothing here\n", None),
])
def test_the_odoo_series_comes_from_release_py(tmp_path, text, major):
    package = tmp_path / "odoo"
    (package / "addons").mkdir(parents=True)
    (package / "release.py").write_text(text)
    found = script.odoo_package([str(tmp_path / "other"), str(package / "addons")])
    assert found == str(package)
    assert script.odoo_major(found) == major


def test_the_data_directory_is_odoos_default_unless_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert script.data_dir({}, "/srv/build") == str(tmp_path / ".local/share/Odoo")
    assert script.data_dir({"data_dir": "False"}, "/b") == str(tmp_path / ".local/share/Odoo")
    assert script.data_dir({"data_dir": "var"}, "/srv/build") == "/srv/build/var"
    monkeypatch.setenv("XDG_DATA_HOME", "/xdg")
    assert script.data_dir({}, "/b") == "/xdg/Odoo"


def key_of(tree: Path, tmp_path: Path, *, options=None, without_demo=False,
           db_template="template1", cache=None) -> tuple[str, dict]:
    modules = modules_of(tree)
    template = script.template_modules(["addon_x"], modules)
    start = tmp_path / "start_odoo"
    if not start.exists():
        start.write_text("sys.path[0:0] = ['/eggs/lxml-4.9.3-py3.11.egg']\n")
    args = SimpleNamespace(without_demo=without_demo, db_template=db_template)
    parts = script.key_parts(template, modules, None, str(start), options or {}, args,
                             cache or script.DigestCache(None))
    return script.plan_key(parts), parts


def test_the_key_changes_with_a_dependency_file_and_says_which(tree, tmp_path):
    key, parts = key_of(tree, tmp_path)
    assert key == key_of(tree, tmp_path)[0]
    (tree / "dep_a" / "models.py").write_text("x = 1\n")
    changed_key, changed = key_of(tree, tmp_path)
    assert changed_key != key
    assert script.changes(parts, changed) == ["dep_a"]


def test_the_key_ignores_the_addons_own_files(tree, tmp_path):
    key, _ = key_of(tree, tmp_path)
    (tree / "addon_x" / "models.py").write_text("x = 1\n")
    assert key_of(tree, tmp_path)[0] == key


def test_the_key_changes_with_eggs_demo_data_template_and_settings(tree, tmp_path):
    key, parts = key_of(tree, tmp_path)
    assert key_of(tree, tmp_path, without_demo=True)[0] != key
    assert key_of(tree, tmp_path, db_template="template_fr")[0] != key
    assert key_of(tree, tmp_path, options={"load_language": "fr_FR"})[0] != key
    (tmp_path / "start_odoo").write_text("sys.path[0:0] = ['/eggs/lxml-5.2.1-py3.11.egg']\n")
    eggs_key, eggs_parts = key_of(tree, tmp_path)
    assert eggs_key != key and script.changes(parts, eggs_parts) == ["eggs"]


def test_connections_ports_and_paths_do_not_change_the_key(tree, tmp_path):
    key, _ = key_of(tree, tmp_path)
    volatile = {"db_name": "x", "db_port": "5433", "http_port": "8070", "logfile": "/l",
                "addons_path": "/a", "admin_passwd": "secret"}
    assert key_of(tree, tmp_path, options=volatile)[0] == key


def test_another_data_directory_changes_the_key(tree, tmp_path):
    """The template's attachments are files of its filestore, in the data directory."""
    key, _ = key_of(tree, tmp_path)
    assert key_of(tree, tmp_path, options={"data_dir": "/elsewhere"})[0] != key


def test_compiled_files_and_vcs_metadata_do_not_change_the_key(tree, tmp_path):
    key, _ = key_of(tree, tmp_path)
    (tree / "dep_a" / "__pycache__").mkdir()
    (tree / "dep_a" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (tree / "dep_a" / "stale.pyc").write_bytes(b"\0")
    (tree / ".git").mkdir()
    assert key_of(tree, tmp_path)[0] == key


def test_the_digest_cache_reads_a_file_again_only_when_it_changed(tree, tmp_path):
    cache_file = tmp_path / "digests.json"
    first = script.DigestCache(str(cache_file))
    key, _ = key_of(tree, tmp_path, cache=first)
    first.save()
    target = tree / "dep_b" / "__manifest__.py"
    # same size and times, other content: the cache is trusted (as make and rsync do)
    stat = target.stat()
    target.write_text(target.read_text().replace("dep_b", "dep_B"))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert key_of(tree, tmp_path, cache=script.DigestCache(str(cache_file)))[0] == key
    # a new modification time: read again
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert key_of(tree, tmp_path, cache=script.DigestCache(str(cache_file)))[0] != key


@pytest.mark.parametrize("name", ["-x", "a b", "x;drop", "Ab", "a/b", ""])
def test_database_names_are_checked_again_on_the_worker(name):
    with pytest.raises(script.Failure):
        script.checked_db_name(name)


def test_a_module_name_that_could_be_an_option_is_refused(tmp_path):
    with pytest.raises(script.Failure, match="unsafe module name"):
        script.install(["bin/start_odoo"], "db", ["-x"], str(tmp_path / "log"), False)


def test_the_drop_script_quotes_names_through_psql_variables():
    sql = script.drop_sql("template", template=True)
    assert ':"template"' in sql and ":'template'" in sql
    assert "WITH (FORCE)" in sql and "\\if :force" in sql


def test_copies_deactivate_mail_as_the_database_steps_do():
    assert script.DISABLE_MAIL_SQL == database.DISABLE_MAIL_SQL


def test_psqls_error_line_is_the_one_told():
    stderr = ('psql:<stdin>:3: ERROR:  relation "ir_module_module" does not exist\n'
              "LINE 1: SELECT name, state FROM ir_module_module;\n"
              "                                ^\n")
    assert script.psql_error(stderr, 3) == (
        'psql:<stdin>:3: ERROR:  relation "ir_module_module" does not exist')
    assert script.psql_error("", 2) == "exit 2"


def test_a_directory_no_module_can_be_named_after_is_no_module(tmp_path):
    """``-x`` would read as an option of Odoo's command line; Odoo imports modules as
    ``odoo.addons.<name>``: such a directory is not a module to us."""
    root = tmp_path / "addons"
    write_module(root, "-x", depends=["base"])
    write_module(root, "fine_one", depends=["base"])
    assert sorted(script.find_modules([str(root)])) == ["fine_one"]
