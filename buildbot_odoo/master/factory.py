"""One builder's BuildFactory, assembled from subfactories in SPEC 6's order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from buildbot.process.factory import BuildFactory

from ..capability.definitions import CapabilityDef, default_definition
from ..capability.dispatch import BuilderPlan
from ..capability.resolve import CapabilityUse
from ..capability.secret_files import declares_secret_files
from ..config.workers import WorkerSpec
from .steps.capability import CapabilityEnvironment, SetCapabilityProperties, secret_file_steps
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


def needs_secret_files(plan: BuilderPlan, used: Sequence[CapabilityDef],
                       workers: Sequence[WorkerSpec]) -> bool:
    """Whether a worker of the builder names a secret that goes to the build as a file.

    Only the declarations the builder can use count: those of its version when
    it is split by the capability.
    """
    options = {d.name: [f.option for f in d.secret_files.values()] for d in used}
    declared = [(decl.name, decl.options) for worker in workers if worker.name in plan.workers
                for decl in worker.capabilities
                if decl.name not in plan.versions or decl.version == plan.versions[decl.name]]
    return declares_secret_files(options, declared)


def make_factory(configurator, plan: BuilderPlan, definitions: Mapping[str, CapabilityDef],
                 workers: Sequence[WorkerSpec] = ()) -> BuildFactory:
    """The builder's steps; ``workers`` (the fleet) tell whether secret files are needed."""
    options = BuildOptions(plan)
    used = definitions_for(plan, definitions)
    environ = CapabilityEnvironment(used)
    write_secrets, remove_secrets = (secret_file_steps(used)
                                     if needs_secret_files(plan, used, workers) else ([], []))
    build = plan.build
    assert build.buildout is not None
    retrieval, buildout_path = configurator.buildout_retrievers[build.buildout.kind](
        configurator, options)
    steps = list(retrieval)
    for name in build.post_dl_steps:
        steps.extend(configurator.post_dl_steps[name](configurator, options, buildout_path,
                                                      environ))
    steps.append(SetCapabilityProperties(capability_uses(plan), dict(definitions)))
    steps.extend(write_secrets)
    steps.extend(configurator.build_steps(options, buildout_path, environ))
    steps.extend(remove_secrets)  # after the final clean-ups, which may need the password
    factory = BuildFactory()
    factory.addSteps(steps)
    return factory
