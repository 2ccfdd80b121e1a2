"""End to end: PostgreSQL and worker passwords from Buildbot secrets (SPEC 4 and 9).

A real PostgreSQL server asks for a password over TCP (scram-sha-256; its Unix
socket stays ``trust`` for the fixture's own administration).  The master's
master.cfg takes secrets from files with Buildbot's own ``SecretInAFile``:
the password of the role ``ci`` and the worker's password.  workers.cfg names
them: ``password = secret:worker-w1`` and a ``postgresql`` capability with
``host=127.0.0.1 user=ci password-secret=pg-ci``.

A forced build of the Odoo stand-in succeeds: the dependencies template, its copy, the
tests and the final drop
reached the server as ``ci`` with the password (the server's log shows the
scram-sha-256 authentications), which only the build's password file carried.
Then neither password may appear anywhere a user or an operator reads: the REST
API (build, builder, worker properties and data, step summaries), every log of
every step (with the stdio headers where Buildbot prints each command's
environment), the master's and the worker's twistd.log.  Last, the same build
with a wrong password in the secret file fails at its first database command:
the green build is not trust authentication letting everything through.

This test found that a password given as PGPASSWORD, although the master shows
``PGPASSWORD=<pg-ci>`` in the stdio headers, was in clear in the worker's
twistd.log: buildbot-worker logs every command's whole environment there.  The
``postgresql`` capability now gives libpq a password file (PGPASSFILE), see
``buildbot_odoo/capability/secret_files.py``.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS

from tests.support.buildbot_processes import FinishedBuild, Site, standin_site
from tests.support.postgres import PgInstall, PgServer, one_install_per_major

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

PG_SECRET = "pg-ci"
WORKER_SECRET = "worker-w1"
ROLE = "ci"

MASTER_CFG = """\
import os

from buildbot.plugins import secrets

from buildbot_odoo import configure_from_buildouts

c["secretsProviders"] = [secrets.SecretInAFile(dirname=os.path.join(basedir, "secrets"))]
configure_from_buildouts(basedir, c)
"""

MANIFEST_CFG = """\
[secured]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok
"""


def write_secret(directory: Path, name: str, value: str) -> None:
    """A secret file as SecretInAFile wants it: not readable by others (it refuses them)."""
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / name
    path.write_text(value)
    path.chmod(0o600)


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    """Random passwords: any occurrence of one anywhere is a leak, never a coincidence."""
    return {PG_SECRET: secrets.token_urlsafe(24), WORKER_SECRET: secrets.token_urlsafe(24)}


@pytest.fixture(scope="module")
def secured_pg(pg_installations: list[PgInstall], tmp_path_factory, passwords):
    """The newest PostgreSQL, passwords required over TCP; role ``ci`` may create databases.

    ``log_connections`` makes the server log how each connection authenticated.
    """
    install = one_install_per_major(pg_installations)[max(i.major for i in pg_installations)]
    with PgServer(install, tmp_path_factory.mktemp("pg-secured"), auth_host="scram-sha-256",
                  settings={"log_connections": "on"}) as server:
        server.create_role(ROLE, createdb=True, password=passwords[PG_SECRET])
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory, secured_pg: PgServer, passwords):
    root = tmp_path_factory.mktemp("secrets-e2e")
    capability = (f"{secured_pg.capability_line(host='127.0.0.1')} "
                  f"user={ROLE} password-secret={PG_SECRET}")
    made = standin_site(root, secured_pg, MASTER_CFG, MANIFEST_CFG,
                        password=passwords[WORKER_SECRET],
                        password_option=f"secret:{WORKER_SECRET}", capability=capability)
    for name, value in passwords.items():
        write_secret(made.master.directory / "secrets", name, value)
    with made:
        yield made


def builder_name(site: Site) -> str:
    (builder,) = [b["name"] for b in site.api.builders() if b["name"].startswith("secured-")]
    return builder


@pytest.fixture(scope="module")
def green(site: Site) -> FinishedBuild:
    return site.api.build(builder_name(site))


@pytest.fixture(scope="module")
def wrong_password(site: Site, green: FinishedBuild) -> FinishedBuild:
    """The same build once the secret file holds a wrong password (after ``green``).

    SecretInAFile reads its files when the master starts, and a reconfig keeps
    a provider whose arguments did not change: the master is restarted.  The
    worker reconnects by itself, with its (unchanged) password.
    """
    write_secret(site.master.directory / "secrets", PG_SECRET, secrets.token_urlsafe(24))
    site.master.stop()
    site.master.start()
    site.wait_connected()
    return site.api.build(builder_name(site))


def exposed_texts(site: Site, builds: list[FinishedBuild]) -> dict[str, str]:
    """Everything a user or an operator reads about these builds, by where it comes from.

    The REST API is what the web UI shows; logs are fetched raw, whole, with
    their stdio headers (the command, its working directory, its environment).
    """
    api = site.api
    texts = {path: json.dumps(api.get(path))
             for path in ("/workers", "/builders", "/buildrequests", "/buildsets")}
    for build in builds:
        buildid = build.data["buildid"]
        request = api.one("buildrequests", f"/buildrequests/{build.data['buildrequestid']}")
        for path in (f"/builds/{buildid}", f"/builds/{buildid}/properties",
                     f"/buildsets/{request['buildsetid']}/properties",
                     f"/builds/{buildid}/steps"):
            texts[path] = json.dumps(api.get(path))
        for step in api.steps(buildid):
            for log in api.get(f"/steps/{step['stepid']}/logs")["logs"]:
                texts[f"build {buildid} step {step['name']} log {log['name']}"] = api.raw(
                    f"/logs/{log['logid']}/raw")
    texts["master twistd.log"] = site.master.log.read_text(errors="replace")
    for worker in site.workers:
        texts[f"worker {worker.name} twistd.log"] = worker.log.read_text(errors="replace")
    return texts


def test_build_with_a_password_protected_role_is_green(green: FinishedBuild,
                                                       secured_pg: PgServer):
    assert green.result == SUCCESS, green.explain()
    for step in ("odoo-dependencies", "createdb", "odoo-tests", "drop-testing-database"):
        assert green.step(step)["results"] == SUCCESS, green.explain()
    assert "standin_ok" in green.log("odoo-tests", "odoo.log")
    assert not secured_pg.database_exists(green.properties["testing_db"])
    # the server authenticated role ci by its password over TCP (PostgreSQL >= 14 logs it)
    log = secured_pg.log_path.read_text(errors="replace")
    assert f'connection authenticated: identity="{ROLE}" method=scram-sha-256' in log, log[-2000:]


def test_the_worker_password_comes_from_the_secret(site: Site, green: FinishedBuild,
                                                   passwords):
    """workers.cfg says ``secret:worker-w1`` only; the worker got in with the secret's value."""
    workers_cfg = (site.master.directory / "workers.cfg").read_text()
    assert f"password = secret:{WORKER_SECRET}" in workers_cfg
    assert passwords[WORKER_SECRET] not in workers_cfg
    assert site.api.worker_connected("w1") and green.data["workerid"]


