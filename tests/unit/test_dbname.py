"""The testing database name rule (SPEC 6): safe, within 63 bytes, unique per builder."""

from __future__ import annotations

import itertools
import re

import pytest

from buildbot_odoo import dbname
from buildbot_odoo.dbname import MAX_IDENTIFIER_BYTES

SAFE = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")


def test_plain_names_are_kept_as_they_are():
    assert dbname.testing_db_name("odoo_buildbot", "sale-pg15") == "odoo_buildbot-sale-pg15"
    assert dbname.testing_db_name("", "sale") == "sale"
    assert dbname.testing_db_name(None, "sale") == "sale"


@pytest.mark.parametrize(("prefix", "builder"), [
    ("CI", "Sale-pg15"),
    ("ci", "sale-pg9.2devel"),
    ("ci team", "sale+stock"),
    ("-x", "sale"),
    ("é", "ventes-pg15"),
    ("ci", "x" * 200),
    ("ci" * 40, "sale"),
])
def test_names_are_safe_and_short(prefix, builder):
    name = dbname.testing_db_name(prefix, builder)
    assert SAFE.match(name), name
    assert len(name.encode("utf-8")) <= MAX_IDENTIFIER_BYTES


def test_changed_names_keep_a_readable_head():
    assert dbname.testing_db_name("ci", "Sale-pg9.2devel").startswith("ci-sale-pg9_2devel-")
    long = dbname.testing_db_name("odoo_buildbot", "very-long-" * 10 + "pg15")
    assert long.startswith("odoo_buildbot-very-long-") and len(long) == MAX_IDENTIFIER_BYTES


def test_names_that_sanitise_or_truncate_alike_stay_distinct():
    builders = ["sale.pg15", "sale_pg15", "Sale_pg15", "SALE_PG15",
                "x" * 80 + "-pg15", "x" * 80 + "-pg16", "x" * 80]
    names = [dbname.testing_db_name("ci", b) for b in builders]
    assert len(set(names)) == len(names), names


def test_the_prefix_separates_workers_databases():
    assert dbname.testing_db_name("alpha", "sale") != dbname.testing_db_name("beta", "sale")
    # the boundary between prefix and builder matters, even after sanitising
    assert dbname.testing_db_name("a.b", "c") != dbname.testing_db_name("a", "b.c")


def test_the_rule_is_stable():
    """Builds on the same worker must find the same database again."""
    assert dbname.testing_db_name("ci", "Sale-pg9.2devel") == "ci-sale-pg9_2devel-35b47e3a1780"


def test_no_collision_over_many_similar_builders():
    builders = [f"{a}{sep}pg{v}" for a, sep, v in itertools.product(
        ["sale", "Sale", "stock"], ["-", ".", "_"], ["9.2devel", "15", "18"])]
    names = {dbname.testing_db_name("odoo_buildbot", b) for b in builders}
    assert len(names) == len(builders)


def test_a_dash_in_the_prefix_cannot_make_two_workers_builders_collide():
    # prefix 'x-odoo-17' + builder 'pg15' and prefix 'x' + builder 'odoo-17-pg15'
    # both read 'x-odoo-17-pg15': the boundary must be part of the name
    assert dbname.testing_db_name("x-odoo-17", "pg15") != \
        dbname.testing_db_name("x", "odoo-17-pg15")
    assert dbname.testing_db_name("x", "odoo-17-pg15") == "x-odoo-17-pg15"  # still readable


def test_a_plain_name_never_looks_like_a_changed_one():
    # a builder whose name ends like a hash is hashed too: the two forms never meet
    changed = dbname.testing_db_name("ci", "Sale")
    digest = changed.rsplit("-", 1)[1]
    assert dbname.testing_db_name("ci", f"sale-{digest}") != changed


def test_distinct_prefix_and_builder_pairs_give_distinct_names():
    prefixes = ["x", "x-a", "x-a-b", "X", "x.a", "x_a", "", "ci-" * 30]
    builders = ["a", "a-b", "b", "a-b-c", "A-b", "a.b", "b-c", "x" * 70]
    names = {}
    for prefix, builder in itertools.product(prefixes, builders):
        name = dbname.testing_db_name(prefix, builder)
        assert name not in names, (prefix, builder, names.get(name))
        names[name] = (prefix, builder)
