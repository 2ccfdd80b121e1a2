"""Steps whose environment holds a secret do not log it (SPEC 9).

A command's environment is written by buildbot-worker in its own
``twistd.log`` and in the step's ``stdio`` header when the step's
``logEnviron`` is on, Buildbot's default.  The master hides the secrets it
rendered (``<NAME>``) in what it stores, but the worker's log is written
before anything reaches the master, in clear.  A capability option given by a
secret's name (``base_uri-secret=rmq-uri``) puts the secret's value in the
environment of every command of the build.

:func:`secret_free_environ_logging` gives such steps a ``logEnviron`` decided
when the step runs: the step's environment is rendered and, if any value
holds a secret Buildbot rendered for this build (its ``Properties`` redact
it: ``cleanupTextFromSecrets``), the environment is not logged.  The other
steps, and every step on a worker naming no secret, keep Buildbot's default.
A step that says ``logEnviron`` itself keeps what it says.
"""

from __future__ import annotations

from collections.abc import Mapping

from buildbot.interfaces import IRenderable
from buildbot.process import buildstep
from buildbot.steps.source.base import Source
from twisted.internet import defer
from zope.interface import implementer


@implementer(IRenderable)
class LogEnvironUnlessSecret:
    """``logEnviron``: True unless the rendered ``env`` holds a secret of this build."""

    def __init__(self, env: object):
        self.env = env

    @defer.inlineCallbacks
    def getRenderingFor(self, props):
        env = yield props.render(self.env)
        return not holds_secret(props, env)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogEnvironUnlessSecret):
            return NotImplemented
        return self.env == other.env

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.env!r})"


def holds_secret(props, env: Mapping | None) -> bool:
    """Whether a value of the rendered ``env`` (a string, or a list of PATH entries)
    holds a secret rendered for this build."""
    for value in (env or {}).values():
        for text in value if isinstance(value, list | tuple) else [value]:
            if isinstance(text, str) and props.cleanupTextFromSecrets(text) != text:
                return True
    return False


def may_hold_secret(env: object) -> bool:
    """Whether ``env`` is rendered at build time (only then can it hold a secret: a plain
    string was written in master.cfg or a manifest, in clear already)."""
    if IRenderable.providedBy(env):
        return True
    return isinstance(env, Mapping) and any(IRenderable.providedBy(v) for v in env.values())


def secret_free_environ_logging(step):
    """``step``'s factory with ``logEnviron`` decided at run time when its environment may
    hold a secret; ``step`` as it is otherwise.

    The factory (what ``BuildFactory.addStep`` keeps of any step) is made
    directly, with the step's own arguments: the step is not constructed twice
    (constructing steps is most of what ``populate`` costs).
    """
    factory = buildstep.get_factory_from_step_or_factory(step)
    kwargs = getattr(factory, "kwargs", None)
    if kwargs is None or "logEnviron" in kwargs or not may_hold_secret(kwargs.get("env")):
        return step
    if issubclass(factory.step_class, buildstep.ShellMixin):
        logging = LogEnvironUnlessSecret(kwargs["env"])  # ShellMixin renders logEnviron
    elif issubclass(factory.step_class, Source):
        logging = False  # a source step takes a plain boolean
    else:
        return step
    return type(factory)(factory.step_class, *factory.args, **{**kwargs, "logEnviron": logging})
