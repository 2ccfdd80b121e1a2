"""One checker per kind of value (buildbot_odoo.config.values)."""

from __future__ import annotations

import configparser
import doctest
import ntpath
import posixpath
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildbot_odoo.config import values
from buildbot_odoo.config.values import (
    InvalidValue,
    boolean,
    branch_name,
    identifier,
    is_secret_key,
    number,
    path_inside,
    relative_path,
    secret_spelling,
    vcs_url,
    whole_number,
)


def test_doctests():
    assert doctest.testmod(values).failed == 0


def test_invalid_value_is_a_value_error():
    assert issubclass(InvalidValue, ValueError)


# --- booleans and numbers


def test_booleans_are_configparsers_own():
    for text, state in configparser.ConfigParser.BOOLEAN_STATES.items():
        assert boolean(text) is state
        assert boolean(text.upper()) is state
    with pytest.raises(InvalidValue, match="'maybe' is not a boolean"):
        boolean("maybe")


@pytest.mark.parametrize("text, expected", [("0", 0), ("65535", 65535), ("+12", 12),
                                            (" 7 ", 7)])
def test_whole_numbers(text, expected):
    assert whole_number(text, minimum=0, maximum=65535) == expected


@pytest.mark.parametrize("text, needle", [
    ("1e5", "'1e5' is not a whole number"),
    ("1_000", "'1_000' is not a whole number"),
    ("\u0661\u0662", "is not a whole number"),  # Arabic-Indic digits, which int() takes
    ("12.0", "is not a whole number"),
    ("", "'' is not a whole number"),
    ("65536", "'65536' is out of range: from 1 to 65535 seconds"),
    ("0", "'0' is out of range: from 1 to 65535 seconds"),
    ("1" * 27, "is out of range: from 1 to 65535 seconds"),
])
def test_bad_whole_numbers_quote_the_text(text, needle):
    with pytest.raises(InvalidValue) as caught:
        whole_number(text, minimum=1, maximum=65535, unit="seconds")
    assert needle in str(caught.value)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e3", "0x10", "", "."])
def test_decimal_numbers_are_plain_and_finite(text):
    with pytest.raises(InvalidValue):
        number(text, minimum=-1e6, maximum=1e6)
    assert number("-0.5", minimum=-1, maximum=1) == -0.5
    with pytest.raises(InvalidValue, match="out of range"):
        number("2", minimum=-1, maximum=1)


# --- names


@pytest.mark.parametrize("kind", sorted(values.IDENTIFIERS))
def test_no_kind_of_name_can_start_with_a_dash_or_a_dot(kind):
    for text in ("-x", ".x", "..", "", "a b", "a/b", "a\nb"):
        with pytest.raises(InvalidValue, match="is not a"):
            identifier(text, kind)


def test_identifiers_have_a_maximum_length():
    identifier("a" * 63, "database")
    with pytest.raises(InvalidValue, match="longer than 63"):
        identifier("a" * 64, "database")


# --- paths


@pytest.mark.parametrize("text, expected", [
    ("a", "a"), ("a/b", "a/b"), ("a//b", "a/b"), ("a/", "a"), ("./a/./b/", "a/b"),
    ("a b/c", "a b/c"), ("x..y", "x..y"), ("...", "..."),
])
def test_relative_paths_are_canonical(text, expected):
    assert relative_path(text) == expected


@pytest.mark.parametrize("text, needle", [
    ("a\\..\\b", "cannot contain '\\'"),
    ("a/../b", "'..' component"),
    ("..", "'..' component"),
    ("../secrets/x", "'..' component"),
    ("/etc/passwd", "must be relative"),
    ("~/x", "must be relative"),
    ("C:x", "must be relative"),
    ("./C:x", "must be relative"),
    ("a\x00b", "control characters"),
    ("a\nb", "control characters"),
    ("-rf", "cannot start with '-'"),
    ("./--config=x", "cannot start with '-'"),
    ("", "not the root itself"),
    (".", "not the root itself"),
    ("./", "not the root itself"),
])
def test_relative_paths_refused_by_one_rule(text, needle):
    with pytest.raises(InvalidValue) as caught:
        relative_path(text)
    assert needle in str(caught.value)
    assert repr(text) in str(caught.value) or len(text) > 40


