"""Push hooks of GitHub, GitLab and Gitea on a real master (docs/scheduling.md, "Push or poll").

A real master (``buildbot start``) whose master.cfg sets ``conf.change_hooks``
for the three forges, their secrets in files read by Buildbot's
``SecretInAFile`` provider.  The pushes are real commits of local git
repositories, delivered as each forge sends them (:mod:`tests.support.forges`:
the documented payloads, headers and signatures) to ``/change_hook/<forge>``.
The manifest spells each repository otherwise than its forge does (``.git``
or not, HTTPS or scp-like SSH, another case, a mirror URL reached through a
rewrite rule): the filters match them all.

Knowing that a push scheduled nothing else uses the sentinel of
test_scheduling_e2e.py: the ``sentinel`` build watches every branch pushed
here with a tree-stable timer (3 s) longer than everyone else's (0), so once
its build request exists every other scheduler has long decided; each push
is checked to have added exactly one build request to exactly the expected
builders (plus the sentinel).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from buildbot_odoo import BuildoutsConfigurator
from tests.support.buildbot_processes import MasterProcess, Site, wait_for
from tests.support.forges import GITEA, GITHUB, GITLAB, Forge, deliver
from tests.support.repos import GitRepo

pytestmark = pytest.mark.integration

MIRROR = "file:///srv/git-mirror/"
MASTER_CFG = '''\
import os
from buildbot.plugins import secrets
from buildbot_odoo import BuildoutsConfigurator

c["secretsProviders"] = [secrets.SecretInAFile(dirname=os.path.join(basedir, "secrets"))]
conf = BuildoutsConfigurator(basedir)
conf.poll_interval = 1
conf.vcs_master_url_rewrite_rules = [("ssh://git@gitea.example.com:2222/", "{mirror}")]
conf.change_hooks = {{
    "github": {{"secret": "github-webhook", "repositories": ["https://github.com/acme/"]}},
    "gitlab": {{"secret": "gitlab-webhook",
               "repositories": ["git@gitlab.example.com:acme/deploy.git"]}},
    "gitea": {{"secret": "gitea-webhook",
              "repositories": ["https://gitea.example.com/acme", "{mirror}acme/"]}},
}}
conf.populate(c)
'''

MANIFEST = """\
[DEFAULT]
buildout = standalone b.cfg
tree-stable-timer = 0

[addons-https]
watch = git https://github.com/acme/addons.git main

[addons-scp]
watch = git git@github.com:Acme/addons main

[addons-other]
watch = git https://github.com/acme/addons/ other

[from-buildout]
buildout = git https://gitlab.example.com/acme/deploy.git main buildout.cfg

[web]
watch = git https://gitea.example.com/acme/web.git 17.0

[mirrored]
watch = git {mirror}acme/web.git 17.0

[polled]
watch = git {local} main

[sentinel]
watch = git https://github.com/acme/addons main
        git https://github.com/acme/addons other
        git https://gitlab.example.com/acme/deploy main
        git https://gitea.example.com/acme/web 17.0
tree-stable-timer = 3
"""


class Pushes:
    """The local repositories behind the forges' ones, and the secrets of the hooks."""

    def __init__(self, root: Path):
        self.repos = {"acme/addons": GitRepo(root / "addons"),
                      "acme/deploy": GitRepo(root / "deploy"),
                      "acme/web": GitRepo(root / "web", branch="17.0")}
        self.secrets = {f: secrets.token_hex(16) for f in ("github", "gitlab", "gitea")}
        self.made = 0

    def commit(self, full_name: str, branch: str, count: int = 1) -> tuple[str, str]:
        """``count`` commits on ``branch``: ``(before, after)``."""
        repo = self.repos[full_name]
        self.made += 1
        before = repo.commit(f"base{self.made}.txt", "base\n", branch=branch)
        for index in range(count):
            repo.commit(f"file{index}.txt", f"{before} {index}\n", branch=branch)
        return before, repo.head()

    def delivery(self, forge: Forge, full_name: str, branch: str, count: int = 1,
                 secret: str | None = None):
        before, after = self.commit(full_name, branch, count)
        return forge.push(self.repos[full_name].path, full_name, branch, before, after,
                          self.secrets[forge.dialect] if secret is None else secret), after


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("webhooks")
    pushes = Pushes(root / "repos")
    local = GitRepo(root / "repos" / "local")
    master = MasterProcess(root / "master")
    master.create(MASTER_CFG.format(mirror=MIRROR), {
        "workers.cfg": "[w1]\npassword = never-connects\n",
        "buildouts/b.cfg": "[buildout]\n",
        "buildouts/MANIFEST.cfg": MANIFEST.format(mirror=MIRROR, local=local.url)})
    for forge, value in pushes.secrets.items():
        path = master.write(f"secrets/{forge}-webhook", value)
        path.chmod(0o600)
    (master.directory / "secrets").chmod(0o700)
    with Site(root, master):
        yield master, pushes, local


