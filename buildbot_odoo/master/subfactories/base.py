"""What every subfactory receives (SPEC 6).

A subfactory is a callable ``(configurator, options, buildout_path, environ) ->
[steps]``; it may carry ``final_cleanup_steps(configurator, options, environ) ->
[steps]``, run at the end of every build whatever happened before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...capability.dispatch import BuilderPlan
from ...config.manifest import BuildSpec


class BuildOptions(dict):
    """The build's manifest options (raw text, inheritance applied), plus parsed views.

    It is a plain ``dict`` of strings so user subfactories read it like the
    manifest they wrote; ``build`` and ``plan`` give the validated model.
    """

    def __init__(self, plan: BuilderPlan):
        super().__init__(plan.build.options)
        self.plan = plan

    @property
    def build(self) -> BuildSpec:
        return self.plan.build

    def subfactory(self, prefix: str) -> dict[str, str]:
        return self.build.subfactory_options(prefix)


SubFactory = Callable[[Any, BuildOptions, str, Any], list]