def test_the_root_itself_only_where_allowed():
    assert relative_path(".", root_ok=True) == "."
    assert relative_path("", root_ok=True) == "."


@given(st.text(alphabet="ab./\\~-:\x00 C", max_size=12))
def test_an_accepted_path_stays_inside_its_root_on_any_system(text):
    try:
        accepted = relative_path(text)
    except InvalidValue:
        return
    assert posixpath.normpath(posixpath.join("/root", accepted)).startswith("/root/")
    assert ntpath.normpath(ntpath.join("C:\\root", accepted)).startswith("C:\\root\\")
    assert not accepted.startswith("-")


def test_path_inside_resolves_symbolic_links(tmp_path):
    root = tmp_path / "buildouts"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "secrets").mkdir()
    (root / "out").symlink_to(tmp_path / "secrets")
    assert path_inside(root, "sub//x.cfg") == root.resolve() / "sub" / "x.cfg"
    with pytest.raises(InvalidValue, match="a symbolic link takes it to"):
        path_inside(root, "out/local-worker")
    with pytest.raises(InvalidValue, match=r"'\.\.' component"):
        path_inside(root, "../secrets/local-worker")


# --- version control


@pytest.mark.parametrize("vcs, url", [
    ("git", "https://github.com/odoo/odoo.git"),
    ("git", "http://host:8080/r.git"),
    ("git", "ssh://git@host:2222/r.git"),
    ("git", "git://host/r.git"),
    ("git", "git+ssh://host/r.git"),
    ("git", "file:///srv/repos/r.git"),
    ("git", "/srv/repos/r.git"),
    ("git", "git@github.com:odoo/odoo.git"),
    ("git", "host.example:r.git"),
    ("git", "ssh://[::1]:22/r"),
    ("hg", "https://hg.example/r"),
    ("hg", "ssh://user@hg.example//srv/r"),
    ("hg", "file:///srv/r"),
    ("bzr", "lp:openobject-addons/7.0"),
    ("bzr", "bzr+ssh://host/r"),
    ("bzr", "sftp://host/r"),
])
def test_plain_urls_are_accepted(vcs, url):
    assert vcs_url(url, vcs) == url


@pytest.mark.parametrize("vcs, url, needle", [
    ("git", "--upload-pack=touch${IFS}/tmp/x;:", "cannot start with '-'"),
    ("git", "-u", "cannot start with '-'"),
    ("hg", "--config=hooks.pre-pull=touch", "cannot start with '-'"),
    ("git", "ext::sh", "remote-helper transport ('ext::...')"),
    ("git", "fd::0,1", "remote-helper transport"),
    ("git", "--", "cannot start with '-'"),
    ("git", "ssh://-oProxyCommand=touch/r", "the host '-oProxyCommand=touch'"),
    ("hg", "ssh://-oProxyCommand=touch/r", "is not a host name"),
    ("git", "ssh://-u@host/r", "the user '-u' is not a user name"),
    ("git", "-oProxyCommand=x:r", "cannot start with '-'"),
    ("git", "user@-oProxyCommand=x:r", "is not a host name"),
    ("git", "ftp://host/r", "not ftp://"),
    ("hg", "git@host:r", "is not a URL hg can use"),
    ("git", "relative/dir", "is not a URL git can use"),
    ("git", "https://host/a b", "white space"),
    ("git", "https://host/a\x00", "control characters"),
    ("git", "file://remote/srv", "names a local path"),
    ("git", "https://host:x/r", "the port 'x' is not a number"),
    ("git", "", "empty"),
])
def test_urls_that_could_run_a_command_or_are_not_plain_are_refused(vcs, url, needle):
    with pytest.raises(InvalidValue) as caught:
        vcs_url(url, vcs)
    assert needle in str(caught.value)


@pytest.mark.parametrize("vcs, name", [("git", "17.0"), ("git", "feature/x-y"),
                                       ("git", "refs/heads/main"), ("hg", "default"),
                                       ("hg", "stable-17.0")])
def test_branch_names(vcs, name):
    assert branch_name(name, vcs) == name


