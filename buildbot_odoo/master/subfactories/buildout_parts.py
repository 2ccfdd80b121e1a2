"""Buildout parts a subfactory's tools come from, installed right before it.

A buildout often keeps its test tools (a flake8, a functional test runner)
in parts that a plain ``bin/buildout`` does not install: the developers do
not want them, the CI does.  ``functional.parts`` and ``static-analysis.parts``
name such parts; they are installed with ``bin/buildout -c CONF ... install
PART...`` -- the same settings and caches as the buildout step, under the same
lock -- before the subfactory's own steps (as anybox.buildbot.odoo did with
its ``functional.parts`` and ``static-analysis.part``); a failure says why, as
the buildout step's does (:class:`~..steps.buildout.BuildoutStep`).
"""

from __future__ import annotations

from ...config import values
from ..steps.buildout import BuildoutStep
from .base import BuildOptions
from .bootstrap import DEFAULT_BUILDOUT_TIMEOUT, buildout_command, buildout_environ, caches_lock
from .manifest_values import config_error, words


def install_parts_steps(options: BuildOptions, buildout_path: str, subfactory: str,
                        environ) -> list:
    """The step installing ``<subfactory>.parts``; nothing when the option is not set."""
    option = f"{subfactory}.parts"
    parts = words(options, option)
    for part in parts:
        try:
            values.identifier(part, "part")
        except values.InvalidValue as exc:
            config_error(options, option, str(exc))
    if not parts:
        return []
    return [BuildoutStep(
        command=[*buildout_command(options, buildout_path), "install", *parts],
        name=f"{subfactory}-parts", descriptionDone=f"installed {' '.join(parts)}",
        env=buildout_environ(options, environ), locks=caches_lock(),
        timeout=DEFAULT_BUILDOUT_TIMEOUT, haltOnFailure=True)]
