"""``autocommit``: commit (and push) what the build changed in the buildout's checkout.

The usual case: the buildout freezes the versions it picked into a tracked
file (``[buildout] update-versions-file = versions.cfg``), and a nightly
build records them in the buildout's own repository.  Only ``git`` and ``hg``
buildouts have a checkout to commit to (``hgtag`` is a tag: committing on it
would make a new head); any other kind is a configuration error.

Git, with Buildbot's own steps: ``autocommit`` is ``GitCommit`` (``git add``
of ``autocommit.paths``, by default every tracked file the build changed,
then ``git commit``; nothing to commit is not an error), ``autocommit-push``
is ``GitPush`` to the buildout's URL and branch.  Mercurial: ``hg add`` of
the paths, ``hg commit`` (exit 1, nothing changed, is fine), ``hg push
--rev .``.  Paths are relative to the buildout directory; the author is
``autocommit.author``.
"""

from __future__ import annotations

import re

from buildbot.plugins import steps, util
from buildbot.process.results import SUCCESS

from .base import BuildOptions
from .manifest_values import accepts, boolean, config_error, relative_paths, text

DEFAULT_MESSAGE = "Automatic commit by buildbot-odoo"
DEFAULT_AUTHOR = "buildbot-odoo <buildbot@localhost>"
VCS_KINDS = ("git", "hg")
_AUTHOR_RE = re.compile(r"^(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>$")


def _author(options: BuildOptions) -> tuple[str, str]:
    author = text(options, "autocommit.author", DEFAULT_AUTHOR)
    match = _AUTHOR_RE.match(author)
    if match is None:
        config_error(options, "autocommit.author", f"{author!r} is not 'Name <email>'")
    return match["name"], match["email"]


def _messages(options: BuildOptions) -> list:
    """The configured message, then a line naming the build that made the commit."""
    return [text(options, "autocommit.message", DEFAULT_MESSAGE),
            util.Interpolate("Made by build %(prop:buildername)s #%(prop:buildnumber)s")]


def _git_steps(options: BuildOptions, paths: list[str], push: bool) -> list:
    """Buildbot's GitCommit and GitPush (git needs nothing from the capability environment)."""
    source = options.build.buildout
    assert source is not None
    name, email = _author(options)
    identity = {"user.name": name, "user.email": email}
    made: list = [steps.GitCommit(
        paths=["--", *paths] if paths else ["--update", "--", "."],
        messages=_messages(options), emptyCommits="ignore", config=identity,
        name="autocommit", haltOnFailure=True)]
    if push:
        made.append(steps.GitPush(repourl=source.url, branch=source.branch, config=identity,
                                  name="autocommit-push", haltOnFailure=True))
    return made


def _hg_steps(options: BuildOptions, paths: list[str], push: bool, environ) -> list:
    source = options.build.buildout
    assert source is not None
    name, email = _author(options)
    made: list = []
    if paths:
        made.append(steps.ShellCommand(command=["hg", "add", "--", *paths], env=environ,
                                       name="autocommit-add", decodeRC={0: SUCCESS, 1: SUCCESS},
                                       haltOnFailure=True))
    message = util.Interpolate("%(kw:first)s\n\n%(kw:second)s", first=_messages(options)[0],
                               second=_messages(options)[1])
    made.append(steps.ShellCommand(
        command=["hg", "commit", "--user", f"{name} <{email}>", "-m", message, "--", *paths],
        env=environ, name="autocommit", decodeRC={0: SUCCESS, 1: SUCCESS}, haltOnFailure=True))
    if push:
        made.append(steps.ShellCommand(command=["hg", "push", "--rev", ".", "--", source.url],
                                       env=environ, name="autocommit-push",
                                       decodeRC={0: SUCCESS, 1: SUCCESS}, haltOnFailure=True))
    return made


@accepts("paths", "message", "author", "push")
def autocommit(configurator, options: BuildOptions, buildout_path: str, environ) -> list:
    """Commit the build's changes to the buildout's repository, and push them if asked."""
    source = options.build.buildout
    kind = source.kind if source is not None else "none"
    if kind not in VCS_KINDS:
        config_error(options, "post-buildout-steps", f"autocommit needs a git or hg buildout "
                     f"to commit to; this build's buildout is {kind}")
    paths = relative_paths(options, "autocommit.paths", root_ok=True)
    push = boolean(options, "autocommit.push", False)
    if kind == "git":
        return _git_steps(options, paths, push)
    return _hg_steps(options, paths, push, environ)
