"""One builder's BuildFactory, assembled from subfactories in SPEC 6's order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from buildbot.process.factory import BuildFactory

from ..capability.definitions import CapabilityDef, default_definition
from ..capability.dispatch import BuilderPlan
from ..capability.resolve import CapabilityUse
from ..capability.secret_files import declares_secret_files
from ..capability.versions import Version
from ..config.workers import WorkerSpec
from .steps.capability import CapabilityEnvironment, SetCapabilityProperties, secret_file_steps
from .steps.environ_logging import secret_free_environ_logging
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


#: per worker name, the (capability, version) declarations that name a secret file
SecretDeclarations = Mapping[str, Sequence[tuple[str, Version | None]]]


def secret_declarations(workers: Iterable[WorkerSpec],
                        definitions: Mapping[str, CapabilityDef]) -> SecretDeclarations:
    """Once per plan: the workers' declarations setting a secret-file option.

    Almost every fleet has none, and builders only look their own workers up
    here, so deciding per builder stays as cheap as naming its workers.
    """
    found: dict[str, list[tuple[str, Version | None]]] = {}
    for worker in workers:
        for decl in worker.capabilities:
            definition = definitions.get(decl.name)
            options = {decl.name: [f.option for f in definition.secret_files.values()]
                       } if definition else {}
            if declares_secret_files(options, [(decl.name, decl.options)]):
                found.setdefault(worker.name, []).append((decl.name, decl.version))
    return found


def needs_secret_files(plan: BuilderPlan, used: Sequence[CapabilityDef],
                       declarations: SecretDeclarations) -> bool:
    """Whether a worker of the builder names a secret that goes to the build as a file.

    Only the declarations the builder can use count: of a capability it uses,
    and of its version when it is split by the capability.
    """
    names = {d.name for d in used if d.secret_files}
    return any(name in names and (name not in plan.versions or version == plan.versions[name])
               for worker in plan.workers for name, version in declarations.get(worker, ()))


def make_factory(configurator, plan: BuilderPlan, definitions: Mapping[str, CapabilityDef],
                 declarations: SecretDeclarations | None = None) -> BuildFactory:
    """The builder's steps; ``declarations`` (:func:`secret_declarations` of the fleet)
    tell whether secret files are needed."""
    options = BuildOptions(plan)
    used = definitions_for(plan, definitions)
    environ = CapabilityEnvironment(used)
    write_secrets, remove_secrets = (secret_file_steps(used)
                                     if needs_secret_files(plan, used, declarations or {})
                                     else ([], []))
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
    # a secret in a command's environment would be in clear in the worker's twistd.log
    factory.addSteps([secret_free_environ_logging(step) for step in steps])
    return factory
