"""Testing databases two builds could share: found by check, before any build runs."""

from __future__ import annotations

import doctest
import textwrap
from pathlib import Path

import pytest

from buildbot_odoo import dbname, testing_dbs
from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from buildbot_odoo.planning import Plan, make_plan

MANIFEST = """
[sale]
buildout = standalone b.cfg
build-for = postgresql >= 15
"""


def plan_for(tmp_path: Path, workers: str, manifest: str = MANIFEST) -> Plan:
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest).lstrip())
    (tmp_path / "workers.cfg").write_text(textwrap.dedent(workers).lstrip())
    return make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), BUILTIN_POST_BUILDOUT_STEPS)


@pytest.mark.parametrize("module", [dbname, testing_dbs])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_workers_reaching_one_remote_cluster_with_one_prefix_are_refused(tmp_path):
    plan = plan_for(tmp_path, """
        [w1]
        password = x
        capability = postgresql 15 host=db.example.com
        [w2]
        password = x
        capability = postgresql 15 host=DB.example.com port=5432
        """)
    assert [str(p) for p in plan.problems.errors] == [
        "workers.cfg:4: w2: workers 'w1' and 'w2' reach the same PostgreSQL server "
        "(db.example.com:5432) with the same db_prefix 'odoo_buildbot': builds of builder "
        "'sale-pg15' on both would use, and drop, the same testing database; give each "
        "worker its own db_prefix"]


@pytest.mark.parametrize("options", [
    ("host=db.example.com", "host=db.example.com\n        db_prefix = w2"),  # other prefix
    ("host=db.example.com", "host=db.example.com port=5433"),  # other cluster
    ("host=db.example.com", "host=db2.example.com"),
    ("host=/var/run/postgresql", "host=/var/run/postgresql"),  # sockets: one per machine
    ("host=localhost", "host=localhost"),
    ("host=127.0.0.1 port=5433", "host=127.0.0.1 port=5433"),
    ("", ""),  # libpq's defaults: the worker's own machine
])
def test_workers_that_may_not_share_a_cluster_are_accepted(tmp_path, options):
    first, second = options
    plan = plan_for(tmp_path, f"""
        [w1]
        password = x
        capability = postgresql 15 {first}
        [w2]
        password = x
        capability = postgresql 15 {second}
        """)
    assert [str(p) for p in plan.problems.errors] == []


def test_a_shared_cluster_is_found_for_builders_not_split_by_postgresql(tmp_path):
    plan = plan_for(tmp_path, """
        [w1]
        password = x
        capability = postgresql 15 host=db.example.com
        [w2]
        password = x
        capability = postgresql 16 host=db.example.com
        """, manifest="""
        [sale]
        buildout = standalone b.cfg
        build-requires = postgresql >= 15
        """)
    assert [p.section for p in plan.problems.errors] == ["w2"]
    assert "builder 'sale'" in plan.problems.errors[0].message


def test_each_pair_of_workers_is_told_once(tmp_path):
    plan = plan_for(tmp_path, """
        [w1]
        password = x
        capability = postgresql 15 host=db.example.com
                     postgresql 16 host=db.example.com
        [w2]
        password = x
        capability = postgresql 15 host=db.example.com
                     postgresql 16 host=db.example.com
        """)
    (error,) = plan.problems.errors
    assert "builders 'sale-pg15', 'sale-pg16' on both" in error.message
