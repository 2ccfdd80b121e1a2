"""Our configuration errors as Buildbot's own, at the edge.

Buildbot's loader (``buildbot.config.master.loadConfigDict``) lets its own
``ConfigErrors`` through untouched: ``buildbot checkconfig`` lists each of
its ``errors`` once under "Configuration Errors:", and ``buildbot start``
logs them the same way.  Any other exception from master.cfg is logged with
its traceback and then repeated, all messages joined, as one "error while
parsing config file".  So what ``populate`` raises is both: a
:class:`~buildbot_odoo.errors.ConfigError` for callers of ours (``problems``,
``except ConfigError``) and a Buildbot ``ConfigErrors`` with one message per
problem.
"""

from __future__ import annotations

from collections.abc import Iterable

from buildbot.config.errors import ConfigErrors

from ..errors import ConfigError, Problem


class BuildbotConfigError(ConfigError, ConfigErrors):
    """Every problem found, as ``problems`` (ours) and ``errors`` (Buildbot's)."""

    def __init__(self, problems: Iterable[Problem]):
        ConfigError.__init__(self, problems)
        ConfigErrors.__init__(self, [str(p) for p in self.problems])

    def __str__(self) -> str:
        return ConfigError.__str__(self)

    def __bool__(self) -> bool:  # ConfigErrors' is len(errors); an exception is always true
        return True


def as_buildbot_error(error: ConfigError) -> BuildbotConfigError:
    return error if isinstance(error, BuildbotConfigError) else BuildbotConfigError(
        error.problems)
