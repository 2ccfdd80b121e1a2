"""Capability definitions: how a capability shows in builder names, properties and env.

A definition is plain data (SPEC 4)::

    {'version_prop': 'pg_version', 'abbrev': 'pg',
     'environ': {'PGPORT': '%(cap(port):-)s'},
     'secret_files': {'PGPASSFILE': {'option': 'password-secret', 'format': 'pgpass'}}}

``environ`` values are templates (see :mod:`.templates`).  ``secret_files``
maps a variable to the capability *option* naming a Buildbot secret: the
secret is fetched from the secrets providers at build time, written to a file
on the worker, and the variable holds the file's path (see
:mod:`.secret_files`), so passwords never become properties nor reach any log.
``secret_environ`` puts a secret's value itself in a variable: the master's
logs show ``<NAME>`` instead, but buildbot-worker's own log keeps the value,
so it suits only values the worker's host may keep in its logs.

Any option an ``environ`` template reads (``cap(base_uri)``), but for the
PATH-like variables, may be given on a worker's capability line as
``OPTION-secret=NAME`` instead (``rabbitmq 3.12 base_uri-secret=rmq-uri``): the
variable then gets the secret's value at build time, and no property holds
it (:meth:`CapabilityDef.environ_for`).  The same caveat as ``secret_environ``
holds: the worker's own log keeps the environment of the commands it runs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from .secret_files import SecretFile, parse_secret_file
from .templates import TemplateError, secret_option, template_options, translate_template

#: variables whose values are directory lists: capability values are prepended
PATH_LIKE = ("PATH", "LD_LIBRARY_PATH")
_PROP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

BUILTIN_CAPABILITIES: dict[str, dict] = {
    "postgresql": {
        "version_prop": "pg_version",
        "abbrev": "pg",
        "environ": {
            "PGPORT": "%(cap(port):-)s",
            "PGHOST": "%(cap(host):-)s",
            "PGUSER": "%(cap(user):-)s",
            "PATH": "%(cap(bin):-)s",
            "LD_LIBRARY_PATH": "%(cap(lib):-)s",
        },
        # libpq's password file, not PGPASSWORD: the worker logs environments (.secret_files)
        "secret_files": {"PGPASSFILE": {"option": "password-secret", "format": "pgpass"}},
    },
    "python": {
        "version_prop": "py_version",
        "abbrev": "py",
        "environ": {"PATH": "%(cap(bin):-)s"},
    },
    "wkhtmltopdf": {
        "version_prop": "wkhtml2pdf_version",
        "abbrev": "wkhtml2pdf",
        "environ": {"DISPLAY": "%(cap(display):-:0)s"},
    },
}


def known_options(definition: object) -> frozenset[str]:
    """The capability options a definition reads: those its ``environ`` templates
    name (``cap(OPTION)``) and those naming secrets (``secret_environ``,
    ``secret_files``).  Nothing for what is not a definition (it is reported
    by :func:`validate_definition`).

    Options a template reads outside the PATH-like variables may also be
    given by a secret's name (``OPTION-secret``, see :func:`secret_options`).

    >>> sorted(known_options(BUILTIN_CAPABILITIES['python']))
    ['bin']
    """
    if not isinstance(definition, Mapping):
        return frozenset()
    found: set[str] = {secret_option(option) for option in secret_options(definition)}
    environ, secret_environ = definition.get("environ"), definition.get("secret_environ")
    for template in (environ.values() if isinstance(environ, Mapping) else ()):
        found.update(template_options(str(template)))
    found.update(str(option) for option in (
        secret_environ.values() if isinstance(secret_environ, Mapping) else ()))
    secret_files = definition.get("secret_files")
    for value in (secret_files.values() if isinstance(secret_files, Mapping) else ()):
        try:
            found.add(parse_secret_file(value).option)
        except ValueError:
            continue
    return frozenset(found)


def secret_options(definition: object) -> frozenset[str]:
    """The options a worker may give by a secret's name (``OPTION-secret=NAME``): those the
    definition's templates read, but for PATH-like variables (a search path is no secret).

    >>> sorted(secret_options(BUILTIN_CAPABILITIES['postgresql']))
    ['host', 'port', 'user']
    """
    environ = definition.get("environ") if isinstance(definition, Mapping) else None
    if not isinstance(environ, Mapping):
        return frozenset()
    return frozenset(option for var, template in environ.items() if var not in PATH_LIKE
                     for option in template_options(str(template)))


def path_options(definition: object) -> frozenset[str]:
    """The options a definition puts in a PATH-like variable (``PATH``, ``LD_LIBRARY_PATH``).

    >>> sorted(path_options(BUILTIN_CAPABILITIES['postgresql']))
    ['bin', 'lib']
    """
    environ = definition.get("environ") if isinstance(definition, Mapping) else None
    if not isinstance(environ, Mapping):
        return frozenset()
    return frozenset(option for var, template in environ.items() if var in PATH_LIKE
                     for option in template_options(str(template)))


def builtin_capabilities() -> dict[str, dict]:
    """A fresh, editable copy of the built-in definitions."""
    return copy.deepcopy(BUILTIN_CAPABILITIES)


@dataclass(frozen=True)
class CapabilityDef:
    """A validated definition, with its templates already translated for Interpolate."""

    name: str
    version_prop: str
    abbrev: str
    environ: dict[str, str] = field(default_factory=dict)
    secret_environ: dict[str, str] = field(default_factory=dict)
    secret_files: dict[str, SecretFile] = field(default_factory=dict)
    #: ``environ`` as written (``cap(OPTION)`` untranslated), for :meth:`environ_for`
    templates: dict[str, str] = field(default_factory=dict)

    def environ_for(self, given_by_secret: Collection[str]) -> dict[str, str]:
        """``environ`` for a worker giving ``given_by_secret`` options by secrets' names.

        Those options read Interpolate keywords (bound to the secrets at the
        edge) instead of properties; PATH-like variables are left as they are.

        >>> rabbit = validate_definition('rabbitmq', {'environ': {'URI': '%(cap(uri))s'}})
        >>> rabbit.environ_for({'uri'})
        {'URI': '%(kw:cap_rabbitmq_uri)s'}
        """
        if not given_by_secret:
            return self.environ
        return {var: self.environ[var] if var in PATH_LIKE
                else translate_template(self.name, self.templates[var], given_by_secret)
                for var in self.environ}

    def secret_capable(self) -> frozenset[str]:
        """Options a worker may give by a secret's name (see :func:`secret_options`)."""
        return secret_options({"environ": self.templates})

    def secret_names(self, options: Mapping[str, str]) -> dict[str, str]:
        """The Buildbot secrets a build reads with a worker's ``options`` of this
        capability: option -> secret name (those naming a secret nothing reads are not
        read, and so not needed).

        >>> pg = validate_definition('postgresql', BUILTIN_CAPABILITIES['postgresql'])
        >>> pg.secret_names({'port': '5432', 'password-secret': 'pg15', 'user-secret': 'u'})
        {'password-secret': 'pg15', 'user-secret': 'u'}
        """
        read = {secret_option(option) for option in self.secret_capable()}
        read |= set(self.secret_environ.values())
        read |= {spec.option for spec in self.secret_files.values()}
        return {option: name for option, name in options.items() if option in read and name}