@pytest.mark.parametrize("vcs, name, needle", [
    ("git", "-b", "cannot start with '-'"),
    ("hg", "--config=x", "cannot start with '-'"),
    ("git", "a..b", "'..'"),
    ("git", "a.lock", "'.lock'"),
    ("git", ".hidden", "starts with '.'"),
    ("git", "a@{1}", "'@{'"),
    ("git", "a:b", "~ ^ : ? * [ \\"),
    ("git", "a/", "ends with '/'"),
    ("hg", "tip", "reserved"),
    ("hg", "12", "names a revision"),
    ("hg", "a:b", "':'"),
    ("git", "a b", "white space"),
    ("git", "", "empty"),
])
def test_bad_branch_names(vcs, name, needle):
    with pytest.raises(InvalidValue) as caught:
        branch_name(name, vcs)
    assert needle in str(caught.value)


# --- secrets


@pytest.mark.parametrize("key", ["password", "PASSWORD", "Password", "passwd", "pgpassword",
                                 "PGPASSWORD", "pass", "pwd", "db_pass", "db.password",
                                 "admin-passwd", "passphrase", "token", "api_token", "secret",
                                 "apikey"])
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["password-secret", "password_secret", "PASSWORD-SECRET",
                                 "token-secret", "port", "host", "user", "bin", "passive",
                                 "bypass", "compass", "display"])
def test_keys_that_hold_no_secret(key):
    assert not is_secret_key(key)


def test_secret_spelling_names_the_secret_based_option():
    assert secret_spelling("Password") == "password-secret"
    assert secret_spelling("pgpassword") == "password-secret"
    assert secret_spelling("pwd") == "password-secret"
    assert secret_spelling("api_token") == "api-token-secret"


@pytest.mark.parametrize("vcs", ["git", "hg", "bzr"])
def test_a_url_holding_a_password_is_refused_without_quoting_it(vcs):
    with pytest.raises(InvalidValue) as caught:
        vcs_url("https://ci:hunter2@host.example/r", vcs)
    assert str(caught.value) == (
        "'https://ci:<hidden>@host.example/r': a URL holding a password would show it in the "
        "web UI and the logs: give the password with an SSH key or a credential helper "
        "instead")
    assert vcs_url("https://ci@host.example/r", vcs)  # a user name alone is fine


@pytest.mark.parametrize("text, needle", [
    ("bin", "must be absolute"), ("/opt/a b", "white space"), ("/opt/../etc", "'..'"),
    ("/opt/\x00", "control characters"), ("", "must be absolute"),
])
def test_absolute_paths(text, needle):
    assert values.absolute_path("/usr/lib/postgresql/15/bin") == "/usr/lib/postgresql/15/bin"
    with pytest.raises(values.InvalidValue, match=re.escape(needle)):
        values.absolute_path(text)


@pytest.mark.parametrize("text", ["", "-c", "python 3", "bin/python", "py$thon"])
def test_commands_are_a_name_or_an_absolute_path(text):
    assert values.command("python3") == "python3"
    with pytest.raises(values.InvalidValue):
        values.command(text)


@pytest.mark.parametrize("text", ["db", "db.example.com", "db-1.example.com.", "10.0.0.1",
                                  "::1", "[fe80::1]", "pg_host"])
def test_hosts(text):
    assert values.host(text) == text


@pytest.mark.parametrize("text", ["", "-x", "db..example.com", "db example", "a/b", "x-",
                                  "a" * 254])
def test_bad_hosts(text):
    with pytest.raises(values.InvalidValue, match="is not a host name nor an IP address"):
        values.host(text)


@pytest.mark.parametrize("text", ["", ">=3", ">=3 lol", "3.*", "latest", "==3.0"])
def test_package_versions_are_one_pep440_version(text):
    assert values.package_version("3.0.1") == "3.0.1"
    with pytest.raises(values.InvalidValue, match="is not a version"):
        values.package_version(text)


@pytest.mark.parametrize("text, needle", [
    ("--index-url=x", "cannot start with '-'"), ("ftp://x/y", "expected http://"),
    ("https://-x/simple", "is not a host name"), ("https://a b", "white space"),
    ("file://host/x", "names a local path"), ("https://h:x/", "is not a number"),
])
def test_web_urls(text, needle):
    for good in ("https://pypi.org/simple/", "http://[::1]:8080/s", "file:///srv/wheels",
                 "https://user@pypi.example.com:8443/simple"):
        assert values.web_url(good) == good
    with pytest.raises(values.InvalidValue, match=re.escape(needle)):
        values.web_url(text)
