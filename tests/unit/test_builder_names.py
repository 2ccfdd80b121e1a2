"""Builder names as Buildbot uses them: directories on the workers, size of the matrix."""

from __future__ import annotations

import doctest
import string
import textwrap
from pathlib import Path

from buildbot.util import safeTranslate

from buildbot_odoo import planning
from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from buildbot_odoo.planning import Plan, builder_directory, make_plan


def plan_for(tmp_path: Path, manifest: str, workers: str) -> Plan:
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest).lstrip())
    (tmp_path / "workers.cfg").write_text(textwrap.dedent(workers).lstrip())
    return make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), BUILTIN_POST_BUILDOUT_STEPS)


def errors(plan: Plan) -> list[str]:
    return [str(p) for p in plan.problems.errors]


def test_doctests():
    assert doctest.testmod(planning).failed == 0


def test_builder_directory_is_buildbots_own_rule():
    # BuilderConfig's builddir (and workerbuilddir) default to safeTranslate(name)
    for name in (string.printable, "sale+ext.17-pg15", "ventes-été", "a[b]c{d}"):
        assert builder_directory(name) == safeTranslate(name).decode("utf-8")


def test_build_names_sharing_a_directory_after_buildbots_sanitising_are_refused(tmp_path):
    plan = plan_for(tmp_path, """
        [a+b]
        buildout = standalone b.cfg

        [a.b]
        buildout = standalone b.cfg
        """, "[w]\npassword = x\n")
    assert errors(plan) == [
        "buildouts/MANIFEST.cfg:4: a.b: builder 'a.b' and builder 'a+b' (build 'a+b') would "
        "share the directory 'a_b' on the workers (Buildbot replaces characters such as "
        "'.', '+', ' ' by '_' in it): rename one of the builds"]


def test_versions_sharing_a_directory_after_buildbots_sanitising_are_refused(tmp_path):
    plan = plan_for(tmp_path, """
        [sale]
        buildout = standalone b.cfg
        build-for = postgresql >= 15
        """, """
        [w1]
        password = x
        capability = postgresql 15-a.b
        [w2]
        password = x
        capability = postgresql 15-a_b
        """)
    assert errors(plan) == [
        "buildouts/MANIFEST.cfg:3: sale: build-for: builder 'sale-pg15-a_b' and builder "
        "'sale-pg15-a.b' (build 'sale') would share the directory 'sale-pg15-a_b' on the "
        "workers (Buildbot replaces characters such as '.', '+', ' ' by '_' in it): the "
        "versions differ only by such characters"]


def wide_fleet(lines: int, versions: int) -> tuple[str, str]:
    """A worker with ``versions`` versions of ``lines`` capabilities, and a build split by all."""
    caps = "\n".join(f"    cap{i} {v}.0" for i in range(lines) for v in range(1, versions + 1))
    workers = f"[w]\npassword = x\ncapability =\n{caps}\n"
    build_for = "\n".join(f"    cap{i}" for i in range(lines))
    manifest = f"[wide]\nbuildout = standalone b.cfg\nbuild-for =\n{build_for}\n"
    return manifest, workers


def test_a_cross_product_past_the_hard_limit_is_refused_before_it_is_made(tmp_path):
    manifest, workers = wide_fleet(4, 6)  # 1296 combinations
    plan = plan_for(tmp_path, manifest, workers)
    assert errors(plan) == [
        "buildouts/MANIFEST.cfg:3: wide: build-for: would make 1296 builders (6 x 6 x 6 x 6 "
        "versions), more than the limit of 1000 per build: narrow the build-for lines "
        "with version criteria, or split the build"]
    assert plan.dispatch.builders == []


def test_six_wide_build_for_lines_do_not_hang(tmp_path):
    manifest, workers = wide_fleet(6, 10)  # a million combinations: never enumerated
    plan = plan_for(tmp_path, manifest, workers)
    assert "would make 1000000 builders (10 x 10 x 10 x 10 x 10 x 10 versions)" in \
        errors(plan)[0]


def test_a_large_cross_product_is_warned_about(tmp_path):
    manifest, workers = wide_fleet(2, 11)  # 121 builders
    plan = plan_for(tmp_path, manifest, workers)
    assert errors(plan) == []
    assert len(plan.dispatch.builders) == 121
    assert [str(p) for p in plan.problems.warnings] == [
        "buildouts/MANIFEST.cfg:3: wide: build-for: warning: makes 121 builders, more than "
        "100: is every combination needed?"]
