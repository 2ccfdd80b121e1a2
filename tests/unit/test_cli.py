"""``buildbot-odoo init/check/plan`` on good and bad directories (SPEC 8)."""

from __future__ import annotations

import json
import shutil
import stat
import textwrap

import pytest

from buildbot_odoo.cli import PLAN_SCHEMA, main

from ..conftest import DATA

SAMPLE_MASTER_CFG = (DATA / "master_fleet" / "master.cfg").read_text()


@pytest.fixture
def master_dir(tmp_path):
    target = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", target)
    return target


def write(directory, name, text):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


# --------------------------------------------------------------------------
# check


def test_check_good_directory_warns_only(master_dir, capsys):
    code, out, err = run(capsys, "check", master_dir)
    assert code == 0 and err == []
    assert out == [
        "buildouts/MANIFEST.cfg:12: sale-legacy: warning: no builder made: the only workers "
        "meeting its requirements take only builds requiring their build-only-if-requires: "
        "gamma",
        "buildouts/MANIFEST.cfg:26: nothing-fits: warning: no builder made: "
        "no worker has wkhtmltopdf",
        "3 workers, 6 builds, 6 builders: 0 errors, 2 warnings",
    ]


BROKEN_WORKERS = """
    stray text
    [a]
    password = x
    capability = postgresql 15
                 postgresql 15 port=5433
    password = y
    [b]
    password = b
    max_builds = lots
    no value here
    [a]
    worker_priority = high
    [c]
    capability = postgresql 18 password=clear
"""

BROKEN_MANIFEST = """
    [x]
    buildout = standalone missing.cfg
    build-for = postgresql 15
    colour = blue
    [y]
    inherit = x
    odoo-addons = sale stock!
    [z]
    inherit = nowhere
    [ok]
    buildout = standalone sample.cfg
    build-for = postgresql >= 15
    post-buildout-steps = install-modules-tests
"""


def test_check_reports_every_problem_of_every_file_in_order(master_dir, capsys):
    write(master_dir, "workers.cfg", BROKEN_WORKERS)
    write(master_dir, "buildouts/MANIFEST.cfg", BROKEN_MANIFEST)
    code, out, err = run(capsys, "check", master_dir)
    assert code == 1 and err == []
    missing = master_dir / "buildouts" / "missing.cfg"
    known = ("autocommit, doc, functional, install-modules, install-modules-test, packaging, "
             "pytest, static-analysis, update-modules")
    assert out == [
        "buildouts/MANIFEST.cfg:2: x: buildout: 'standalone missing.cfg': standalone buildout "
        f"file '{missing}' does not exist",
        "buildouts/MANIFEST.cfg:3: x: build-for: Invalid requirement: 'postgresql 15': '15' "
        "has no operator (expected one of == != < <= > >= before it)",
        "buildouts/MANIFEST.cfg:4: x: colour: warning: unknown option 'colour' is ignored",
        "buildouts/MANIFEST.cfg:7: y: odoo-addons: 'sale stock!' is not an addon name "
        "(addons are separated by commas)",
        "buildouts/MANIFEST.cfg:9: z: inherit: 'nowhere' is not a section of any manifest",
        "buildouts/MANIFEST.cfg:13: ok: post-buildout-steps: unknown subfactory "
        f"'install-modules-tests' (did you mean 'install-modules-test'?); known: {known}",
        "workers.cfg:1: text before any [section] header: 'stray text'",
        "workers.cfg:5: a: capability: postgresql version 15 declared twice: "
        "'postgresql 15' and 'postgresql 15 port=5433'",
        "workers.cfg:6: a: password: appears twice (first at line 3)",
        "workers.cfg:9: b: max_builds: 'lots' is not a whole number",
        "workers.cfg:10: b: cannot parse 'no value here': expected 'option = value', "
        "an indented continuation line or a [section]",
        "workers.cfg:11: a: section [a] appears twice (first at line 2)",
        "workers.cfg:12: a: worker_priority: 'high' is not a decimal number",
        "workers.cfg:13: c: missing required option 'password'",
        "workers.cfg:14: c: capability: 'postgresql 18 password=<hidden>': 'password=' would "
        "put a secret in the build properties (readable in the web UI and the REST API); "
        "name a Buildbot secret with 'password-secret=' instead",
        "0 workers, 0 builds, 0 builders: 14 errors, 1 warnings",
    ]
    assert "clear" not in "".join(line for line in out if "password:" in line)


