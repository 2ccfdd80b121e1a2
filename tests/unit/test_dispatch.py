"""Dispatch and demultiplication (SPEC 3, 5)."""

from __future__ import annotations

from pathlib import Path

from buildbot_odoo.capability.definitions import builtin_capabilities, validate_definitions
from buildbot_odoo.capability.dispatch import dispatch
from buildbot_odoo.capability.versions import VersionFilter
from buildbot_odoo.config.manifest import BuildoutSource, BuildSpec
from buildbot_odoo.config.workers import WorkerSpec, parse_capability_line

DEFS = validate_definitions(builtin_capabilities())


def worker(name, *caps, only_if=(), priority=0.0):
    return WorkerSpec(name, "pw", [parse_capability_line(c) for c in caps],
                      build_only_if_requires=frozenset(only_if), worker_priority=priority)


def build(name, build_for=(), requires=(), category=None):
    return BuildSpec(name, "MANIFEST.cfg", 1,
                     buildout=BuildoutSource("standalone", "b.cfg", local_path=Path("/b.cfg")),
                     build_for=[VersionFilter.parse(f) for f in build_for],
                     build_requires=[VersionFilter.parse(r) for r in requires],
                     category=category)


FLEET = [
    worker("a", "postgresql 15 port=5433", "postgresql 18", "python 3.11"),
    worker("b", "postgresql 15", "python 3.12", "rabbitmq 2.8.4"),
    worker("c", "postgresql 9.2devel", "selenium-server 2.3", only_if=["selenium-server"]),
    worker("d", "postgresql 15.0"),
]


def table(result):
    return {p.name: (sorted(p.workers), p.properties) for p in result.builders}


def test_build_for_demultiplies_by_version():
    result = dispatch([build("s", ["postgresql >= 10"])], FLEET, DEFS)
    assert table(result) == {
        "s-pg15": (["a", "b", "d"], {"pg_version": "15"}),
        "s-pg18": (["a"], {"pg_version": "18"}),
    }


def test_equal_versions_written_differently_share_a_builder():
    result = dispatch([build("s", ["postgresql == 15"])], FLEET, DEFS)
    assert list(table(result)) == ["s-pg15"]


def test_cross_product_in_line_order_and_only_existing_combinations():
    result = dispatch([build("s", ["postgresql >= 15", "python"])], FLEET, DEFS)
    assert table(result) == {
        "s-pg15-py3.11": (["a"], {"pg_version": "15", "py_version": "3.11"}),
        "s-pg15-py3.12": (["b"], {"pg_version": "15", "py_version": "3.12"}),
        "s-pg18-py3.11": (["a"], {"pg_version": "18", "py_version": "3.11"}),
    }


def test_build_requires_filters_workers():
    result = dispatch([build("q", ["postgresql >= 15"], ["rabbitmq >= 2.8"])], FLEET, DEFS)
    assert table(result) == {"q-pg15": (["b"], {"pg_version": "15"})}
    assert result.builders[0].used_capabilities() == ["postgresql", "rabbitmq"]


def test_build_only_if_requires_reserves_workers():
    plain = dispatch([build("p", ["postgresql < 10"])], FLEET, DEFS)
    assert plain.builders == []
    assert "build-only-if-requires: c" in plain.unassigned[0].reason
    wanted = dispatch([build("u", ["postgresql < 10"], ["selenium-server"])], FLEET, DEFS)
    assert table(wanted) == {"u-pg9.2devel": (["c"], {"pg_version": "9.2devel"})}


def test_no_requirements_goes_to_unreserved_workers():
    result = dispatch([build("any")], FLEET, DEFS)
    assert table(result) == {"any": (["a", "b", "d"], {})}


def test_not_used():
    result = dispatch([build("n", ["postgresql not-used"])], FLEET, DEFS)
    (plan,) = result.builders
    assert plan.name == "n" and plan.properties == {"pg_version": "not-used"}
    assert sorted(plan.workers) == ["a", "b", "d"] and plan.used_capabilities() == []


def test_versionless_declaration_meets_bare_requirement_only():
    fleet = [worker("x", "wkhtmltopdf"), worker("y", "wkhtmltopdf 0.12")]
    assert table(dispatch([build("w", requires=["wkhtmltopdf"])], fleet, DEFS)) == {
        "w": (["x", "y"], {})}
    assert table(dispatch([build("w", requires=["wkhtmltopdf >= 0.1"])], fleet, DEFS)) == {
        "w": (["y"], {})}


def test_unassigned_reasons():
    result = dispatch([build("z", requires=["nothing"]),
                       build("m", ["postgresql >= 18"], ["rabbitmq"])], FLEET, DEFS)
    reasons = {u.build.name: u.reason for u in result.unassigned}
    assert reasons["z"] == "no worker has nothing"
    assert reasons["m"].startswith("no single worker meets all of")


def test_category_tag_and_unknown_capability_naming():
    fleet = [worker("r", "redis 7.2")]
    result = dispatch([build("r", ["redis >= 7"], category="cache")], fleet, DEFS)
    (plan,) = result.builders
    assert plan.name == "r-redis7.2" and plan.properties == {"redis_version": "7.2"}
    assert plan.tags == ["cache"]


def test_watch_only_sections_make_no_builder():
    spec = build("w")
    spec.buildout = None
    assert dispatch([spec], FLEET, DEFS).builders == []


def test_build_for_without_any_declared_version_is_reported_not_silently_dropped():
    # a version-less declaration meets a bare requirement, but build-for splits by
    # versions: nothing to split by must be said, like any build left without builder
    fleet = [worker("x", "postgresql", "python 3.11")]
    result = dispatch([build("s", ["postgresql"])], fleet, DEFS)
    assert result.builders == []
    (missing,) = result.unassigned
    assert missing.build.name == "s"
    assert "postgresql" in missing.reason and "version" in missing.reason


def test_cross_product_no_worker_has_is_reported():
    # each worker meets both bare lines, one with a version-less declaration each:
    # the versions exist in the fleet (pg 15, python 3.11), never on one worker
    fleet = [worker("x", "postgresql 15", "python"), worker("z", "postgresql", "python 3.11")]
    result = dispatch([build("s", ["postgresql", "python"])], fleet, DEFS)
    assert result.builders == []
    (missing,) = result.unassigned
    assert missing.reason == ("no single worker has a combination of the versions "
                              "matching: postgresql; python")


def test_not_used_is_not_a_requirement_for_reserved_workers():
    # a worker reserved for builds requiring selenium-server must not take a build
    # that says it does without selenium-server
    fleet = [worker("c", "postgresql 15", "selenium-server 2.3", only_if=["selenium-server"]),
             worker("d", "postgresql 15")]
    result = dispatch([build("n", ["selenium-server not-used", "postgresql"])], fleet, DEFS)
    assert table(result) == {"n-pg15": (["d"], {"pg_version": "15",
                                               "selenium_server_version": "not-used"})}


def test_build_requires_on_a_build_for_capability_narrows_its_versions():
    fleet = [worker("old-and-new", "postgresql 9.6", "postgresql 15"),
             worker("new", "postgresql 16")]
    result = dispatch([build("x", ["postgresql"], ["postgresql >= 15"])], fleet, DEFS)
    assert table(result) == {"x-pg15": (["old-and-new"], {"pg_version": "15"}),
                             "x-pg16": (["new"], {"pg_version": "16"})}
