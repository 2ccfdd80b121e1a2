"""Capability environment templates, translated to Buildbot ``Interpolate`` syntax.

The seed's templates are old ``WithProperties`` strings plus a ``cap(OPTION)``
form for the capability's own options::

    '%(cap(port):-5432)s'   -> '%(prop:cap_postgresql_port:-5432)s'
    '%(branch:-master)s'    -> '%(prop:branch:-master)s'

Anything already in Interpolate's own syntax (``%(prop:x)s``, ``%(secret:x)s``,
``%(worker:x)s``, ``%(kw:x)s``...) is left alone.  This module is plain text
work so it can be checked at configuration time, before any build runs.

An option a worker gives as ``OPTION-secret=NAME`` (``base_uri-secret=rmq-uri``)
names a Buildbot secret holding the option's value: a property would show the
value to anyone reading the REST API.  For such options the template reads an
Interpolate *keyword* named like the property instead (``%(kw:cap_rabbitmq_base_uri)s``),
which the edge binds to Buildbot's ``Secret(NAME)`` at build time, so Buildbot
redacts the value from what it logs (:func:`translate_template`'s
``secret_options``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..config.values import SECRET_SUFFIX

_NOT_IN_PROPERTY_NAME_RE = re.compile(r"[^A-Za-z0-9_]")

_CAP_RE = re.compile(r"%\(cap\((?P<option>[^()]*)\)(?P<rest>[^()]*)\)s")
_BARE_RE = re.compile(r"%\((?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<rest>:[-~+?#][^()]*)?\)s")
_ANY_RE = re.compile(r"%\(([^()]|\([^()]*\))*\)s|%%")
_OPTION_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class TemplateError(ValueError):
    """A template that Interpolate would not understand."""


def property_name(capability: str, option: str) -> str:
    """The build property holding ``option`` of ``capability``: ``cap_<name>_<option>``.

    Characters that are awkward in property names become underscores:

    >>> property_name('postgresql', 'password-secret')
    'cap_postgresql_password_secret'
    """
    return "cap_" + _NOT_IN_PROPERTY_NAME_RE.sub("_", f"{capability}_{option}")


def secret_option(option: str) -> str:
    """The option naming the Buildbot secret that holds ``option``'s value.

    >>> secret_option('base_uri')
    'base_uri-secret'
    """
    return option + SECRET_SUFFIX


def template_options(template: str) -> list[str]:
    """The capability options a template reads (``cap(OPTION)``).

    >>> template_options('%(cap(host):-localhost)s:%(cap(port):-5432)s')
    ['host', 'port']
    """
    return [match.group("option") for match in _CAP_RE.finditer(template)]


def translate_template(capability: str, template: str,
                       secret_options: Collection[str] = ()) -> str:
    """Translate ``cap(OPT)`` and bare ``%(name)s`` references for Interpolate.

    ``secret_options``: the options this worker gives by a secret's name
    (``OPT-secret=NAME``); they read the keyword :func:`property_name` names,
    never a property (no property holds their value).

    >>> translate_template('postgresql', '%(cap(port):-5432)s')
    '%(prop:cap_postgresql_port:-5432)s'
    >>> translate_template('rabbitmq', 'amqp://%(cap(host):-localhost)s/%(branch)s')
    'amqp://%(prop:cap_rabbitmq_host:-localhost)s/%(prop:branch)s'
    >>> translate_template('rabbitmq', '%(cap(base_uri):-amqp://localhost/)s', {'base_uri'})
    '%(kw:cap_rabbitmq_base_uri:-amqp://localhost/)s'
    """
    _check_balanced(template)

    def cap(match: re.Match) -> str:
        option = match.group("option")
        if not _OPTION_RE.match(option):
            raise TemplateError(f"{template!r}: {option!r} is not a capability option name")
        source = "kw" if option in secret_options else "prop"
        return f"%({source}:{property_name(capability, option)}{match.group('rest')})s"

    def bare(match: re.Match) -> str:
        return f"%(prop:{match.group('name')}{match.group('rest') or ''})s"

    return _BARE_RE.sub(bare, _CAP_RE.sub(cap, template))


def _check_balanced(template: str) -> None:
    leftover = _ANY_RE.sub("", template)
    if "%" in leftover:
        raise TemplateError(f"{template!r}: a '%' does not start a %(...)s reference "
                            "(write %% for a literal percent sign)")