def test_check_exits_0_with_warnings_only(master_dir, capsys):
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace("[sale]\n", "[sale]\nbuild-categroy = x\n"))
    code, out, _ = run(capsys, "check", master_dir)
    assert code == 0
    assert "buildouts/MANIFEST.cfg:9: sale: build-categroy: warning: unknown option " \
           "'build-categroy' is ignored (did you mean 'build-category'?)" in out
    assert out[-1] == "3 workers, 6 builds, 6 builders: 0 errors, 3 warnings"


def test_check_a_missing_directory_or_file(tmp_path, capsys):
    code, out, _ = run(capsys, "check", tmp_path / "nope")
    assert code == 1 and out[0] == f"{tmp_path / 'nope'}: no such directory"
    code, out, _ = run(capsys, "check", tmp_path)
    assert code == 1
    assert out[0].startswith("buildouts/MANIFEST.cfg: cannot read file: ")
    assert out[1].startswith("workers.cfg: cannot read file: ")


SHOW_ENV_MASTER_CFG = SAMPLE_MASTER_CFG.replace("conf.populate(c)", """
from buildbot.plugins import steps

def show_env(configurator, options, buildout_path, environ):
    return [steps.ShellCommand(command=["printenv"], env=environ, name="show-env")]

conf.post_buildout_steps["show-env"] = show_env
conf.populate(c)
""")


def test_check_knows_what_master_cfg_registers(master_dir, capsys):
    write(master_dir, "master.cfg", SHOW_ENV_MASTER_CFG)
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[queue]\n", "[queue]\npost-buildout-steps = install-modules-test show-env\n"))
    code, out, _ = run(capsys, "check", master_dir)
    assert code == 0, out
    # without master.cfg, neither show-env nor the rabbitmq definition is known
    code, out, _ = run(capsys, "check", master_dir, "--no-master-cfg")
    assert code == 1
    assert any(line.startswith("buildouts/MANIFEST.cfg:17: queue: post-buildout-steps: "
                               "unknown subfactory 'show-env'") for line in out), out


def test_check_reports_master_cfg_errors_with_their_line_and_checks_the_files(
        master_dir, capsys):
    write(master_dir, "master.cfg", SAMPLE_MASTER_CFG.replace(
        "conf.populate(c)", "conf.populate(c)\nc['title'] = undefined_name\n"))
    write(master_dir, "workers.cfg", "[a]\npassword = x\nmax_builds = 0\n")
    code, out, _ = run(capsys, "check", master_dir)
    assert code == 1
    line = SAMPLE_MASTER_CFG.splitlines().index("conf.populate(c)") + 2
    assert f"master.cfg:{line}: NameError: name 'undefined_name' is not defined" in out
    assert "workers.cfg:3: a: max_builds: '0' is out of range: from 1 to 1000" in out


def test_check_reports_a_bad_capability_definition_at_its_line(master_dir, capsys):
    write(master_dir, "master.cfg", SAMPLE_MASTER_CFG.replace(
        '"RMQ_BASE_URI": "%(cap(base_uri):-)s"', '"RMQ BASE": "x"'))
    code, out, _ = run(capsys, "check", master_dir)
    assert code == 1
    line = next(n for n, text in enumerate(SAMPLE_MASTER_CFG.splitlines(), start=1)
                if "add_capability_environ" in text)
    assert (f"master.cfg:{line}: capability 'rabbitmq': 'RMQ BASE' is not an "
            "environment variable name") in out


