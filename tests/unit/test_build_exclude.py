"""``build-exclude``: combinations dropped from the ``build-for`` cross product (SPEC 5)."""

from __future__ import annotations

import doctest
import json
import textwrap

import pytest

from buildbot_odoo.capability import exclusions
from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.capability.dispatch import dispatch
from buildbot_odoo.capability.exclusions import Exclusion, parse_exclusions
from buildbot_odoo.capability.versions import InvalidRequirement, Version, parse_combination
from buildbot_odoo.cli import main
from buildbot_odoo.config.manifest import load_manifests
from buildbot_odoo.errors import Problems
from buildbot_odoo.planning import make_plan

from .test_dispatch import DEFS, build, worker

DEFS_INPUT = builtin_capabilities()
WORKERS = textwrap.dedent("""
    [old]
    password = x
    capability = postgresql 12
                 postgresql 14
                 python 3.10
                 python 3.12
    [new]
    password = x
    capability = postgresql 16
                 python 3.12
    """)


def test_doctests():
    assert doctest.testmod(exclusions).failed == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql == 12 AND python >= 3.12", ["postgresql == 12", "python >= 3.12"]),
    ("postgresql >= 12 AND < 14 AND python == 3.12", ["postgresql >= 12 < 14", "python == 3.12"]),
    ("postgresql == 12 OR == 13 and python", ["postgresql == 12 OR == 13", "python"]),
    ("postgresql >=12 AND >=13", ["postgresql >= 12 >= 13"]),
    ("postgresql", ["postgresql"]),
])
def test_combination_grammar(text, expected):
    assert [str(f) for f in parse_combination(text)] == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ("AND python", "'AND' has no requirement before it"),
    ("postgresql == 12 AND", "'AND' has no term after it"),
    ("postgresql 12 AND python", "'12' has no operator"),
    ("postgresql == 12 AND python not-used", "not-used belongs in build-for"),
])
def test_bad_combinations_quote_the_line(text, message):
    with pytest.raises(InvalidRequirement, match=message) as info:
        Exclusion.parse(text)
    assert repr(text) in str(info.value)


def test_every_bad_line_is_reported_at_once():
    with pytest.raises(ValueError) as info:
        parse_exclusions("postgresql 12\n# a comment\npython == 3.12\npython >> 3")
    assert "'postgresql 12'" in str(info.value) and "'python >> 3'" in str(info.value)


def test_lines_keep_their_offset_for_messages():
    lines = parse_exclusions("\npostgresql == 12\n; no\npython == 3.12")
    assert [(str(e), e.offset) for e in lines] == [("postgresql == 12", 1),
                                                   ("python == 3.12", 3)]


def test_matching_needs_every_requirement():
    line = Exclusion.parse("postgresql < 14 AND python == 3.10 OR == 3.11")
    assert line.matches({"postgresql": Version("12"), "python": Version("3.11")})
    assert not line.matches({"postgresql": Version("14"), "python": Version("3.11")})
    assert not line.matches({"postgresql": Version("12"), "python": Version("3.12")})
    assert not line.matches({"postgresql": Version("12")})  # python not in the combination


# --------------------------------------------------------------------------
# dispatch


def with_exclusions(spec, *lines):
    spec.build_exclude = [Exclusion.parse(line, n) for n, line in enumerate(lines)]
    return spec


def test_dispatch_drops_matching_combinations_and_records_them():
    fleet = [worker("a", "postgresql 15", "postgresql 18", "python 3.11", "python 3.12"),
             worker("b", "postgresql 18", "python 3.12")]
    spec = with_exclusions(build("s", ["postgresql", "python"]),
                           "postgresql == 18 AND python >= 3.12")
    result = dispatch([spec], fleet, DEFS)
    assert [b.name for b in result.builders] == ["s-pg15-py3.11", "s-pg15-py3.12",
                                                 "s-pg18-py3.11"]
    (excluded,) = result.excluded
    assert (excluded.name, excluded.workers, str(excluded.exclusion)) == (
        "s-pg18-py3.12", ["a", "b"], "postgresql == 18 AND python >= 3.12")
    assert excluded.versions == {"postgresql": Version("18"), "python": Version("3.12")}
    assert result.unassigned == []


def test_builds_sharing_requirements_are_excluded_each_by_their_own_lines():
    fleet = [worker("a", "postgresql 15", "postgresql 18")]
    first = with_exclusions(build("first", ["postgresql"]), "postgresql == 15")
    second = build("second", ["postgresql"])
    result = dispatch([first, second], fleet, DEFS)
    assert [b.name for b in result.builders] == ["first-pg18", "second-pg15", "second-pg18"]
    assert [e.name for e in result.excluded] == ["first-pg15"]


def test_a_build_whose_every_combination_is_excluded_is_unassigned():
    spec = with_exclusions(build("s", ["postgresql"]), "postgresql >= 10")
    result = dispatch([spec], [worker("a", "postgresql 15", "postgresql 18")], DEFS)
    assert result.builders == []
    (unassigned,) = result.unassigned
    assert unassigned.reason == ("build-exclude excludes every combination the fleet offers: "
                                 "s-pg15, s-pg18")
    assert [e.name for e in result.excluded] == ["s-pg15", "s-pg18"]


# --------------------------------------------------------------------------
# manifest, check and plan


def load(tmp_path, manifest):
    (tmp_path / "b.cfg").write_text("[buildout]\n")
    path = tmp_path / "MANIFEST.cfg"
    path.write_text(textwrap.dedent(manifest))
    problems = Problems()
    return load_manifests([(path, "MANIFEST.cfg")], problems), problems


