"""One builder's BuildFactory, assembled from subfactories in SPEC 6's order."""

from __future__ import annotations

from collections.abc import Mapping

from buildbot.process.factory import BuildFactory

from ..capability.definitions import CapabilityDef, default_definition
from ..capability.dispatch import BuilderPlan
from ..capability.resolve import CapabilityUse
from .steps.capability import CapabilityEnvironment, SetCapabilityProperties
from .subfactories.base import BuildOptions


def capability_uses(plan: BuilderPlan) -> list[CapabilityUse]:
    """Each capability the builder uses, with its fixed version or its requirement."""
    requirements = {f.name: f for f in plan.build.build_requires}
    uses = []
    for name in plan.used_capabilities():
        if name in plan.versions:
            uses.append(CapabilityUse(name, version=plan.versions[name]))
        else:
            uses.append(CapabilityUse(name, requirement=requirements.get(name)))
    return uses


def definitions_for(plan: BuilderPlan,
                    definitions: Mapping[str, CapabilityDef]) -> list[CapabilityDef]:
    return [definitions.get(n) or default_definition(n) for n in plan.used_capabilities()]


def make_factory(configurator, plan: BuilderPlan,
                 definitions: Mapping[str, CapabilityDef]) -> BuildFactory:
    options = BuildOptions(plan)
    environ = CapabilityEnvironment(definitions_for(plan, definitions))
    build = plan.build
    assert build.buildout is not None
    retrieval, buildout_path = configurator.buildout_retrievers[build.buildout.kind](
        configurator, options)
    steps = list(retrieval)
    for name in build.post_dl_steps:
        steps.extend(configurator.post_dl_steps[name](configurator, options, buildout_path,
                                                      environ))
    steps.append(SetCapabilityProperties(capability_uses(plan), dict(definitions)))
    steps.extend(configurator.build_steps(options, buildout_path, environ))
    factory = BuildFactory()
    factory.addSteps(steps)
    return factory