def test_check_collects_problems_of_every_builder_factory(master_dir, capsys):
    # pg_remote_copy's arguments are checked when the factory is made: both builds are told
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[sale]\n", "[sale]\ndb-steps = pg_remote_copy\n").replace(
        "[queue]\n", "[queue]\ndb-steps = pg_remote_copy\n"))
    code, out, _ = run(capsys, "check", master_dir)
    assert code == 1
    needs = "db-steps = pg_remote_copy needs the arguments of the copy script"
    assert [line for line in out if needs in line] == [
        f"buildouts/MANIFEST.cfg:8: sale: pg_remote_copy.arguments: {needs}",
        f"buildouts/MANIFEST.cfg:17: queue: pg_remote_copy.arguments: {needs}",
    ]


def test_check_other_file_names(master_dir, capsys):
    (master_dir / "fleet.cfg").write_text((master_dir / "workers.cfg").read_text())
    (master_dir / "workers.cfg").unlink()
    code, _, _ = run(capsys, "check", master_dir, "--workers", "fleet.cfg")
    assert code == 0
    code, out, _ = run(capsys, "check", master_dir, "--manifest", "other.cfg",
                       "--workers", "fleet.cfg")
    assert code == 1 and out[0].startswith("other.cfg: cannot read file")


# --------------------------------------------------------------------------
# plan


def test_plan_table(master_dir, capsys):
    code, out, err = run(capsys, "plan", master_dir)
    assert code == 0
    assert [line.split("  ")[0] for line in out[:7]] == [
        "BUILDER", "base-pg15", "base-pg18", "sale-pg15", "sale-pg18", "queue-pg15", "ui"]
    rows = {line.split()[0]: " ".join(line.split()[1:]) for line in out[1:7]}
    assert rows["base-pg15"] == "postgresql 15 (pg_version=15) - alpha, beta"
    assert rows["queue-pg15"] == "postgresql 15 (pg_version=15) rabbitmq >= 2.8 beta"
    assert rows["ui"] == "postgresql not-used (pg_version=not-used) selenium-server gamma"
    assert out[7:] == [
        "",
        "Builds without any worker (no builder made):",
        "  buildouts/MANIFEST.cfg:12: sale-legacy: the only workers meeting its requirements "
        "take only builds requiring their build-only-if-requires: gamma",
        "  buildouts/MANIFEST.cfg:26: nothing-fits: no worker has wkhtmltopdf",
        "",
        "Builds no commit schedules (force them): base, sale, queue, ui",
    ]
    assert err == []


def test_plan_shows_what_each_polled_branch_schedules(master_dir, capsys):
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[sale]\n", "[sale]\nwatch = git https://git.example/sale.git 17.0\n"
                    "        hg https://hg.example/sale\ntree-stable-timer = 60\n").replace(
        "[queue]\n", "[queue]\nwatch = git https://git.example/sale.git 17.0\n"))
    code, out, _ = run(capsys, "plan", master_dir)
    assert code == 0
    start = out.index("POLLED BRANCH                          SCHEDULES (tree-stable timer)")
    assert out[start + 1:start + 4] == [
        "git https://git.example/sale.git 17.0  sale (60s), queue (600s)",
        "hg https://hg.example/sale default     sale (60s)",
        "",
    ]
    assert out[start + 4:start + 8] == [
        "BUILD  TRIGGERED BY", "sale   poll", "queue  poll", ""]
    assert out[start + 8] == "Builds no commit schedules (force them): base, ui"
    code, out, _ = run(capsys, "plan", master_dir, "--format", "json")
    watch = json.loads("\n".join(out))["watch"]
    assert [p["name"] for p in watch["pollers"]] == [
        "git https://git.example/sale.git 17.0", "hg https://hg.example/sale default"]
    assert [(s["build"], s["builders"]) for s in watch["schedulers"]] == [
        ("sale", ["sale-pg15", "sale-pg18"]), ("queue", ["queue-pg15"])]
    assert watch["unwatched"] == ["base", "ui"]


