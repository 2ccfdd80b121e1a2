"""Push hooks of GitHub, GitLab and Gitea: the thin edge of :mod:`buildbot_odoo.watching.hooks`.

``populate`` writes, for each forge of ``conf.change_hooks``, an entry of
Buildbot's own ``c['www']['change_hook_dialects']``: the dialect is Buildbot's
(``github``, ``gitlab``) or the ``buildbot-gitea`` plugin's (``gitea``), its
``secret`` a :class:`~buildbot.process.properties.Secret` rendered by the
master's secrets providers when a request comes (so the value is in no
configuration file), and GitHub's ``strict`` is on (an unsigned request is
refused, not accepted).  The forge posts to ``<buildbotURL>change_hook/<forge>``.

Buildbot's ``custom_class`` puts :class:`PushHook` around the dialect, for
two things the dialects do not do:

* a refused request (wrong or missing signature or token, a body that is not
  a push) is answered 400 by Buildbot *without a word in the log*; here it is
  logged with the forge, the client's address and the dialect's reason,
  never the secret nor the body;
* a push of N commits is N changes in the dialects, so a build with
  ``tree-stable-timer = 0`` would run N times; builds take the tip of their
  branch, so one change per pushed branch is kept, the newest (the dialects
  list commits oldest first), with the count in its property ``pushed_commits``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from buildbot.plugins import util
from buildbot.plugins.db import get_plugins
from buildbot.www.hooks.base import BaseHookHandler
from twisted.internet import defer
from twisted.python import log

from ..errors import Problems
from ..watching.hooks import HOOKS_OPTION, MASTER_CFG, ChangeHooks, newest_per_branch

__all__ = ["PushHook", "add_change_hooks", "check_change_hooks", "dialect_options"]

DIALECTS_KEY = "change_hook_dialects"
#: where each dialect comes from, for the message when it is missing
_PROVIDERS = {"github": "buildbot", "gitlab": "buildbot",
              "gitea": "buildbot-gitea (pip install 'buildbot-odoo[gitea]')"}


class PushHook(BaseHookHandler):
    """A forge's own dialect, whose refusals are logged and pushes made one change a branch."""

    def __init__(self, master, options: Mapping[str, Any]):
        options = dict(options)
        options.pop("custom_class", None)
        self.forge = options.pop("forge")
        super().__init__(master, options)
        self.dialect = get_plugins("webhooks").get(self.forge)(master, options)

    @defer.inlineCallbacks
    def getChanges(self, request):
        try:
            changes, source = yield self.dialect.getChanges(request)
        except ValueError as exc:  # Buildbot answers 400 with the reason, and logs nothing
            client = request.getClientAddress()
            log.msg(f"change hook {self.forge}: refused a request from "
                    f"{getattr(client, 'host', client)}: {exc}")
            raise
        kept = newest_per_branch(changes)
        if kept:
            log.msg(f"change hook {self.forge}: " + "; ".join(
                f"{c.get('repository')} {c.get('branch')} at {c.get('revision')}"
                for c in kept))
        return kept, source


def dialect_options(forge: str, secret: str) -> dict[str, Any]:
    """The ``change_hook_dialects`` entry of one forge."""
    options: dict[str, Any] = {"custom_class": PushHook, "forge": forge,
                               "secret": util.Secret(secret)}
    if forge == "github":
        options["strict"] = True  # without it, a request without signature is accepted
    return options


def check_change_hooks(hooks: ChangeHooks, config: Mapping, problems: Problems) -> bool:
    """Whether ``populate`` adds the hooks; what stops it goes to ``problems`` first."""
    if not hooks:
        return False
    where = {"file": MASTER_CFG, "option": HOOKS_OPTION}
    www = config.get("www")
    if not isinstance(www, Mapping):
        problems.error("push hooks are served by Buildbot's web server: set c['www'] (with "
                       "its 'port') before populate()", **where)
        return False
    dialects = www.get(DIALECTS_KEY) or {}
    if not isinstance(dialects, Mapping):
        problems.error(f"c['www']['{DIALECTS_KEY}'] is not a dict: {dialects!r}", **where)
        return False
    good = True
    installed = get_plugins("webhooks")
    for forge in hooks.forges:
        if forge in dialects:
            problems.error(f"c['www']['{DIALECTS_KEY}'] already has {forge!r}: remove it, or "
                           f"leave {forge} out of conf.change_hooks", **where)
            good = False
        elif forge not in installed.names:
            problems.error(f"{forge}: its hook dialect is not installed: {_PROVIDERS[forge]}",
                           **where)
            good = False
    if not config.get("secretsProviders"):
        problems.warning("the hooks' secrets are read from c['secretsProviders'], which is "
                         "not set (yet): every push would be refused", **where)
    return good


def add_change_hooks(hooks: ChangeHooks, config: MutableMapping) -> None:
    """Add the forges' dialects to ``c['www']`` (after :func:`check_change_hooks`)."""
    www = config["www"]
    dialects = dict(www.get(DIALECTS_KEY) or {})
    for forge, setting in hooks.forges.items():
        dialects[forge] = dialect_options(forge, setting.secret)
    www[DIALECTS_KEY] = dialects
