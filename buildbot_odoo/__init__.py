"""buildbot-odoo: a turnkey Buildbot master for Odoo projects.

Import the entry points from here in ``master.cfg``::

    from buildbot_odoo import configure_from_buildouts
    configure_from_buildouts(basedir, BuildmasterConfig)

The configurator (and Buildbot) is imported lazily so that the pure core
(parsing, versions, dispatch) stays usable without a Buildbot import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .capability.versions import InvalidRequirement, InvalidVersion, Version, VersionFilter
from .errors import ConfigError, Problem

if TYPE_CHECKING:
    from .master.configurator import BuildoutsConfigurator, configure_from_buildouts

__all__ = [
    "BuildoutsConfigurator",
    "ConfigError",
    "InvalidRequirement",
    "InvalidVersion",
    "Problem",
    "Version",
    "VersionFilter",
    "configure_from_buildouts",
]


def __getattr__(name: str):
    if name in ("BuildoutsConfigurator", "configure_from_buildouts"):
        from .master import configurator

        return getattr(configurator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