HOOKED_MASTER_CFG = """\
from buildbot_odoo import BuildoutsConfigurator
BuildmasterConfig = c = {"www": {"port": 8010}, "secretsProviders": []}
conf = BuildoutsConfigurator(basedir)
conf.change_hooks = {"github": {"secret": "github-webhook",
                                "repositories": ["https://github.com/acme/"]}}
conf.populate(c)
"""


def test_plan_shows_which_builds_come_by_push_and_which_by_poll(master_dir, capsys):
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[sale]\n", "[sale]\nwatch = git git@github.com:Acme/sale.git 17.0\n"
                    "        hg https://hg.example/sale\n").replace(
        "[queue]\n", "[queue]\nwatch = git https://github.com/acme/sale 17.0\n"))
    (master_dir / "master.cfg").write_text(HOOKED_MASTER_CFG)
    code, out, _ = run(capsys, "plan", master_dir)
    assert code == 0
    start = out.index("POLLED BRANCH                       SCHEDULES (tree-stable timer)")
    assert out[start + 1:start + 3] == ["hg https://hg.example/sale default  sale (600s)", ""]
    pushed = out.index("PUSHED BRANCH                          HOOK                          "
                       "SCHEDULES (tree-stable timer)")
    # two spellings of one repository: one branch, pushed, both builds on it
    assert out[pushed + 1:pushed + 3] == [
        "git git@github.com:Acme/sale.git 17.0  github (/change_hook/github)  sale (600s), "
        "queue (600s)", ""]
    assert out[pushed + 3:pushed + 7] == [
        "BUILD  TRIGGERED BY", "sale   push (github) + poll", "queue  push (github)", ""]
    code, out, _ = run(capsys, "plan", master_dir, "--format", "json")
    watch = json.loads("\n".join(out))["watch"]
    assert [p["name"] for p in watch["pollers"]] == ["hg https://hg.example/sale default"]
    assert watch["pushed"] == [{"vcs": "git", "url": "git@github.com:Acme/sale.git",
                                "branch": "17.0", "forge": "github"}]
    assert [(s["build"], s["trigger"]) for s in watch["schedulers"]] == [
        ("sale", "push (github) + poll"), ("queue", "push (github)")]
    assert watch["change_hooks"] == {"github": {
        "path": "change_hook/github", "secret": "github-webhook",
        "repositories": ["https://github.com/acme/"]}}


def test_plan_shows_idle_workers(master_dir, capsys):
    # ui no longer requires selenium-server: nothing is left for the reserved worker
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "build-requires = selenium-server", "build-requires = python"))
    code, out, _ = run(capsys, "plan", master_dir)
    assert code == 0
    assert out[-2:] == ["Workers without any builder:",
                        "  workers.cfg:20: gamma (build-only-if-requires selenium-server)"]