def default_definition(name: str) -> CapabilityDef:
    """What a capability nobody defined gets: no environment, names from itself."""
    prop = re.sub(r"[^A-Za-z0-9_]", "_", name) + "_version"
    return CapabilityDef(name, prop, name)


def validate_definition(name: str, definition: Mapping) -> CapabilityDef:
    """Check one definition; raise ValueError naming the capability and the bad part."""
    if not isinstance(definition, Mapping):
        raise ValueError(f"capability {name!r}: definition must be a dict, not {definition!r}")
    unknown = set(definition) - {"version_prop", "abbrev", "environ", "secret_environ",
                                 "secret_files"}
    if unknown:
        raise ValueError(f"capability {name!r}: unknown keys {sorted(unknown)}")
    fallback = default_definition(name)
    prop = definition.get("version_prop", fallback.version_prop)
    if not isinstance(prop, str) or not _PROP_RE.match(prop):
        raise ValueError(f"capability {name!r}: version_prop {prop!r} is not a property name")
    abbrev = definition.get("abbrev", fallback.abbrev)
    if not isinstance(abbrev, str) or not re.match(r"^[A-Za-z0-9_.+-]*$", abbrev):
        raise ValueError(f"capability {name!r}: abbrev {abbrev!r} is not usable in builder names")
    environ, templates = {}, {}
    for var, template in dict(definition.get("environ") or {}).items():
        _check_var(name, var)
        templates[var] = str(template)
        try:
            environ[var] = translate_template(name, str(template))
        except TemplateError as exc:
            raise ValueError(f"capability {name!r}: environ {var}: {exc}") from None
    secret_environ = {}
    for var, option in dict(definition.get("secret_environ") or {}).items():
        _check_var(name, var)
        secret_environ[var] = str(option)
    secret_files = {}
    for var, value in dict(definition.get("secret_files") or {}).items():
        _check_var(name, var)
        try:
            secret_files[var] = parse_secret_file(value)
        except ValueError as exc:
            raise ValueError(f"capability {name!r}: secret_files {var}: {exc}") from None
    clash = sorted((set(environ) | set(secret_environ)) & set(secret_files))
    if clash:
        raise ValueError(f"capability {name!r}: {', '.join(clash)} set twice (secret_files "
                         f"and environ or secret_environ)")
    return CapabilityDef(name, prop, abbrev, environ, secret_environ, secret_files, templates)


def _check_var(name: str, var: object) -> None:
    if not isinstance(var, str) or not _VAR_RE.match(var):
        raise ValueError(f"capability {name!r}: {var!r} is not an environment variable name")


def validate_definitions(definitions: Mapping[str, Mapping]) -> dict[str, CapabilityDef]:
    return {name: validate_definition(name, d) for name, d in definitions.items()}
