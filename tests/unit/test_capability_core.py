"""Templates, definitions and build-time resolution (SPEC 4), without Buildbot."""

from __future__ import annotations

import doctest

import pytest

from buildbot_odoo.capability import definitions, resolve, templates
from buildbot_odoo.capability.definitions import validate_definition
from buildbot_odoo.capability.resolve import CapabilityResolutionError, CapabilityUse
from buildbot_odoo.capability.templates import TemplateError, translate_template
from buildbot_odoo.capability.versions import Version, VersionFilter


@pytest.mark.parametrize("module", [templates, definitions, resolve])
def test_doctests(module):
    failures, _ = doctest.testmod(module)
    assert failures == 0


@pytest.mark.parametrize(("template", "expected"), [
    ("%(cap(port):-5432)s", "%(prop:cap_postgresql_port:-5432)s"),
    ("%(cap(password-secret))s", "%(prop:cap_postgresql_password_secret)s"),
    ("%(branch:-master)s", "%(prop:branch:-master)s"),
    ("%(prop:x)s and %(secret:y)s", "%(prop:x)s and %(secret:y)s"),
    ("100%% %(cap(bin))s", "100%% %(prop:cap_postgresql_bin)s"),
    ("plain", "plain"),
])
def test_translate(template, expected):
    assert translate_template("postgresql", template) == expected


@pytest.mark.parametrize("template", ["50% off", "%(cap(bad opt))s", "%(unclosed"])
def test_translate_rejects(template):
    with pytest.raises(TemplateError):
        translate_template("postgresql", template)


def test_seed_rabbitmq_definition():
    d = validate_definition("rabbitmq", {"version_prop": "rabbitmq_version",
                                         "environ": {"RMQ_BASE_URI": "%(cap(base_uri):-)s"}})
    assert d.abbrev == "rabbitmq" and d.version_prop == "rabbitmq_version"
    assert d.environ == {"RMQ_BASE_URI": "%(prop:cap_rabbitmq_base_uri:-)s"}


@pytest.mark.parametrize(("definition", "needle"), [
    ({"version_prop": "bad prop"}, "version_prop"),
    ({"environ": {"1BAD": "x"}}, "not an environment variable name"),
    ({"environ": {"X": "50%"}}, "environ X"),
    ({"colour": "blue"}, "unknown keys"),
])
def test_bad_definitions(definition, needle):
    with pytest.raises(ValueError, match=needle):
        validate_definition("thing", definition)


CAPS = {"postgresql": {"15": {"port": "5433"}, "18": {"port": "5434"}, None: {}},
        "wkhtmltopdf": {None: {"display": ":1"}}}


def test_resolve_fixed_version():
    resolved = resolve.resolve(CAPS, CapabilityUse("postgresql", Version("15.0")))
    assert resolved.version == "15" and resolved.options == {"port": "5433"}


def test_resolve_requirement_single_match():
    use = CapabilityUse("postgresql", requirement=VersionFilter.parse("postgresql >= 16"))
    assert resolve.resolve(CAPS, use).options == {"port": "5434"}


def test_resolve_versionless():
    resolved = resolve.resolve(CAPS, CapabilityUse("wkhtmltopdf"))
    assert resolved.version is None and resolved.options == {"display": ":1"}


def test_resolve_ambiguous_is_a_clear_error():
    use = CapabilityUse("postgresql", requirement=VersionFilter.parse("postgresql >= 12"))
    with pytest.raises(CapabilityResolutionError, match="several postgresql versions"):
        resolve.resolve(CAPS, use, "worker w")


def test_resolve_missing():
    with pytest.raises(CapabilityResolutionError, match="does not declare capability 'redis'"):
        resolve.resolve(CAPS, CapabilityUse("redis"))
    with pytest.raises(CapabilityResolutionError, match=r"no postgresql version 16 \(declared"):
        resolve.resolve(CAPS, CapabilityUse("postgresql", Version("16")))
