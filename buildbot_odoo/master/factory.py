"""A build's BuildFactory, assembled once from subfactories in SPEC 6's order.

One factory serves all the builders of a build (one per version
combination), as Buildbot intends: what differs between them reaches the
steps at build time, from the builder running the build -- its name (the
testing database, the published documentation) and its version properties
(which declaration of the worker the capabilities step resolves).  A
subfactory that reads a per-builder value while making its steps
(``options.plan.name``: see :mod:`.subfactories.base`) gets the build one
factory per builder instead, with a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from buildbot.process.factory import BuildFactory

from ..capability.definitions import CapabilityDef, default_definition
from ..capability.dispatch import BuildBuilders, BuilderPlan
from ..capability.resolve import CapabilityUse
from ..capability.secret_files import declares_secret_files
from ..capability.versions import Version
from ..config.workers import WorkerSpec
from ..errors import Problem
from .steps.capability import CapabilityEnvironment, SetCapabilityProperties, secret_file_steps
from .steps.environ_logging import secret_free_environ_logging
from .subfactories.base import BuildOptions, BuildPlanView


def capability_uses(plan: BuilderPlan | BuildBuilders | BuildPlanView) -> list[CapabilityUse]:
    """Each capability the builders use, with its requirement or its version.

    A builder's own plan fixes the version of the capabilities its build is
    split by; for the build's shared factory (a :class:`BuildBuilders` or its
    view), that version is the builder's, read when a build runs
    (``from_builder``).
    """
    requirements = {f.name: f for f in plan.build.build_requires}
    versions = plan.versions if isinstance(plan, BuilderPlan) else None
    split = set(plan.split_by) if versions is None else set(versions)
    uses = []
    for name in plan.used_capabilities():
        if versions is not None and name in versions:
            uses.append(CapabilityUse(name, version=versions[name]))
        elif name in split:
            uses.append(CapabilityUse(name, from_builder=True))
        else:
            uses.append(CapabilityUse(name, requirement=requirements.get(name)))
    return uses


def definitions_for(plan: BuilderPlan | BuildBuilders | BuildPlanView,
                    definitions: Mapping[str, CapabilityDef]) -> list[CapabilityDef]:
    return [definitions.get(n) or default_definition(n) for n in plan.used_capabilities()]


#: per worker name, the (capability, version) declarations that name a secret file
SecretDeclarations = Mapping[str, Sequence[tuple[str, Version | None]]]


def secret_declarations(workers: Iterable[WorkerSpec],
                        definitions: Mapping[str, CapabilityDef]) -> SecretDeclarations:
    """Once per plan: the workers' declarations setting a secret-file option.

    Almost every fleet has none, and builders only look their own workers up
    here, so deciding per build stays as cheap as naming its workers.
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
    if not declarations:
        return False
    names = {d.name for d in used if d.secret_files}
    return bool(names) and any(
        name in names and (name not in plan.versions or version == plan.versions[name])
        for worker in plan.workers for name, version in declarations.get(worker, ()))


def make_factory(configurator, plan: BuilderPlan | BuildBuilders,
                 definitions: Mapping[str, CapabilityDef],
                 declarations: SecretDeclarations | None = None) -> BuildFactory:
    """The steps of a builder (its own plan) or of a build's builders (shared).

    ``declarations`` (:func:`secret_declarations` of the fleet) tell whether
    secret files are needed: a shared factory has the secret-file steps when
    a builder of the build needs them (they skip themselves, hidden, on
    workers naming no secret, as on any worker of such a builder).
    """
    options = BuildOptions(plan if isinstance(plan, BuilderPlan) else BuildPlanView(plan))
    return _assemble(configurator, options, definitions, declarations or {})


def make_build_factories(configurator, group: BuildBuilders,
                         definitions: Mapping[str, CapabilityDef],
                         declarations: SecretDeclarations | None = None,
                         ) -> tuple[list[tuple[BuilderPlan, BuildFactory]], list[Problem]]:
    """Each builder of the build with its factory: one for all, made once.

    When a subfactory read a per-builder value of ``options.plan`` (it was
    written when each builder had a factory of its own), and the build has
    several builders, each gets its own factory made with its own plan, as
    then; a warning names what was read, and by which function.  Raises
    :class:`~buildbot_odoo.errors.ConfigError` for the build's problems.
    """
    view = BuildPlanView(group)
    factory = _assemble(configurator, BuildOptions(view), definitions, declarations or {})
    if not view.per_builder_reads or len(group.builders) == 1:
        return [(builder, factory) for builder in group.builders], []
    reads = ", ".join(f"options.plan.{attribute} by {reader}"
                      for attribute, reader in dict.fromkeys(view.per_builder_reads))
    warning = Problem(
        f"a subfactory reads a builder's own value while making the steps ({reads}): each "
        f"of the {len(group.builders)} builders of the build gets a factory of its own, "
        "made and checked separately (slower to load); read it when the build runs "
        "instead, e.g. util.Property('buildername') or the version properties "
        "(docs/subfactories.md)", severity="warning", **group.build.location())
    return [(builder, make_factory(configurator, builder, definitions, declarations))
            for builder in group.builders], [warning]


def _builders_of(options: BuildOptions) -> list[BuilderPlan]:
    plan = options.plan
    return plan.builders if isinstance(plan, BuildPlanView) else [plan]


def _assemble(configurator, options: BuildOptions, definitions: Mapping[str, CapabilityDef],
              declarations: SecretDeclarations) -> BuildFactory:
    plan = options.plan
    used = definitions_for(plan, definitions)
    environ = CapabilityEnvironment(used)
    secrets = any(needs_secret_files(b, used, declarations) for b in _builders_of(options))
    write_secrets, remove_secrets = secret_file_steps(used) if secrets else ([], [])
    build = options.build
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
