"""Push hooks: one repository key for every spelling, the change_hooks setting, the plan's
split between pushed and polled branches, and the dialects populate() configures."""

from __future__ import annotations

import textwrap

import pytest
from buildbot.changes.changes import Change
from buildbot.process.properties import Secret

from buildbot_odoo.capability.definitions import builtin_capabilities
from buildbot_odoo.errors import Problems
from buildbot_odoo.master.configurator import BuildoutsConfigurator
from buildbot_odoo.master.hooks import PushHook
from buildbot_odoo.master.scheduling import WatchedBranchesFilter
from buildbot_odoo.planning import make_plan
from buildbot_odoo.watching.hooks import ChangeHooks, newest_per_branch
from buildbot_odoo.watching.matching import ChangeMatch
from buildbot_odoo.watching.urls import repository_key

# --- one key per repository


@pytest.mark.parametrize("url", [
    "https://github.com/acme/web",              # GitHub's push: repository.html_url
    "https://github.com/acme/web.git",          # clone_url, and how manifests say it
    "git@github.com:acme/web.git",              # ssh_url; GitLab's repository.url form
    "git@github.com:Acme/Web",
    "ssh://git@github.com/acme/web.git",
    "ssh://git@github.com:2222/acme/web.git",   # Gitea's ssh_url on another SSH port
    "git://github.com/acme/web.git",            # GitHub's git_url
    "https://token@github.com/acme/web.git/",
    "https://github.com//acme/web.git",
])
def test_every_forge_spelling_of_a_repository_has_one_key(url):
    assert repository_key(url) == "github.com/acme/web"


def test_other_repositories_and_local_paths_keep_their_own_keys():
    assert repository_key("https://github.com/acme/web2") != "github.com/acme/web"
    assert repository_key("https://gitlab.com/acme/web") != "github.com/acme/web"
    assert repository_key("file:///srv/Web.git") == repository_key("/srv/Web") == "/srv/Web"
    assert repository_key("/srv/web") != repository_key("/srv/Web")  # file systems: case


# --- change_hooks


def parsed(raw) -> tuple[ChangeHooks, Problems]:
    problems = Problems()
    return ChangeHooks.parse(raw, problems), problems


def test_change_hooks_name_a_secret_and_the_repositories_each_forge_pushes():
    hooks, problems = parsed({
        "github": {"secret": "github-webhook", "repositories": ["https://github.com/acme/"]},
        "gitlab": {"secret": "gl", "repositories": ["git@gitlab.example.com:acme/deploy.git"]},
        "gitea": {"secret": "gt", "repositories": ["https://gitea.example.com"]}})
    assert not list(problems)
    assert hooks.forge_of(["git@github.com:acme/web.git"]) == "github"
    assert hooks.forge_of(["https://github.com/acme-other/web"]) is None
    assert hooks.forge_of(["https://gitlab.example.com/acme/deploy"]) == "gitlab"
    assert hooks.forge_of(["https://gitlab.example.com/acme/other"]) is None
    assert hooks.forge_of(["ssh://git@gitea.example.com:2222/x/y.git"]) == "gitea"


@pytest.mark.parametrize(("raw", "message"), [
    (["github"], "must be a dict of forge name"),
    ({"githb": {}}, "'githb' is not a forge whose push hook the master takes (one of "
                    "github, gitlab, gitea) (did you mean 'github'?)"),
    ({"github": {"repositories": ["https://github.com/"]}}, "github: 'secret' must name a "
                                                             "Buildbot secret"),
    ({"github": {"secret": "s3cr3t value", "repositories": ["https://github.com/"]}},
     "never in master.cfg"),
    ({"github": {"secret": "gh"}}, "github: 'repositories' must be a non-empty list"),
    ({"github": {"secret": "gh", "repositories": "https://github.com/"}},
     "'repositories' must be a non-empty list"),
    ({"github": {"secret": "gh", "repositories": ["https://github.com/a"]},
      "gitea": {"secret": "gt", "repositories": ["git@github.com:a.git"]}},
     "gitea: 'git@github.com:a.git' is also pushed by github"),
])
def test_bad_change_hooks_are_located_errors(raw, message):
    _, problems = parsed(raw)
    errors = [str(p) for p in problems.errors]
    assert any(message in e for e in errors), errors
    assert all(e.startswith("master.cfg: change_hooks: ") for e in errors), errors


def test_unknown_keys_of_a_forge_are_warned_about():
    hooks, problems = parsed({"github": {"secret": "gh", "repositories": ["https://x/"],
                                         "secrets": "oops"}})
    assert "github" in hooks.forges
    assert [str(p) for p in problems.warnings] == [
        "master.cfg: change_hooks: warning: github: unknown key 'secrets' is ignored "
        "(known: secret, repositories) (did you mean 'secret'?)"]


def test_a_push_of_several_commits_is_one_change_per_branch():
    pushed = [{"repository": "r", "branch": "main", "revision": "a", "properties": {"x": 1}},
              {"repository": "r", "branch": "17.0", "revision": "b"},
              {"repository": "r", "branch": "main", "revision": "c"}]
    assert [(c["branch"], c["revision"], c["properties"]) for c in newest_per_branch(pushed)] \
        == [("17.0", "b", {"pushed_commits": 1}), ("main", "c", {"pushed_commits": 2})]


# --- the plan: pushed branches are not polled; spellings share one poller

