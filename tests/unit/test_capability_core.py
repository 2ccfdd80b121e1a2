"""Templates, definitions and build-time resolution (SPEC 4), without Buildbot."""

from __future__ import annotations

import doctest

import pytest

from buildbot_odoo.capability import definitions, dispatch, resolve, templates
from buildbot_odoo.capability.definitions import (
    builtin_capabilities,
    validate_definition,
    validate_definitions,
)
from buildbot_odoo.capability.resolve import CapabilityResolutionError, CapabilityUse
from buildbot_odoo.capability.secret_files import (
    SecretFile,
    declares_secret_files,
    file_content,
    pgpass_line,
)
from buildbot_odoo.capability.templates import TemplateError, translate_template
from buildbot_odoo.capability.versions import Version, VersionFilter


@pytest.mark.parametrize("module", [templates, definitions, resolve, dispatch])
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


def test_options_given_by_a_secret_read_interpolate_keywords():
    """``base_uri-secret=NAME`` on a worker: cap(base_uri) reads a keyword the edge binds
    to the secret, whatever the modifier; other options and PATH stay properties."""
    d = validate_definition("rabbitmq", {"environ": {
        "RMQ_BASE_URI": "%(cap(base_uri):-amqp://localhost/)s",
        "RMQ_TLS": "%(cap(base_uri):+yes)s %(cap(binary))s",
        "PATH": "%(cap(base_uri):-)s"}})
    assert d.environ_for(set()) == d.environ
    assert d.environ_for({"base_uri"}) == {
        "RMQ_BASE_URI": "%(kw:cap_rabbitmq_base_uri:-amqp://localhost/)s",
        "RMQ_TLS": "%(kw:cap_rabbitmq_base_uri:+yes)s %(prop:cap_rabbitmq_binary)s",
        "PATH": "%(prop:cap_rabbitmq_base_uri:-)s"}
    assert d.secret_capable() == {"base_uri", "binary"}
    assert definitions.known_options({"environ": {"U": "%(cap(uri))s"}}) == {
        "uri", "uri-secret"}


@pytest.mark.parametrize(("definition", "needle"), [
    ({"version_prop": "bad prop"}, "version_prop"),
    ({"environ": {"1BAD": "x"}}, "not an environment variable name"),
    ({"environ": {"X": "50%"}}, "environ X"),
    ({"colour": "blue"}, "unknown keys"),
    ({"secret_files": {"X_FILE": {"option": "pw", "format": "yaml"}}},
     "secret_files X_FILE: format 'yaml' is not one of raw, pgpass"),
    ({"secret_files": {"X_FILE": {"format": "raw"}}}, "secret_files X_FILE: option None"),
    ({"secret_files": {"X_FILE": {"option": "pw", "mode": "0600"}}}, "unknown keys"),
    ({"secret_files": {"X_FILE": 3}}, "neither an option name"),
    ({"secret_files": {"bad var": "pw"}}, "not an environment variable name"),
    ({"environ": {"X": "a"}, "secret_files": {"X": "pw"}}, "X set twice"),
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


def test_postgresql_password_goes_to_a_password_file_not_the_environment():
    """buildbot-worker logs command environments: the built-in uses libpq's PGPASSFILE."""
    postgresql = validate_definitions(builtin_capabilities())["postgresql"]
    assert postgresql.secret_files == {"PGPASSFILE": SecretFile("password-secret", "pgpass")}
    assert postgresql.secret_environ == {}
    assert "PGPASSWORD" not in postgresql.environ


def test_secret_file_shorthand_is_the_raw_secret():
    d = validate_definition("rabbitmq", {"secret_files": {"RMQ_PASSWORD_FILE": "password-secret"}})
    assert d.secret_files == {"RMQ_PASSWORD_FILE": SecretFile("password-secret", "raw")}
    assert file_content("raw", "s3:cr\\et") == "s3:cr\\et"


@pytest.mark.parametrize(("password", "line"), [
    ("s3cr3t", "*:*:*:*:s3cr3t\n"),
    ("a:b", "*:*:*:*:a\\:b\n"),           # libpq's escapes: \: and \\
    ("back\\slash", "*:*:*:*:back\\\\slash\n"),
    ("*", "*:*:*:*:*\n"),                   # a star is literal in the password field
])
def test_pgpass_line_escapes_what_libpq_reads_escaped(password, line):
    assert pgpass_line(password) == line == file_content("pgpass", password)


def test_pgpass_line_refuses_a_line_break():
    with pytest.raises(ValueError, match="cannot contain a line break"):
        pgpass_line("two\nlines")


def test_declares_secret_files_only_for_a_set_secret_option():
    options = {"postgresql": ["password-secret"]}
    assert declares_secret_files(options, [("postgresql", {"port": "5433"}),
                                           ("postgresql", {"password-secret": "pg-ci"})])
    assert not declares_secret_files(options, [("postgresql", {"port": "5433"})])
    assert not declares_secret_files(options, [("rabbitmq", {"password-secret": "rmq"})])
    assert not declares_secret_files(options, [("postgresql", {"password-secret": ""})])
