"""Branch and URL values are checked in the form Buildbot finally uses (SPEC 9).

Buildbot's GitPoller strips ``refs/heads/`` from the branch it reports, and the
master's pollers and change filters use what is left: ``refs/heads/-x`` is a
valid git ref, but ``-x`` is what a command would get.  Each value is refused
at its line, whether it comes from a ``watch`` line, a ``buildout`` line, an
auto-watch file, the master's URL rewrite rules or a forced build's tag, for
git, Mercurial and Bazaar alike.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.config import values
from buildbot_odoo.config.manifest import BUILTIN_POST_BUILDOUT_STEPS
from buildbot_odoo.master.subfactories.retrieval import RequireProperties
from buildbot_odoo.planning import Plan, make_plan
from buildbot_odoo.watching.files import watch_file

REPO = "https://git.example.org/team/addons.git"


def plan_for(tmp_path: Path, manifest: str, rules=(), watch: dict | None = None) -> Plan:
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest).lstrip())
    (tmp_path / "workers.cfg").write_text("[w1]\npassword = x\ncapability = postgresql 15\n")
    for name, data in (watch or {}).items():
        path = watch_file(tmp_path, name)
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data))
    return make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), BUILTIN_POST_BUILDOUT_STEPS, rewrite_rules=rules)


def errors(plan: Plan) -> list[str]:
    return [str(p) for p in plan.problems.errors]


def test_a_watched_git_branch_that_is_an_option_once_stripped_is_refused_at_its_line(
        tmp_path):
    plan = plan_for(tmp_path, f"""
        [a]
        buildout = standalone b.cfg
        watch = git {REPO} refs/heads/-x
        """)
    assert errors(plan) == [
        "buildouts/MANIFEST.cfg:3: a: watch: 'refs/heads/-x' is used as '-x' (Buildbot "
        "strips 'refs/heads/'): '-x': a branch cannot start with '-' (it would be read as an "
        "option)"]
    assert plan.watch.pollers == []


def test_the_buildouts_own_branch_too(tmp_path):
    plan = plan_for(tmp_path, f"""
        [a]
        buildout = git {REPO} refs/heads/--upload-pack=touch b.cfg
        """)
    (error,) = errors(plan)
    assert error.startswith("buildouts/MANIFEST.cfg:2: a: buildout: ") \
        and "is used as '--upload-pack=touch'" in error, error


def test_written_with_refs_heads_a_plain_branch_is_watched_as_buildbot_reports_it(tmp_path):
    plan = plan_for(tmp_path, f"""
        [a]
        buildout = standalone b.cfg
        watch = git {REPO} refs/heads/17.0
        """)
    assert not plan.problems.errors
    assert [p.repository for p in plan.watch.pollers] == [(REPO, "17.0")]


def test_an_auto_watch_source_is_checked_as_used(tmp_path):
    data = {"format": 1, "build": "auto", "buildout": f"git {REPO} 17.0 buildout.cfg",
            "part": "odoo", "fixed": [],
            "sources": [{"vcs": "git", "url": REPO, "branch": "refs/heads/-x"}]}
    plan = plan_for(tmp_path, f"""
        [auto]
        buildout = git {REPO} 17.0 buildout.cfg
        auto-watch = true
        """, watch={"auto": data})
    (warning,) = plan.problems.warnings
    assert str(warning).startswith("watch/auto: auto: warning: unusable auto-watch data, "
                                   "skipped: sources[0]: 'refs/heads/-x' is used as '-x'")


@pytest.mark.parametrize(("vcs", "line"), [
    ("git", "git https://git.example.org/team/addons.git 17.0"),
    ("hg", "hg https://git.example.org/team/addons"),
    ("bzr", "bzr https://git.example.org/team/addons"),
])
def test_a_rewritten_url_is_checked_for_every_vcs(tmp_path, vcs, line):
    plan = plan_for(tmp_path, f"[a]\nbuildout = standalone b.cfg\nwatch = {line}\n",
                    rules=[("https://git.example.org/", "--config=x")])
    (error,) = errors(plan)
    assert error.startswith("master.cfg: vcs_master_url_rewrite_rules: the rule rewriting "
                            f"'{line.split()[1]}' makes '--config=xteam/addons"), error
    assert plan.watch.pollers == []


@pytest.mark.parametrize(("text", "vcs"), [("17.0", "git"), ("refs/heads/17.0", "git"),
                                           ("refs/heads/x", "hg"), ("stable", "hg")])
def test_names_that_are_fine_as_used(text, vcs):
    assert values.used_branch_name(text, vcs) == text


class ForcedTagTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """The tag of a gittag build comes from the force form: a git name, never an option."""

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    @defer.inlineCallbacks
    def test_a_git_tag_that_is_an_option_is_refused(self):
        self.setup_step(RequireProperties(["buildout-tag"], "why", git_tags=["buildout-tag"]))
        self.build.setProperty("buildout-tag", "--upload-pack=touch", "force")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "build property 'buildout-tag': '--upload-pack=touch': a tag cannot start with "
            "'-' (it would be read as an option): why")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_and_so_is_one_that_becomes_one_once_stripped(self):
        self.setup_step(RequireProperties(["buildout-tag"], "why", git_tags=["buildout-tag"]))
        self.build.setProperty("buildout-tag", "refs/heads/-x", "force")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "build property 'buildout-tag': 'refs/heads/-x' is used as '-x' (Buildbot strips "
            "'refs/heads/'): '-x': a tag cannot start with '-' (it would be read as an "
            "option): why")})
        yield self.run_step()