def test_the_secret_reaches_libpq_as_a_password_file(green: FinishedBuild, site: Site):
    """The commands get PGPASSFILE, a file the build wrote before and removed after them.

    The stdio header shows each command's environment as the worker sent it:
    PGPASSFILE names the file, and no PGPASSWORD is there at all.  (Had the
    password been in the environment, the master would have shown
    ``PGPASSWORD=<pg-ci>``: rendering ``Secret(NAME)`` records the value in the
    build's properties, ``Properties.useSecret``, and the master replaces it by
    ``<NAME>`` in whatever it stores; but the worker's own twistd.log keeps the
    environment in clear.)
    """
    builddir = Path(green.properties["builddir"])  # the builder's directory on the worker
    assert builddir.parent == site.workers[0].directory
    passfile = builddir / ".capability-secrets" / "postgresql-PGPASSFILE"
    names = [s["name"] for s in green.steps]
    assert names.index("capability-secrets") == names.index("capabilities") + 1, names
    assert names[-1] == "remove-capability-secrets", names
    assert green.step("capability-secrets")["results"] == SUCCESS
    assert green.step("remove-capability-secrets")["results"] == SUCCESS
    header = green.log("createdb").splitlines()
    assert f"  PGPASSFILE={passfile}" in header, header
    assert f"  PGUSER={ROLE}" in header and "  PGHOST=127.0.0.1" in header
    assert not [line for line in header if "PGPASSWORD" in line]
    # removed at the end of the build; libpq used it, so it was private (it ignores a
    # password file that others may read)
    assert not Path(passfile).exists()
    # the secret's *name* is a capability option, hence a property: that is not a leak
    assert green.properties["cap_postgresql_password_secret"] == PG_SECRET


def test_passwords_appear_nowhere(site: Site, green: FinishedBuild,
                                 wrong_password: FinishedBuild, passwords):
    texts = exposed_texts(site, [green, wrong_password])
    wrong = (site.master.directory / "secrets" / PG_SECRET).read_text()
    # the collection sees the stdio headers and the logs of both builds
    assert any("PGPASSFILE=" in text for text in texts.values())
    for build, step, log in ((green, "createdb", "stdio"), (green, "odoo-tests", "odoo.log"),
                             (wrong_password, "odoo-dependencies", "stdio")):
        assert f"build {build.data['buildid']} step {step} log {log}" in texts, sorted(texts)
    leaks = [(name, where) for name, value in {**passwords, "wrong pg": wrong}.items()
             for where, text in texts.items() if value in text]
    assert leaks == []


def test_a_wrong_password_fails_at_the_first_database_command(wrong_password: FinishedBuild):
    """The dependencies step (its psql, before createdb) is the first to connect: it stops
    the build, naming the server and libpq's reason."""
    build = wrong_password
    assert build.result == FAILURE, build.explain()
    step = build.step("odoo-dependencies")
    assert step["results"] == FAILURE, build.explain()
    names = [s["name"] for s in build.steps]
    assert "odoo-tests" not in names, names
    assert f'password authentication failed for user "{ROLE}"' in build.log("odoo-dependencies")
    assert f'password authentication failed for user "{ROLE}"' in step["state_string"]
    assert build.step("remove-capability-secrets")["results"] == SUCCESS
