"""The capability step and environment: worker-local settings at build time (SPEC 4).

:class:`SetCapabilityProperties` runs early in every build: it reads the
``capability`` property of the worker that got the build, resolves each
capability the builder uses (the builder's version for build-for, the single
matching declaration for build-requires) and sets ``cap_<name>_<option>``
properties.  :class:`CapabilityEnvironment` is the ``env`` of every later
command: it renders the capability templates from those properties, prepends
PATH-like values without ever adding an empty entry, and takes passwords from
Buildbot secrets so they never become properties: a template reading
``cap(OPTION)`` gets the value of the secret a worker names with
``OPTION-secret=NAME``, rendered as Buildbot's ``Secret`` so that the master
writes ``<NAME>`` for it in every log.  Secrets that go to the
worker as files (``secret_files``, e.g. PostgreSQL's ``PGPASSFILE``) are
written by Buildbot's ``DownloadSecretsToWorker`` right after the capability
step and removed by its ``RemoveWorkerFileSecret`` at the very end, whatever
happened (:func:`secret_file_steps`); the environment names their paths.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence

from buildbot.interfaces import IRenderable
from buildbot.process import buildstep
from buildbot.process.properties import Interpolate, Secret
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS
from buildbot.steps.download_secret_to_worker import (
    DownloadSecretsToWorker,
    RemoveWorkerFileSecret,
)
from twisted.internet import defer
from zope.interface import implementer

from ...capability.definitions import PATH_LIKE, CapabilityDef, default_definition
from ...capability.resolve import CapabilityResolutionError, CapabilityUse, resolve
from ...capability.secret_files import (
    SECRET_FILES_DIR,
    SecretFile,
    file_content,
    secret_file_name,
)
from ...capability.templates import property_name, secret_option
from .secret_lookup import first_missing_secret

PROPERTY_SOURCE = "Capability"


class SetCapabilityProperties(buildstep.BuildStep):
    """Resolve the builder's capabilities on this build's worker into properties."""

    name = "capabilities"
    description = ["resolving", "capabilities"]
    descriptionDone = ["capabilities"]

    def __init__(self, uses: Sequence[CapabilityUse], definitions: dict[str, CapabilityDef],
                 **kwargs):
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.uses = list(uses)
        self.definitions = definitions
        self._summary = ""

    @defer.inlineCallbacks
    def run(self):
        worker_caps = self.getProperty("capability") or {}
        worker_name = self.getProperty("workername") or "this worker"
        lines = []
        secrets = []
        for use in self.uses:
            try:
                resolved = resolve(worker_caps, use, f"worker {worker_name}")
            except CapabilityResolutionError as exc:
                self._summary = str(exc)
                yield self.addCompleteLog("capabilities", "\n".join([*lines, str(exc)]) + "\n")
                return FAILURE
            lines.extend(self._apply(resolved.name, resolved.version, resolved.options))
            secrets += [(secret, f"{use.name} option {option} of worker {worker_name}")
                        for option, secret in self._definition(use.name).secret_names(
                            resolved.options).items()]
        missing = yield first_missing_secret(self.master, secrets)
        if missing is not None:  # else the first step reading it ends in a KeyError
            self._summary = missing
            yield self.addCompleteLog("capabilities", "\n".join([*lines, missing]) + "\n")
            return FAILURE
        yield self.addCompleteLog("capabilities", "\n".join(lines) + "\n" if lines else "none\n")
        self._summary = ", ".join(
            f"{u.name} {self.getProperty(self._definition(u.name).version_prop) or ''}".strip()
            for u in self.uses) or "none used"
        return SUCCESS

    def _definition(self, name: str) -> CapabilityDef:
        return self.definitions.get(name) or default_definition(name)

    def _apply(self, name: str, version: str | None, options: dict[str, str]) -> list[str]:
        definition = self._definition(name)
        lines = []
        if version is not None:
            self.setProperty(definition.version_prop, version, PROPERTY_SOURCE, runtime=True)
            lines.append(f"{definition.version_prop} = {version}")
        for option, value in sorted(options.items()):
            prop = property_name(name, option)
            self.setProperty(prop, value, PROPERTY_SOURCE, runtime=True)
            lines.append(f"{prop} = {value}")
        return lines

    def getResultSummary(self):
        return {"step": self._summary or "capabilities"}


@implementer(IRenderable)
class CapabilityEnvironment(Mapping):
    """The environment the capabilities give a command (SPEC 4), a read-only mapping.

    As a whole (``env=environ``) it renders to the variables that have a
    value on this build's worker.  It is also a real
    :class:`~collections.abc.Mapping` of the variables it may set, each value
    a renderable (:class:`EnvironmentVariable`), so the idioms of
    anybox.buildbot.odoo's subfactories work: ``dict(environ)``,
    ``environ.copy()``, ``{**environ, "X": "y"}``, ``dict(environ, X="y")``.
    A variable without a value on the worker then renders to the worker's
    own value (``${VAR}``), or to None -- unset -- when the worker has none:
    never an empty PATH entry, never a libpq default overridden by "".

    ``extra`` entries (plain strings or renderables) are applied last, so a
    subfactory can add its own variables on top (:meth:`with_extra`).
    """

    def __init__(self, definitions: Sequence[CapabilityDef], extra: dict | None = None):
        self.definitions = list(definitions)
        self.extra = dict(extra or {})
        names: list[str] = []
        for definition in self.definitions:
            names += [*definition.environ, *definition.secret_environ,
                      *definition.secret_files]
        self._names = tuple(dict.fromkeys([*names, *self.extra]))

    def with_extra(self, **extra: object) -> CapabilityEnvironment:
        return CapabilityEnvironment(self.definitions, {**self.extra, **extra})

    def __getitem__(self, variable: str) -> EnvironmentVariable:
        if variable not in self._names:
            raise KeyError(variable)
        return EnvironmentVariable(self, variable)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def copy(self) -> dict:
        """A plain dict of the variables (renderable values), as ``dict.copy`` gives."""
        return dict(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {', '.join(self._names) or 'empty'}>"

    def __eq__(self, other: object) -> bool:
        """Same definitions and extras: a reconfig sees an unchanged step as unchanged."""
        if not isinstance(other, CapabilityEnvironment):
            return NotImplemented
        return (self.definitions, self.extra) == (other.definitions, other.extra)

    def __hash__(self) -> int:
        return hash(self._names)

    @defer.inlineCallbacks
    def getRenderingFor(self, props):
        env: dict[str, object] = {}
        paths: dict[str, list[str]] = {var: [] for var in PATH_LIKE}
        for definition in self.definitions:
            by_secret = _options_by_secret(definition, props)
            secrets = {property_name(definition.name, option): Secret(secret_name)
                       for option, secret_name in by_secret.items()}
            for var, template in definition.environ_for(by_secret).items():
                value = yield props.render(Interpolate(template, **secrets))
                if not value:
                    continue  # an empty value adds nothing, and leaves libpq defaults alone
                if var in paths:
                    paths[var].extend(entry for entry in str(value).split(":") if entry)
                else:
                    env[var] = str(value)
            for var, option in definition.secret_environ.items():
                secret_name = props.getProperty(property_name(definition.name, option))
                if secret_name:
                    env[var] = yield props.render(Secret(secret_name))
        for definition, var, _spec, _secret in _secret_files(self.definitions, props):
            env[var] = secret_file_path(props, definition.name, var)
        worker_environ = _worker_environ(props)
        for var, entries in paths.items():
            if entries:
                existing = worker_environ.get(var) if worker_environ is not None else "x"
                env[var] = entries + ([f"${{{var}}}"] if existing else [])
        env.update(without_active_virtualenv(worker_environ or {}, env.get("PATH")))
        for var, value in self.extra.items():
            env[var] = yield props.render(value)
        return env


#: what an activated virtualenv (or a Python installation's own) sets that a build must not see
VIRTUALENV_VARIABLES = ("VIRTUAL_ENV", "PYTHONHOME")


def without_active_virtualenv(worker_environ: dict, path: list | None) -> dict:
    """Environment entries undoing a worker started from an activated virtualenv.

    worker-setup.rst's trap: the worker's ``VIRTUAL_ENV`` (and ``PYTHONHOME``)
    would reach every command, and its ``bin`` on PATH would give the build
    that virtualenv's ``python3`` and tools.  Known from the environment the
    worker reported at connection: the variables are removed (``None``), and
    PATH is given explicitly without ``$VIRTUAL_ENV/bin`` after ``path`` (the
    capability entries, ending with ``${PATH}`` when the worker has one).
    Nothing for a worker started cleanly.  (A virtualenv's ``bin`` put on PATH
    by hand is left to the user; the bootstrap never takes its Python.)

    >>> without_active_virtualenv({'PATH': '/v/bin:/usr/bin', 'VIRTUAL_ENV': '/v'}, None)
    {'VIRTUAL_ENV': None, 'PATH': ['/usr/bin']}
    >>> without_active_virtualenv({'PATH': '/usr/bin'}, ['/pg/bin', '${PATH}'])
    {}
    """
    made: dict = {var: None for var in VIRTUALENV_VARIABLES if var in worker_environ}
    active = worker_environ.get("VIRTUAL_ENV", "").rstrip("/")
    entries = [e for e in worker_environ.get("PATH", "").split(":") if e]
    kept = [e for e in entries if not active or e.rstrip("/") != f"{active}/bin"]
    if kept != entries:
        made["PATH"] = [e for e in (path or []) if e != "${PATH}"] + kept
    return made


@implementer(IRenderable)
class EnvironmentVariable:
    """One variable of a :class:`CapabilityEnvironment`, rendered at build time.

    Where the capabilities give it no value on this worker, it keeps the
    worker's own (``${VAR}``, which buildbot-worker substitutes), or is None
    -- unset -- when the worker has no such variable.
    """

    def __init__(self, environment: CapabilityEnvironment, variable: str):
        self.environment = environment
        self.variable = variable

    @defer.inlineCallbacks
    def getRenderingFor(self, props):
        env = yield self.environment.getRenderingFor(props)
        if self.variable in env:
            return env[self.variable]
        worker_environ = _worker_environ(props)
        if worker_environ is not None and self.variable not in worker_environ:
            return None
        return f"${{{self.variable}}}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.variable}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnvironmentVariable):
            return NotImplemented
        return (self.environment, self.variable) == (other.environment, other.variable)

    def __hash__(self) -> int:
        return hash(self.variable)


def _options_by_secret(definition: CapabilityDef, props) -> dict[str, str]:
    """Options this build's worker gives by a Buildbot secret's name: option -> secret name.

    ``base_uri-secret=rmq-uri`` sets the property ``cap_rabbitmq_base_uri_secret``
    (the name: not a secret); the templates reading ``cap(base_uri)`` then render
    ``Secret('rmq-uri')``, which records the value for redaction in the logs.
    """
    found = {}
    for option in definition.secret_capable():
        name = props.getProperty(property_name(definition.name, secret_option(option)))
        if name:
            found[option] = str(name)
    return found


def _secret_files(definitions: Sequence[CapabilityDef],
                  props) -> Iterator[tuple[CapabilityDef, str, SecretFile, str]]:
    """(definition, variable, file spec, secret name) of each secret file this build has."""
    for definition in definitions:
        for var, spec in definition.secret_files.items():
            secret_name = props.getProperty(property_name(definition.name, spec.option))
            if secret_name:
                yield definition, var, spec, str(secret_name)


def secret_file_path(props, capability: str, variable: str) -> str:
    """Absolute path of a secret file on the worker: commands run in several directories."""
    build = props.getBuild()
    join = getattr(build, "path_module", posixpath).join
    return join(props.getProperty("builddir"), SECRET_FILES_DIR,
                secret_file_name(capability, variable))


@implementer(IRenderable)
class CapabilitySecretFiles:
    """The ``(path, content)`` list Buildbot's secret-file steps take, for this build.

    Rendering the secret records it in the build's properties (Buildbot's
    ``Properties.useSecret``), so the master writes ``<NAME>`` in place of its
    value in any log or summary.  Without ``content``, the paths alone (for
    removal, which must not depend on the secret still being there).
    """

    def __init__(self, definitions: Sequence[CapabilityDef], content: bool = True):
        self.definitions = list(definitions)
        self.content = content

    @defer.inlineCallbacks
    def getRenderingFor(self, props):
        files = []
        for definition, var, spec, secret_name in _secret_files(self.definitions, props):
            text = None
            if self.content:
                value = yield props.render(Secret(secret_name))
                text = file_content(spec.format, value)
            files.append((secret_file_path(props, definition.name, var), text))
        return files


def secret_file_steps(definitions: Sequence[CapabilityDef]) -> tuple[list, list]:
    """Steps that write the build's secret files (after ``capabilities``) and remove them (last).

    Each is skipped, and hidden, on a worker whose capability lines name no
    secret.  The removal runs whatever happened before, even after a failure
    or an interruption.
    """
    def has_files(step) -> bool:
        return any(True for _ in _secret_files(definitions, step.build.getProperties()))

    def skipped(results, step) -> bool:
        return results == SKIPPED

    write = DownloadSecretsToWorker(
        CapabilitySecretFiles(definitions), name="capability-secrets",
        description=["writing", "secret files"], descriptionDone=["secret files"],
        doStepIf=has_files, hideStepIf=skipped, haltOnFailure=True)
    remove = RemoveWorkerFileSecret(
        CapabilitySecretFiles(definitions, content=False), name="remove-capability-secrets",
        description=["removing", "secret files"], descriptionDone=["secret files removed"],
        doStepIf=has_files, hideStepIf=skipped, alwaysRun=True)
    return [write], [remove]


def _worker_environ(props) -> dict | None:
    """The environment the worker reported at connection; None when unknown."""
    build = props.getBuild()
    worker = getattr(getattr(build, "workerforbuilder", None), "worker", None)
    environ = getattr(worker, "worker_environ", None)
    return environ if isinstance(environ, dict) else None