MANIFEST = """
    [DEFAULT]
    buildout = standalone b.cfg
    build-for = postgresql
    [https]
    watch = git https://github.com/acme/web.git 17.0
    [scp]
    watch = git git@github.com:ACME/web 17.0
    [local]
    watch = git https://git.example.com/local.git main
            git https://git.example.com/local main
    """


def plan_of(tmp_path, **settings):
    (tmp_path / "workers.cfg").write_text("[w]\npassword = p\ncapability = postgresql 16\n")
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(MANIFEST))
    plan = make_plan(tmp_path, ["buildouts/MANIFEST.cfg"], "workers.cfg",
                     builtin_capabilities(), [], **settings)
    assert not plan.problems.errors, [str(p) for p in plan.problems]
    return plan


def test_spellings_of_one_repository_share_one_poller(tmp_path):
    watch = plan_of(tmp_path).watch
    assert [p.name for p in watch.pollers] == [
        "git git@github.com:ACME/web 17.0", "git https://git.example.com/local main"]
    assert watch.branches_of("https") == watch.branches_of("scp")


def test_pushed_repositories_are_not_polled(tmp_path):
    watch = plan_of(tmp_path, change_hooks={"github": {
        "secret": "gh", "repositories": ["https://github.com/acme"]}}).watch
    assert [p.name for p in watch.pollers] == ["git https://git.example.com/local main"]
    assert [(b.name, forge) for b, forge in watch.pushed.items()] == [
        ("git git@github.com:ACME/web 17.0", "github")]
    assert (watch.trigger_of("https"), watch.trigger_of("local")) == ("push (github)", "poll")


def test_filters_take_a_change_whatever_spelling_hook_or_poller_gives(tmp_path):
    watch = plan_of(tmp_path, rewrite_rules=[("https://git.example.com/", "/srv/mirror/")],
                    change_hooks={"github": {"secret": "gh",
                                             "repositories": ["https://github.com/acme"]}}).watch
    web = WatchedBranchesFilter(watch.match_of("scp"))
    local = WatchedBranchesFilter(watch.match_of("local"))

    def change(repository, branch, category=None):
        return Change(who="a <a@b>", files=[], comments="", repository=repository,
                      branch=branch, category=category)

    assert web.filter_change(change("https://github.com/acme/web", "17.0"))  # GitHub
    assert web.filter_change(change("git@github.com:acme/web.git", "17.0", "push"))  # GitLab
    assert not web.filter_change(change("https://github.com/acme/web", "16.0"))
    assert not web.filter_change(change("https://github.com/acme/web", "17.0", "tag"))
    assert not web.filter_change(change("https://github.com/acme/web", "17.0",
                                        "merge_request"))
    assert local.filter_change(change("/srv/mirror/local.git", "main"))  # its poller
    assert local.filter_change(change("https://git.example.com/local", "main"))
    assert not local.filter_change(change("https://git.example.com/local", "17.0"))
    # compared by value: a reconfig with the same watches keeps the scheduler
    assert WatchedBranchesFilter(watch.match_of("scp")) == web
    assert ChangeMatch.of([("a", "a", "main")]) != ChangeMatch.of([("b", "b", "main")])


# --- populate: Buildbot's dialects with the secrets from its providers

HOOKS = {"github": {"secret": "github-webhook", "repositories": ["https://github.com/acme/"]},
         "gitlab": {"secret": "gitlab-webhook", "repositories": ["https://gitlab.com/acme/"]},
         "gitea": {"secret": "gitea-webhook", "repositories": ["https://gitea.example.com/"]}}


def configurator(tmp_path) -> BuildoutsConfigurator:
    plan_of(tmp_path)
    conf = BuildoutsConfigurator(tmp_path)
    conf.change_hooks = HOOKS
    return conf


def test_populate_adds_the_dialects_with_secrets_by_name(tmp_path):
    config = {"www": {"port": 8010, "change_hook_dialects": {"base": {}}},
              "secretsProviders": ["provider"]}
    configurator(tmp_path).populate(config)
    dialects = config["www"]["change_hook_dialects"]
    assert sorted(dialects) == ["base", "gitea", "github", "gitlab"]
    for forge in HOOKS:
        assert dialects[forge]["custom_class"] is PushHook
        assert isinstance(dialects[forge]["secret"], Secret)
        assert repr(dialects[forge]["secret"]) == f"Secret({forge}-webhook)"
    assert dialects["github"]["strict"] is True
    assert [c.name for c in config["change_source"]] == [
        "git https://git.example.com/local main"]


@pytest.mark.parametrize(("config", "message"), [
    ({}, "push hooks are served by Buildbot's web server: set c['www']"),
    ({"www": {"port": 1, "change_hook_dialects": {"github": {}}}},
     "c['www']['change_hook_dialects'] already has 'github'"),
])
def test_what_stops_the_hooks_is_an_error_before_anything_is_added(tmp_path, config, message):
    conf = configurator(tmp_path)
    with pytest.raises(Exception) as raised:
        conf.populate(config)
    assert message in str(raised.value)
    assert "change_source" not in config


def test_hooks_without_secrets_providers_are_warned_about(tmp_path):
    conf = configurator(tmp_path)
    plan = conf.check()
    config = {"www": {"port": 1}}
    conf.populate(config)
    assert any("every push would be refused" in str(p) for p in conf.plan.problems.warnings)
    assert plan is not None