def test_plan_json_schema(master_dir, capsys):
    code, out, _ = run(capsys, "plan", master_dir, "--format", "json")
    assert code == 0
    data = json.loads("\n".join(out))
    assert data["schema"] == PLAN_SCHEMA
    assert data["directory"] == str(master_dir.resolve())
    builders = {b["name"]: b for b in data["builders"]}
    assert list(builders) == ["base-pg15", "base-pg18", "sale-pg15", "sale-pg18",
                              "queue-pg15", "ui"]
    assert builders["queue-pg15"] == {
        "name": "queue-pg15", "build": "queue", "file": "buildouts/MANIFEST.cfg", "line": 16,
        "workers": ["beta"],
        "targets": [{"capability": "postgresql", "version": "15", "property": "pg_version",
                     "requirement": "postgresql >= 15"}],
        "requires": ["rabbitmq >= 2.8"], "properties": {"pg_version": "15"}, "tags": ["odoo"]}
    assert builders["ui"]["targets"] == [{"capability": "postgresql", "version": "not-used",
                                          "property": "pg_version",
                                          "requirement": "postgresql not-used"}]
    assert data["unassigned"][1] == {"build": "nothing-fits", "file": "buildouts/MANIFEST.cfg",
                                     "line": 26, "reason": "no worker has wkhtmltopdf"}
    workers = {w["name"]: w for w in data["workers"]}
    assert workers["gamma"]["build_only_if_requires"] == ["selenium-server"]
    assert workers["gamma"]["builders"] == ["ui"]
    assert workers["alpha"]["capabilities"]["postgresql"]["18"]["host"] == "/tmp/pg18"
    assert workers["alpha"]["max_builds"] == 2 and workers["alpha"]["worker_priority"] == 10
    assert "password" not in json.dumps(data) and "secret" not in json.dumps(data)
    assert data["problems"][1] == {
        "file": "buildouts/MANIFEST.cfg", "line": 26, "section": "nothing-fits",
        "option": None, "severity": "warning",
        "message": "no builder made: no worker has wkhtmltopdf"}


def test_plan_refuses_bad_directory(master_dir, capsys):
    write(master_dir, "workers.cfg", "[a]\n[b]\npassword = x\nmax_builds = -1\n")
    code, out, err = run(capsys, "plan", master_dir)
    assert code == 1 and out == []
    assert err == ["workers.cfg:1: a: missing required option 'password'",
                   "workers.cfg:4: b: max_builds: '-1' is out of range: from 1 to 1000",
                   "2 errors: no plan (see `buildbot-odoo check`)"]


# --------------------------------------------------------------------------
# init


def test_init_makes_a_checkable_master(tmp_path, capsys):
    target = tmp_path / "new"
    code, out, _ = run(capsys, "init", target)
    assert code == 0
    for name in ("master.cfg", "workers.cfg", "buildouts/MANIFEST.cfg", "buildouts/odoo-17.cfg"):
        assert (target / name).is_file(), name
    secret = target / "secrets" / "local-worker"
    password = secret.read_text()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(password) >= 24
    assert stat.S_IMODE((target / "secrets").stat().st_mode) == 0o700
    assert password not in "\n".join(out)
    assert f'"$(cat {secret})"' in "\n".join(out)
    # no account of any kind: the web UI is read-only (tests/integration/test_cli_command.py)
    code_lines = [line for line in (target / "master.cfg").read_text().splitlines()
                  if not line.lstrip().startswith("#")]
    assert not [line for line in code_lines if "auth" in line.lower().replace("authz", "")]
    code, out, _ = run(capsys, "check", target)
    assert code == 0, out
    code, _, err = run(capsys, "init", target)
    assert code == 1 and "use --force" in err[0]
    assert secret.read_text() == password
    code, _, _ = run(capsys, "init", target, "--force")
    assert code == 0 and secret.read_text() == password


def test_init_samples_are_commented_and_plan_shows_the_sample_build(tmp_path, capsys):
    target = tmp_path / "new"
    run(capsys, "init", target)
    for name in ("workers.cfg", "buildouts/MANIFEST.cfg"):
        text = (target / name).read_text()
        assert sum(line.startswith("#") for line in text.splitlines()) >= 10, name
    code, out, _ = run(capsys, "plan", target)
    assert code == 0
    assert out[1].split() == ["odoo-17-pg15", "postgresql", "15", "(pg_version=15)", "-",
                              "local-worker"]


def test_plan_targets_name_the_property_builders_really_have(tmp_path, capsys):
    # a capability without definition whose name is not a property name:
    # its version property is selenium_server_version, as on the builder itself
    write(tmp_path, "workers.cfg", """
        [w]
        password = x
        capability = selenium-server 2.3
        """)
    write(tmp_path, "buildouts/b.cfg", "[buildout]\n")
    write(tmp_path, "buildouts/MANIFEST.cfg", """
        [ui]
        buildout = standalone b.cfg
        build-for = selenium-server
        """)
    code, out, _ = run(capsys, "plan", tmp_path, "--format", "json")
    assert code == 0
    (builder,) = json.loads("\n".join(out))["builders"]
    assert builder["properties"] == {"selenium_server_version": "2.3"}
    assert builder["targets"] == [{"capability": "selenium-server", "version": "2.3",
                                   "property": "selenium_server_version",
                                   "requirement": "selenium-server"}]


