"""The worker script odoo_dependencies.py's database commands on a real PostgreSQL:
``copy`` (the testing database from the template, mail servers off, the filestore
linked) and ``discard`` (the final clean-up; the template dropped only when stale).

The script runs as the worker runs it: ``python3 - COMMAND ...`` with the script on
its standard input and libpq's environment naming the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildbot_odoo.master.subfactories.retrieval import worker_script
from tests.support.postgres import PgServer, quote_literal

pytest_plugins = ["tests.support.pg_fixtures"]

SCRIPT = Path(worker_script("odoo_dependencies.py")).read_text()
PREFIX = "odoo-dependencies: "


def run_script(pg: PgServer, *arguments: str) -> dict:
    done = subprocess.run([sys.executable, "-", *arguments], input=SCRIPT, text=True,
                          capture_output=True, env=pg.client_env(), timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    assert lines, done.stdout + done.stderr
    outcome = json.loads(lines[-1][len(PREFIX):])
    assert done.returncode == 0, (outcome, done.stderr)
    return outcome


def exists(pg: PgServer, name: str) -> bool:
    return pg.psql(f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(name)}") == "1"


@pytest.fixture
def template(pg_server: PgServer, tmp_path: Path) -> Iterator[str]:
    """A database holding an active outgoing mail server, made a template as the
    dependencies step leaves it, with a filestore of one file."""
    name = f"bbo-script-{uuid.uuid4().hex[:12]}-deps"
    pg_server.psql(f'CREATE DATABASE "{name}"')
    pg_server.psql("CREATE TABLE ir_mail_server (id serial, active boolean);"
                   "INSERT INTO ir_mail_server (active) VALUES (true);", dbname=name)
    pg_server.psql(f"COMMENT ON DATABASE \"{name}\" IS "
                   f"{quote_literal('buildbot-odoo dependencies ' + json.dumps({'key': 'k1'}))}")
    store = tmp_path / "data" / "filestore" / name / "ab"
    store.mkdir(parents=True)
    (store / "abcdef").write_text("an attachment")
    yield name
    if exists(pg_server, name):
        pg_server.psql(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
        pg_server.psql(f'DROP DATABASE "{name}"')


def test_copy_makes_the_testing_database_with_mail_off_and_the_filestore_linked(
        pg_server: PgServer, template: str, tmp_path: Path):
    testing = template.replace("-deps", "-test")
    data = tmp_path / "data"
    for _ in range(2):  # the second copy replaces the first
        outcome = run_script(pg_server, "copy", "--testing", testing, "--template", template,
                             "--data-dir", str(data))
        assert outcome == {"testing": testing, "source": template}
        assert pg_server.psql("SELECT active FROM ir_mail_server", dbname=testing) == "f"
    # the template itself keeps its mail server: only the copy is tamed
    assert pg_server.psql("SELECT active FROM ir_mail_server", dbname=template) == "t"
    copied = data / "filestore" / testing / "ab" / "abcdef"
    original = data / "filestore" / template / "ab" / "abcdef"
    assert copied.read_text() == "an attachment"
    assert copied.stat().st_ino == original.stat().st_ino  # linked, not copied
    run_script(pg_server, "discard", "--testing", testing, "--data-dir", str(data))
    assert not exists(pg_server, testing) and not copied.exists()


def test_discard_keeps_a_current_template_and_drops_a_stale_one(
        pg_server: PgServer, template: str, tmp_path: Path):
    data = str(tmp_path / "data")
    # without a key (the build reused or made the template), it is not even looked at
    outcome = run_script(pg_server, "discard", "--template", template, "--key=",
                         "--data-dir", data)
    assert outcome == {"dropped": []} and exists(pg_server, template)
    # the build's key is the template's: kept
    run_script(pg_server, "discard", "--template", template, "--key=k1", "--data-dir", data)
    assert exists(pg_server, template)
    # another key: the new template could not be made, the stale one goes
    pg_server.psql(f'ALTER DATABASE "{template}" IS_TEMPLATE true')
    outcome = run_script(pg_server, "discard", "--template", template, "--key=k2",
                         "--data-dir", data)
    assert outcome == {"dropped": [template]} and not exists(pg_server, template)
    assert not (tmp_path / "data" / "filestore" / template).exists()