def push(master: MasterProcess, delivery) -> tuple[int, str]:
    return deliver(master.url, delivery)


def scheduled_by(master: MasterProcess, *deliveries) -> dict[str, int]:
    """Deliver ``deliveries`` (each must be accepted); the build requests they added,
    once the sentinel has one more."""
    before = master.api.build_request_counts()
    for delivery in deliveries:
        status, body = push(master, delivery)
        # one change per pushed branch, however many commits (Buildbot writes the body
        # before it sets its 202, so the status is 200)
        assert (status, body) == (200, "1 change found")
    wait_for(lambda: master.api.build_request_counts()["sentinel"] > before["sentinel"],
             "the sentinel's build request", 90)
    after = master.api.build_request_counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def change_count(master: MasterProcess) -> int:
    changes = master.api.get("/changes?order=-changeid&limit=1")["changes"]
    return changes[0]["changeid"] if changes else 0


def test_hooked_repositories_have_no_poller_and_the_others_keep_theirs(site):
    master, _, local = site
    assert master.api.names("changesources") == {f"git {local.url} main"}
    watch = BuildoutsConfigurator(master.directory).load().watch
    assert watch.trigger_of("polled") == "poll"


def test_github_push_of_three_commits_builds_its_watchers_once_each(site):
    master, pushes, _ = site
    delivery, head = pushes.delivery(GITHUB, "acme/addons", "main", count=3)
    # two spellings of the repository, neither the one GitHub sends
    assert scheduled_by(master, delivery) == {"addons-https": 1, "addons-scp": 1,
                                              "sentinel": 1}
    change = master.api.latest_change()
    assert (change["repository"], change["branch"], change["revision"]) == (
        "https://github.com/acme/addons", "main", head)
    assert change["properties"]["pushed_commits"] == [3, "Change"]


def test_gitlab_push_builds_the_build_of_that_buildout_location(site):
    master, pushes, _ = site
    delivery, head = pushes.delivery(GITLAB, "acme/deploy", "main", count=2)
    assert scheduled_by(master, delivery) == {"from-buildout": 1, "sentinel": 1}
    change = master.api.latest_change()
    assert (change["repository"], change["revision"]) == (
        "git@gitlab.example.com:acme/deploy.git", head)


def test_gitea_push_builds_its_watchers_also_through_a_rewrite_rule(site):
    master, pushes, _ = site
    delivery, head = pushes.delivery(GITEA, "acme/web", "17.0", count=2)
    assert scheduled_by(master, delivery) == {"web": 1, "mirrored": 1, "sentinel": 1}
    change = master.api.latest_change()
    assert (change["repository"], change["revision"]) == (
        "ssh://git@gitea.example.com:2222/acme/web.git", head)


def test_push_to_another_branch_triggers_nothing_of_the_others(site):
    master, pushes, _ = site
    unwatched, _ = pushes.delivery(GITHUB, "acme/addons", "feature")
    other, _ = pushes.delivery(GITHUB, "acme/addons", "other")
    # the unwatched branch's change comes first: when the sentinel has decided on the
    # second, every scheduler has seen the first
    assert scheduled_by(master, unwatched, other) == {"addons-other": 1, "sentinel": 1}


@pytest.mark.parametrize("forge", [GITHUB, GITLAB, GITEA], ids=lambda f: f.dialect)
def test_wrong_signature_is_refused_and_logged_without_the_secret(site, forge):
    master, pushes, _ = site
    full_name = {"github": "acme/addons", "gitlab": "acme/deploy", "gitea": "acme/web"}
    branch = "17.0" if forge is GITEA else "main"
    wrong = "not-" + pushes.secrets[forge.dialect]
    delivery, _ = pushes.delivery(forge, full_name[forge.dialect], branch, secret=wrong)
    before = change_count(master)
    status, _ = push(master, delivery)
    assert status == 400
    assert change_count(master) == before  # the hook answers once it has added its changes
    line = f"change hook {forge.dialect}: refused a request from 127.0.0.1: "
    wait_for(lambda: line in master.log.read_text(), "the refusal in the master's log", 30)
    log = master.log.read_text()
    assert all(value not in log for value in pushes.secrets.values())
    assert wrong not in log


def test_unsigned_github_push_is_refused(site):
    master, pushes, _ = site
    delivery, _ = pushes.delivery(GITHUB, "acme/addons", "main")
    for header in ("X-Hub-Signature", "X-Hub-Signature-256"):
        del delivery.headers[header]
    before = change_count(master)
    status, body = push(master, delivery)
    assert (status, change_count(master)) == (400, before), body
    assert "refused a request from 127.0.0.1: Request has no required signature" in \
        master.log.read_text()