def test_check_refuses_builder_names_too_long_for_a_worker_directory(tmp_path, capsys):
    # Buildbot names each builder's directory on the workers after the builder:
    # beyond 255 bytes no file system can make it, and every build would break
    name = "b" * 251
    write(tmp_path, "workers.cfg", "[w]\npassword = x\ncapability = postgresql 15\n")
    write(tmp_path, "buildouts/b.cfg", "[buildout]\n")
    write(tmp_path, "buildouts/MANIFEST.cfg", f"""
        [short]
        buildout = standalone b.cfg
        build-for = postgresql

        [{name}]
        buildout = standalone b.cfg
        build-for = postgresql
        """)
    code, out, _ = run(capsys, "check", tmp_path)
    assert code == 1
    assert out[:-1] == [f"buildouts/MANIFEST.cfg:5: {name}: builder name '{name}-pg15' is "
                        "longer than 255 bytes, the limit of the builder's directory name "
                        "on the workers"]


def test_init_never_overwrites_an_existing_fleet_or_manifest(tmp_path, capsys):
    # a directory with the fleet and builds already written, but no master.cfg yet
    mine = {"workers.cfg": "[mine]\npassword = secret:mine\n",
            "buildouts/MANIFEST.cfg": "[my-build]\nbuildout = standalone my.cfg\n"}
    for name, text in mine.items():
        write(tmp_path, name, text)
    code, _, err = run(capsys, "init", tmp_path)
    assert code == 1
    assert "workers.cfg" in err[0] and "use --force" in err[0]
    for name, text in mine.items():
        assert (tmp_path / name).read_text() == text
    assert not (tmp_path / "master.cfg").exists()


def test_check_refuses_a_build_name_another_build_demultiplies_into(tmp_path, capsys):
    write(tmp_path, "workers.cfg", "[w]\npassword = x\ncapability = postgresql 15\n")
    write(tmp_path, "buildouts/b.cfg", "[buildout]\n")
    write(tmp_path, "buildouts/MANIFEST.cfg", """
        [sale]
        buildout = standalone b.cfg
        build-for = postgresql

        [sale-pg15]
        buildout = standalone b.cfg
        """)
    code, out, _ = run(capsys, "check", tmp_path)
    assert code == 1
    assert out[:-1] == ["buildouts/MANIFEST.cfg:5: sale-pg15: builder name 'sale-pg15' is "
                        "also made by build 'sale'"]


