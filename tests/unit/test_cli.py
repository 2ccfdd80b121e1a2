"""``buildbot-odoo init/check/plan`` on good and bad directories (SPEC 8)."""

from __future__ import annotations

import json
import shutil
import stat

import pytest

from buildbot_odoo.cli import main

from ..conftest import DATA


@pytest.fixture
def master_dir(tmp_path):
    target = tmp_path / "master"
    shutil.copytree(DATA / "master_fleet", target)
    return target


def test_check_good_directory_warns_only(master_dir, capsys):
    assert main(["check", str(master_dir)]) == 0
    out = capsys.readouterr().out
    # the nothing-fits build requires a capability no worker has: a warning, not an error
    assert "buildouts/MANIFEST.cfg:25: nothing-fits: warning: no builder made: " \
           "no worker has wkhtmltopdf" in out
    assert "buildouts/MANIFEST.cfg:12: sale-legacy: warning: no builder made: the only " \
           "workers meeting its requirements take only builds requiring their " \
           "build-only-if-requires: gamma" in out
    assert "3 workers, 6 builds, 6 builders: 0 errors, 2 warnings" in out


def test_check_reports_every_problem(master_dir, capsys):
    (master_dir / "workers.cfg").write_text(
        "[a]\ncapability = postgresql 15\n[b]\npassword = x\nmax_builds = lots\n")
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text("[x]\nbuildout = standalone sample.cfg\nbuild-for = postgresql 15\n"
                        "colour = blue\n[y]\ninherit = x\ninherit-from = z\n")
    assert main(["check", str(master_dir)]) == 1
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert "workers.cfg:1: a: missing required option 'password'" in errors
    assert "workers.cfg:5: b: max_builds: 'lots' is not a whole number" in errors
    assert any(e.startswith("buildouts/MANIFEST.cfg:3: x: build-for: ") for e in errors)
    assert any("MANIFEST.cfg:4: x: colour: warning: unknown option" in line
               for line in captured.out.splitlines())


def test_plan_table_and_json(master_dir, capsys):
    assert main(["plan", str(master_dir)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["BUILDER", "VERSIONS", "WORKERS"]
    assert any(line.split() == ["base-pg15", "postgresql", "15", "alpha,", "beta"]
               for line in lines)
    assert "nothing-fits: no worker has wkhtmltopdf" in out
    assert main(["plan", str(master_dir), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    builders = {b["name"]: b for b in data["builders"]}
    assert builders["queue-pg15"]["workers"] == ["beta"]
    assert builders["base-pg18"]["versions"] == {"postgresql": "18"}
    assert builders["ui"]["properties"] == {"pg_version": "not-used"}
    assert data["unassigned"][1] == {"build": "nothing-fits",
                                     "reason": "no worker has wkhtmltopdf"}


def test_plan_refuses_bad_directory(master_dir, capsys):
    (master_dir / "workers.cfg").write_text("[a]\n")
    assert main(["plan", str(master_dir)]) == 1
    assert "missing required option 'password'" in capsys.readouterr().err


def test_init_makes_a_checkable_master(tmp_path, capsys):
    target = tmp_path / "new"
    assert main(["init", str(target)]) == 0
    for name in ("master.cfg", "workers.cfg", "buildouts/MANIFEST.cfg", "buildouts/odoo-17.cfg"):
        assert (target / name).is_file(), name
    secret = target / "secrets" / "local-worker"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text()) >= 24
    assert "admin" not in (target / "master.cfg").read_text().lower().replace("admins", "")
    capsys.readouterr()
    assert main(["check", str(target)]) == 0
    assert main(["init", str(target)]) == 1