def test_manifest_reads_the_lines(tmp_path):
    (spec,), problems = load(tmp_path, """
        [s]
        buildout = standalone b.cfg
        build-for = postgresql
                    python
        build-exclude = postgresql == 12 AND python >= 3.12
                        python == 3.10
        """)
    assert not list(problems)
    assert [str(e) for e in spec.build_exclude] == ["postgresql == 12 AND python >= 3.12",
                                                    "python == 3.10"]


def test_a_line_naming_a_capability_the_build_is_not_split_by_is_an_error(tmp_path):
    builds, problems = load(tmp_path, """
        [s]
        buildout = standalone b.cfg
        build-for = postgresql
                    wkhtmltopdf not-used
        build-exclude = postgresql == 12
                        python == 3.12 AND postgresql == 14
                        wkhtmltopdf
                        postgresql >= 12 AND 13
        """)
    assert builds == []
    assert [str(p) for p in problems] == [
        "MANIFEST.cfg:7: s: build-exclude: 'python == 3.12 AND postgresql == 14': 'python' is "
        "not a capability the build is split by (build-for splits by: postgresql)",
        "MANIFEST.cfg:8: s: build-exclude: 'wkhtmltopdf': 'wkhtmltopdf' is not-used in "
        "build-for: the build is not split by it",
        "MANIFEST.cfg:9: s: build-exclude: 'postgresql >= 12 AND 13': '13' is not a capability "
        "the build is split by (build-for splits by: postgresql); a version needs an operator "
        "before it, e.g. '>= 13'",
    ]


def test_a_bad_line_is_a_located_error(tmp_path):
    builds, problems = load(tmp_path, """
        [s]
        buildout = standalone b.cfg
        build-for = postgresql
        build-exclude = postgresql 12
        """)
    assert builds == []
    assert [str(p) for p in problems] == [
        "MANIFEST.cfg:5: s: build-exclude: Invalid combination: 'postgresql 12': Invalid "
        "requirement: 'postgresql 12': '12' has no operator (expected one of == != < <= > >= "
        "before it)"]


def master(tmp_path, manifest):
    (tmp_path / "workers.cfg").write_text(WORKERS)
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest).lstrip())
    return tmp_path


MATRIX = """
    [matrix]
    buildout = standalone b.cfg
    build-for = postgresql
                python
    build-exclude = postgresql == 12 AND python >= 3.12
                    postgresql == 9.6
                    python == 3.10 AND postgresql >= 16
    """


def test_check_warns_about_a_line_that_excludes_nothing(tmp_path):
    plan = make_plan(master(tmp_path, MATRIX), ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     DEFS_INPUT, [])
    assert [b.name for b in plan.dispatch.builders] == [
        "matrix-pg12-py3.10", "matrix-pg14-py3.10", "matrix-pg14-py3.12", "matrix-pg16-py3.12"]
    assert [str(p) for p in plan.problems] == [
        "buildouts/MANIFEST.cfg:6: matrix: build-exclude: warning: 'postgresql == 9.6' "
        "excludes nothing: no combination the fleet offers matches it (builders made: "
        "matrix-pg12-py3.10, matrix-pg14-py3.10, matrix-pg14-py3.12, matrix-pg16-py3.12)",
        # pg16 and python 3.10 are on different workers: no builder to exclude there either
        "buildouts/MANIFEST.cfg:7: matrix: build-exclude: warning: 'python == 3.10 AND "
        "postgresql >= 16' excludes nothing: no combination the fleet offers matches it "
        "(builders made: matrix-pg12-py3.10, matrix-pg14-py3.10, matrix-pg14-py3.12, "
        "matrix-pg16-py3.12)",
    ]


def test_no_warning_for_exclusions_of_a_build_no_worker_takes(tmp_path):
    plan = make_plan(master(tmp_path, """
        [nothing]
        buildout = standalone b.cfg
        build-for = postgresql >= 20
        build-exclude = postgresql == 21
        """), ["buildouts/MANIFEST.cfg"], "workers.cfg", DEFS_INPUT, [])
    assert [p.message for p in plan.problems] == [
        "no builder made: no worker has postgresql >= 20"]


def test_plan_text_and_json_show_what_was_excluded(tmp_path, capsys):
    directory = master(tmp_path, MATRIX)
    assert main(["plan", str(directory), "--no-master-cfg"]) == 0
    out = capsys.readouterr().out
    assert ("Combinations left out by build-exclude (no builder made):\n"
            "  buildouts/MANIFEST.cfg:5: matrix-pg12-py3.12 (postgresql 12, python 3.12): "
            "postgresql == 12 AND python >= 3.12\n") in out
    assert main(["plan", str(directory), "--no-master-cfg", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["excluded"] == [{
        "builder": "matrix-pg12-py3.12", "build": "matrix", "file": "buildouts/MANIFEST.cfg",
        "line": 5, "targets": [{"capability": "postgresql", "version": "12"},
                               {"capability": "python", "version": "3.12"}],
        "exclusion": "postgresql == 12 AND python >= 3.12", "workers": ["old"]}]
    assert "matrix-pg12-py3.12" not in [b["name"] for b in data["builders"]]


def test_an_inherited_line_that_excludes_nothing_names_the_build(tmp_path):
    plan = make_plan(master(tmp_path, """
        [base]
        build-for = postgresql
        build-exclude = postgresql == 9.6

        [child]
        inherit = base
        buildout = standalone b.cfg
        """), ["buildouts/MANIFEST.cfg"], "workers.cfg", DEFS_INPUT, [])
    assert [str(p) for p in plan.problems] == [
        "buildouts/MANIFEST.cfg:3: base: build-exclude: warning: 'postgresql == 9.6' excludes "
        "nothing: no combination of child the fleet offers matches it (builders made: "
        "child-pg12, child-pg14, child-pg16)"]