def tree(directory):
    """Every path under ``directory`` (links not followed), to show nothing was made."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.mark.parametrize("force", [False, True])
def test_init_into_a_file_is_refused(tmp_path, capsys, force):
    target = write(tmp_path, "notes.txt", "mine\n")
    code, out, err = run(capsys, "init", target, *(["--force"] if force else []))
    assert code == 1 and out == []
    assert err == [f"{target}: is a file, not a directory", "nothing was written"]
    assert target.read_text() == "mine\n" and tree(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize(("make", "what"), [
    (lambda path: path.write_text("x"), "is a file, not a directory"),
    (lambda path: path.symlink_to(path.parent / "gone"), "is a broken symbolic link"),
])
@pytest.mark.parametrize("force", [False, True])
def test_init_refuses_a_secrets_path_it_cannot_use_before_writing_anything(
        tmp_path, capsys, make, what, force):
    target = tmp_path / "new"
    target.mkdir()
    make(target / "secrets")
    code, out, err = run(capsys, "init", target, *(["--force"] if force else []))
    assert code == 1 and out == []
    assert err == [f"{target / 'secrets'}: {what}", "nothing was written"]
    assert tree(target) == ["secrets"]


def test_init_refuses_a_secret_that_is_not_a_file(tmp_path, capsys):
    target = tmp_path / "new"
    (target / "secrets" / "local-worker").mkdir(parents=True)
    code, _, err = run(capsys, "init", target)
    assert code == 1
    assert err == [f"{target / 'secrets' / 'local-worker'}: is a directory, not a file",
                   "nothing was written"]
    assert tree(target) == ["secrets", "secrets/local-worker"]


def test_init_with_force_refuses_a_template_path_that_is_a_directory(tmp_path, capsys):
    target = tmp_path / "new"
    (target / "workers.cfg").mkdir(parents=True)
    code, _, err = run(capsys, "init", target, "--force")
    assert code == 1
    assert err == [f"{target / 'workers.cfg'}: is a directory, not a file", "nothing was written"]
    assert tree(target) == ["workers.cfg"]


def test_init_reports_every_obstacle_at_once(tmp_path, capsys):
    target = tmp_path / "new"
    (target / "buildouts").parent.mkdir(parents=True)
    (target / "buildouts").write_text("x")
    (target / "secrets").write_text("x")
    code, _, err = run(capsys, "init", target, "--force")
    assert code == 1
    assert err == [f"{target / 'buildouts'}: is a file, not a directory",
                   f"{target / 'secrets'}: is a file, not a directory",
                   "nothing was written"]


def test_init_undoes_what_it_made_when_a_write_fails(tmp_path):
    # a write failing half-way (here: a template file that cannot be read) leaves nothing
    from buildbot_odoo import scaffold

    source = tmp_path / "template"
    write(source, "master.cfg", "c = BuildmasterConfig = {}\n")
    write(source, "buildouts/MANIFEST.cfg", "")
    target = tmp_path / "new"
    planned = scaffold.plan(source, target, force=False)
    (source / "buildouts" / "MANIFEST.cfg").unlink()
    with pytest.raises(scaffold.InitRefused) as refused:
        scaffold.make(planned)
    assert refused.value.lines[-1] == "nothing was written"
    assert str(source / "buildouts" / "MANIFEST.cfg") in refused.value.lines[0]
    assert not target.exists()


@pytest.mark.parametrize(("statement", "message"), [
    ("sys.exit()", "master.cfg ended the program (sys.exit(None)): the master would "
                   "stop there, with no configuration"),
    ("sys.exit(0)", "master.cfg ended the program (sys.exit(0)): the master would "
                    "stop there, with no configuration"),
    ("sys.exit('bye')", "master.cfg ended the program (sys.exit('bye')): the master would "
                        "stop there, with no configuration"),
    ("raise Halt('custom')", "Halt: custom"),
])
@pytest.mark.parametrize("command", ["check", "plan"])
def test_a_master_cfg_ending_the_program_is_a_located_error(master_dir, capsys, statement,
                                                            message, command):
    write(master_dir, "master.cfg", SAMPLE_MASTER_CFG.replace(
        "conf.populate(c)", f"import sys\nclass Halt(BaseException): pass\n{statement}\n"))
    code, out, err = run(capsys, command, master_dir)
    assert code == 1
    line = SAMPLE_MASTER_CFG.splitlines().index("conf.populate(c)") + 3
    assert f"master.cfg:{line}: {message}" in (out if command == "check" else err)


def test_an_interrupted_check_says_so_and_exits_130(master_dir, capsys):
    # Ctrl-C (or a master.cfg raising KeyboardInterrupt) stops the command: no report
    write(master_dir, "master.cfg", SAMPLE_MASTER_CFG.replace(
        "conf.populate(c)", "raise KeyboardInterrupt\n"))
    code, out, err = run(capsys, "check", master_dir)
    assert (code, out, err) == (130, [], ["interrupted"])
