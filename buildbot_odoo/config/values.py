"""One checker per kind of value found in our configuration files.

Every reader -- workers.cfg, MANIFEST.cfg, subfactory options, auto-watch
files uploaded by workers -- checks a value of a given kind with the helper
of that kind, so one kind of value obeys one rule and gets one kind of
message, wherever it is written.  Each helper takes the text as written and
returns the value in its canonical form, or raises :class:`InvalidValue` (a
``ValueError``) whose message quotes the offending text and says what was
expected; the caller adds file, line, section and option.

Some values end up in a program's argument list (a URL given to ``git``, a
path given to ``rm``), on the master or on a worker.  The helpers for those
refuse what that program would read as an option (a leading ``-``) or as a
request to run something (git's ``ext::`` transport): no value of a
configuration file, nor of a file a worker uploads, can make a program do
more than read that value.

The last helpers are about secrets: which option names hold one
(:func:`is_secret_key`, the rule workers.cfg refuses capability options and
properties by), which lines of a file may (:func:`is_secret_line`), and how
configuration text is quoted in a message without them (:func:`quoted`).
The other helpers quote what they are given: never give them a value that
may hold a secret (:func:`vcs_url` hides a URL's password itself).
"""

from __future__ import annotations

import configparser
import ipaddress
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

__all__ = [
    "IDENTIFIERS",
    "InvalidValue",
    "absolute_path",
    "boolean",
    "branch_name",
    "command",
    "hide_secret_assignments",
    "hide_url_password",
    "hide_url_passwords",
    "host",
    "identifier",
    "is_secret_key",
    "is_secret_line",
    "master_area",
    "not_an_option",
    "number",
    "package_version",
    "path_inside",
    "quoted",
    "relative_path",
    "secret_spelling",
    "vcs_url",
    "web_url",
    "whole_number",
]

#: the longest value of each kind we accept (file systems, git and URLs have limits)
MAX_PATH = 4096
MAX_URL = 2048
MAX_BRANCH = 255
MAX_NUMBER_DIGITS = 18
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class InvalidValue(ValueError):
    """A value that is not of its kind; the message quotes it and says what is expected."""


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeio" else "a ") + noun  # "a URL", "a user"


def _no_control(text: str, what: str) -> None:
    if _CONTROL_RE.search(text):
        raise InvalidValue(f"{text!r}: {_a(what)} cannot contain control characters "
                           f"(NUL, tab, new line...)")


def not_an_option(text: str, what: str = "value") -> str:
    """A word handed to a program, which must not read it as one of its options.

    >>> not_an_option('--upload-pack=touch', 'URL')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '--upload-pack=touch': a URL cannot start with
    '-' (it would be read as an option)
    >>> not_an_option('origin')
    'origin'
    """
    if text.startswith("-"):
        raise InvalidValue(f"{text!r}: {_a(what)} cannot start with '-' "
                           f"(it would be read as an option)")
    return text


# --- booleans and numbers


def boolean(text: str) -> bool:
    """configparser's booleans, whatever the case: 1/yes/true/on and 0/no/false/off.

    >>> boolean('Yes'), boolean('off')
    (True, False)
    >>> boolean('maybe')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'maybe' is not a boolean (true/false, yes/no,
    on/off, 1/0)
    """
    state = configparser.ConfigParser.BOOLEAN_STATES.get(text.strip().lower())
    if state is None:
        raise InvalidValue(f"{text!r} is not a boolean (true/false, yes/no, on/off, 1/0)")
    return state


_WHOLE_RE = re.compile(r"^[+-]?[0-9]+$")


def whole_number(text: str, *, minimum: int, maximum: int, unit: str = "",
                 what: str = "") -> int:
    """A whole number written in plain ASCII digits, from ``minimum`` to ``maximum``.

    Python's ``int()`` also takes ``1_000``, Arabic-Indic digits and 4,000
    digit numbers; a configuration value is none of those.  Every use gives
    its own sane maximum, so that a typo cannot ask for a 27-digit timer.

    >>> whole_number('600', minimum=0, maximum=604800, unit='seconds')
    600
    >>> whole_number('1e5', minimum=1, maximum=65535)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '1e5' is not a whole number
    >>> whole_number('70000', minimum=1, maximum=65535, what='a TCP port')
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '70000' is out of range for a TCP port:
    from 1 to 65535
    """
    stripped = text.strip()
    out_of_range = (f"{text!r} is out of range{' for ' + what if what else ''}: "
                    f"{_range(minimum, maximum, unit)}")
    if not _WHOLE_RE.match(stripped):
        raise InvalidValue(f"{text!r} is not a whole number")
    if len(stripped) > MAX_NUMBER_DIGITS or not minimum <= int(stripped) <= maximum:
        raise InvalidValue(out_of_range)
    return int(stripped)


def _range(minimum: float, maximum: float, unit: str) -> str:
    return f"from {minimum:g} to {maximum:g}" + (f" {unit}" if unit else "")


_DECIMAL_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def number(text: str, *, minimum: float, maximum: float) -> float:
    """A decimal number (``2``, ``-0.5``), from ``minimum`` to ``maximum``.

    No exponent, ``nan`` nor ``inf``: a priority or a ratio is written plainly.

    >>> number('2.5', minimum=-1e6, maximum=1e6)
    2.5
    >>> number('nan', minimum=-1e6, maximum=1e6)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'nan' is not a decimal number
    """
    stripped = text.strip()
    if not _DECIMAL_RE.match(stripped) or len(stripped) > 2 * MAX_NUMBER_DIGITS:
        raise InvalidValue(f"{text!r} is not a decimal number")
    value = float(stripped)
    if not (math.isfinite(value) and minimum <= value <= maximum):
        raise InvalidValue(f"{text!r} is out of range: {_range(minimum, maximum, '')}")
    return value


# --- names


@dataclass(frozen=True)
class IdentifierKind:
    """A kind of name: its pattern, its longest length, and how a message calls it."""

    pattern: re.Pattern
    max_length: int
    what: str
    allowed: str


def _kind(pattern: str, max_length: int, what: str, allowed: str) -> IdentifierKind:
    return IdentifierKind(re.compile(pattern), max_length, what, allowed)


#: every kind of name, by the name callers use; none can start with '-' (an option) or
#: '.' (a hidden file, '..'), so any of them is safe as a file name and as an argument
IDENTIFIERS: dict[str, IdentifierKind] = {
    "build": _kind(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", 255, "build name",
                   "letters, digits, '_', '.', '+' or '-', not starting with '.', '_' "
                   "nor '-'"),
    "capability": _kind(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", 100, "capability name",
                        "letters, digits, '_', '.', '+' or '-', starting with a letter "
                        "or digit"),
    "part": _kind(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", 100, "buildout part name",
                  "letters, digits, '_', '.' or '-', not starting with '.' nor '-'"),
    "addon": _kind(r"^[A-Za-z0-9_]+$", 100, "addon name", "letters, digits or '_'"),
    "property": _kind(r"^[A-Za-z_][A-Za-z0-9_.-]*$", 100, "property name",
                      "letters, digits, '_', '.' or '-', starting with a letter or '_'"),
    "database": _kind(r"^[A-Za-z0-9_][A-Za-z0-9_.$-]*$", 63, "database name",
                      "letters, digits, '_', '.', '$' or '-', not starting with '.', "
                      "'$' nor '-', at most 63 characters"),
    "db-prefix": _kind(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", 40, "database prefix",
                       "letters, digits, '_', '.' or '-', not starting with '.' nor '-'"),
    "variable": _kind(r"^[A-Za-z_][A-Za-z0-9_]*$", 100, "environment variable name",
                      "letters, digits or '_', not starting with a digit"),
}


def identifier(text: str, kind: str) -> str:
    """A name of the given ``kind`` (a key of :data:`IDENTIFIERS`).

    >>> identifier('sale_stock', 'addon')
    'sale_stock'
    >>> identifier('-x', 'build')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '-x' is not a build name: letters, digits, '_',
    '.', '+' or '-', not starting with '.', '_' nor '-'
    """
    rule = IDENTIFIERS[kind]
    if not rule.pattern.match(text):
        raise InvalidValue(f"{text!r} is not {_a(rule.what)}: {rule.allowed}")
    if len(text) > rule.max_length:
        raise InvalidValue(f"{text!r} is not {_a(rule.what)}: longer than "
                           f"{rule.max_length} characters")
    return text


# --- paths


def relative_path(text: str, *, root_ok: bool = False, what: str = "path") -> str:
    """A path inside some root (a checkout, the manifest's directory, an upload area).

    One rule, the same on the master and on every worker whatever its system:

    * ``/`` is the only separator, and a ``\\`` is refused: it is one on
      Windows, where ``a\\..\\b`` climbs out;
    * no ``..`` component, not even in ``a/../b``: whether that stays inside
      depends on symbolic links, unknown where the path is checked;
    * not absolute: no leading ``/``, no drive (``C:``), no leading ``~``;
    * no NUL nor control character, and no leading ``-`` (the path is given
      to programs, which would read it as an option);
    * empty and ``.`` components are dropped: ``a//b/./c/`` is ``a/b/c``.  What
      is left may be empty -- the root itself, returned as ``.`` -- only when
      ``root_ok``.

    Returns the path in that canonical form.

    >>> relative_path('doc//source/')
    'doc/source'
    >>> relative_path('./', root_ok=True)
    '.'
    >>> relative_path('a/../b')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'a/../b': a path cannot have a '..' component (it
    must stay inside its root)
    >>> relative_path('a\\\\..\\\\b')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'a\\\\..\\\\b': a path cannot contain '\\' (use
    '/' as separator)
    """
    if len(text) > MAX_PATH:
        raise InvalidValue(f"{text[:40]!r}...: {_a(what)} cannot be longer than {MAX_PATH} "
                           "characters")
    _no_control(text, what)
    if "\\" in text:
        raise InvalidValue(f"{text!r}: {_a(what)} cannot contain '\\' (use '/' as separator)")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if text.startswith(("/", "~")) or (parts and parts[0][1:2] == ":"):
        raise InvalidValue(f"{text!r}: {_a(what)} must be relative (no leading '/', '~' "
                           f"nor drive)")
    if ".." in parts:
        raise InvalidValue(f"{text!r}: {_a(what)} cannot have a '..' component (it must stay "
                           "inside its root)")
    if not parts:
        if root_ok:
            return "."
        raise InvalidValue(f"{text!r}: {_a(what)} must name something inside its root, not "
                           "the root itself")
    canonical = "/".join(parts)
    if canonical.startswith("-"):
        raise InvalidValue(f"{text!r}: {_a(what)} cannot start with '-' (it would be read as "
                           "an option)")
    return canonical


def path_inside(root: str | Path, text: str, *, root_ok: bool = False,
                what: str = "path") -> Path:
    """``root / text``, checked by :func:`relative_path` and still inside ``root``
    once symbolic links are resolved (a link may point anywhere).

    The returned path is absolute and resolved.
    """
    relative = relative_path(text, root_ok=root_ok, what=what)
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise InvalidValue(f"{text!r}: {_a(what)} must stay inside {str(base)!r}, but a "
                           f"symbolic link takes it to {str(target)!r}")
    return target


def absolute_path(text: str, *, what: str = "path") -> str:
    """An absolute path on some host (a worker's directory, a program): ``/`` first,
    no white space nor control character, ``..`` refused (it would hide where it goes).

    >>> absolute_path('/usr/lib/postgresql/15/bin')
    '/usr/lib/postgresql/15/bin'
    >>> absolute_path('bin')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'bin': a path must be absolute (start with '/')
    """
    if len(text) > MAX_PATH:
        raise InvalidValue(f"{text[:40]!r}...: a {what} cannot be longer than {MAX_PATH} "
                           "characters")
    _no_control(text, what)
    if not text.startswith("/"):
        raise InvalidValue(f"{text!r}: a {what} must be absolute (start with '/')")
    if any(c.isspace() for c in text):
        raise InvalidValue(f"{text!r}: a {what} cannot contain white space")
    if ".." in text.split("/"):
        raise InvalidValue(f"{text!r}: a {what} cannot have a '..' component")
    return text


_COMMAND_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


def command(text: str, *, what: str = "command") -> str:
    """A program to run: a name looked up on ``PATH`` (``python3.11``) or an absolute path.

    >>> command('python3.12'), command('/opt/python/3.12/bin/python3')
    ('python3.12', '/opt/python/3.12/bin/python3')
    >>> command('')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '': a command must be a program name or an
    absolute path
    """
    if "/" in text:
        return absolute_path(text, what=what)
    if not _COMMAND_RE.match(text):
        raise InvalidValue(f"{text!r}: a {what} must be a program name or an absolute path")
    return text


def host(text: str, *, what: str = "host") -> str:
    """A host name or an IP address (IPv6 with or without brackets), never an option.

    >>> host('db.example.com'), host('::1'), host('[fe80::1]')
    ('db.example.com', '::1', '[fe80::1]')
    >>> host('-oProxyCommand=x')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '-oProxyCommand=x' is not a host name nor an
    IP address
    """
    try:
        ipaddress.ip_address(text.strip("[]") if text.startswith("[") else text)
        return text
    except ValueError:
        pass
    if len(text) > 253 or not _HOST_NAME_RE.match(text):
        raise InvalidValue(f"{text!r} is not a {what} name nor an IP address")
    return text


_HOST_NAME_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
                           r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$")


def package_version(text: str, *, what: str = "version") -> str:
    """One Python package version (PEP 440, as pip pins it with ``==``), not a range.

    >>> package_version('3.0.1'), package_version('4.1.0rc1')
    ('3.0.1', '4.1.0rc1')
    >>> package_version('>=3 lol')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '>=3 lol' is not a version (PEP 440, such as
    3.0.1): give the one version to install
    """
    try:
        Version(text)
    except InvalidVersion:
        raise InvalidValue(f"{text!r} is not a {what} (PEP 440, such as 3.0.1): give the one "
                           f"{what} to install") from None
    return text
_AREA_HINT = ("builds may only write in an area of their own (a subdirectory such as "
              "'docs', or a directory outside the master's)")


def master_area(basedir: str | Path, text: str, *, own: Collection[str] = ()) -> Path:
    """A directory on the master that builds write to (or read from for their workers).

    Absolute, or relative to ``basedir`` by the rule of :func:`relative_path`.
    Once symbolic links are resolved, it must be neither ``basedir`` itself,
    nor one of its ancestors (a build named after the master's directory
    would replace it), nor inside one of the master's ``own`` entries --
    names of ``basedir``, each also covering the names it starts with
    followed by ``.`` or ``-`` (``state.sqlite`` covers ``state.sqlite-wal``).
    Returns the resolved path.
    """
    if not text:
        raise InvalidValue("the directory is empty")
    _no_control(text, "directory")
    base = Path(basedir).resolve()
    if Path(text).is_absolute():
        target = Path(text).resolve()
    else:
        target = (base / relative_path(text, root_ok=True, what="directory")).resolve()
    via_link = "" if target == Path(base / text).absolute() else " (symbolic links resolved)"
    if target == base:
        raise InvalidValue(f"{text!r}: the master's base directory itself{via_link}: "
                           f"{_AREA_HINT}")
    if target in base.parents:
        raise InvalidValue(f"{text!r}: holds the master's base directory {str(base)!r}: "
                           f"{_AREA_HINT}")
    if base in target.parents:
        first = target.relative_to(base).parts[0]
        if any(first == name or first.startswith((name + ".", name + "-")) for name in own):
            raise InvalidValue(f"{text!r}: the master's own {first!r}{via_link}: {_AREA_HINT}")
    return target


# --- version control


#: the scheme URLs each VCS may be given; no transport that runs a program of the URL's choice
URL_SCHEMES = {
    "git": ("http", "https", "ssh", "git", "git+ssh", "ssh+git", "file"),
    "hg": ("http", "https", "ssh", "file"),
    "bzr": ("http", "https", "bzr", "bzr+ssh", "sftp", "file"),
}
_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_HELPER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_~%][A-Za-z0-9._~%-]*)$")
_USER_RE = re.compile(r"^[A-Za-z0-9._~%+!$&'()*,;=][A-Za-z0-9._~%+!$&'()*,;=:-]*$")
_SCP_RE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[^@/:]+):(?P<path>.*)$")
_LAUNCHPAD_RE = re.compile(r"^lp:[A-Za-z0-9~+._/-]+$")
_URL_PASSWORD_RE = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:)[^/@]*@")
_URL_PASSWORDS_RE = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s'\"]*:)[^/@\s'\"]*@")


def vcs_url(text: str, vcs: str) -> str:
    """A location ``vcs`` (git, hg or bzr) may clone, pull or poll, in a plain form only.

    Accepted: a scheme URL of :data:`URL_SCHEMES` (``https://host/path``,
    ``ssh://user@host:22/path``, ``file:///srv/repo``...), an absolute local
    path, for git the scp-like ``user@host:path``, for bzr Launchpad's
    ``lp:project``.  Refused: a leading ``-`` (``--upload-pack=...`` is an
    option that runs a command), git's remote-helper syntax ``transport::address``
    (``ext::sh -c ...`` runs a command), any other scheme, a host or user
    starting with ``-`` (ssh would read it as an option), a password
    (``https://u:pw@h/``: pollers' names, changes and step logs show URLs),
    white space and control characters.

    >>> vcs_url('git@github.com:odoo/odoo.git', 'git')
    'git@github.com:odoo/odoo.git'
    >>> vcs_url('fd::0,1', 'git')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'fd::0,1': a URL cannot use a remote-helper
    transport ('fd::...')
    >>> vcs_url('ssh://-oProxyCommand=x/r', 'hg')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'ssh://-oProxyCommand=x/r': the host
    '-oProxyCommand=x' is not a host name
    """
    if vcs not in URL_SCHEMES:
        raise InvalidValue(f"{vcs!r} is not a VCS (expected one of {', '.join(URL_SCHEMES)})")
    if not text:
        raise InvalidValue("the URL is empty")
    shown = hide_url_password(text)
    if shown is not None:
        raise InvalidValue(f"{shown!r}: a URL holding a password would show it in the web UI "
                           "and the logs: give the password with an SSH key or a credential "
                           "helper instead")
    if len(text) > MAX_URL:
        raise InvalidValue(f"{text[:40]!r}...: a URL cannot be longer than {MAX_URL} characters")
    _no_control(text, "URL")
    if any(c.isspace() for c in text):
        raise InvalidValue(f"{text!r}: a URL cannot contain white space")
    not_an_option(text, "URL")
    if _HELPER_RE.match(text):
        transport = text.split("::", 1)[0]
        raise InvalidValue(f"{text!r}: a URL cannot use a remote-helper transport "
                           f"('{transport}::...')")
    scheme = _SCHEME_RE.match(text)
    if scheme:
        _check_scheme_url(text, vcs, scheme["scheme"].lower(), scheme["rest"])
    elif text.startswith("/"):
        pass  # a local repository
    elif vcs == "bzr" and _LAUNCHPAD_RE.match(text):
        pass
    elif vcs == "git" and _SCP_RE.match(text) and "/" not in text.split(":", 1)[0]:
        scp = _SCP_RE.match(text)
        assert scp is not None
        _check_host(text, scp["host"])
        _check_user(text, scp["user"])
        if not scp["path"]:
            raise InvalidValue(f"{text!r}: no repository path after ':'")
    else:
        raise InvalidValue(f"{text!r} is not a URL {vcs} can use: expected "
                           f"{_url_forms(vcs)}")
    return text


def hide_url_password(url: str) -> str | None:
    """``url`` with its password hidden when it holds one (``scheme://user:PASSWORD@host``),
    else None: a password in a URL is shown by whatever shows the URL.

    >>> hide_url_password('amqp://guest:guest@localhost:5672/')
    'amqp://guest:<hidden>@localhost:5672/'
    >>> hide_url_password('amqp://guest@localhost/') is None
    True
    """
    match = _URL_PASSWORD_RE.match(url)
    if match is None:
        return None
    return f"{match['head']}{HIDDEN}@{url[match.end():]}"


def hide_url_passwords(text: str, mask: str | None = None) -> str:
    """``text`` with the password of every URL in it replaced by ``mask`` (for
    messages quoting a line, and pages showing option values).

    >>> hide_url_passwords('rabbitmq 3 base_uri=amqp://u:pw@h/ x=1')
    'rabbitmq 3 base_uri=amqp://u:<hidden>@h/ x=1'
    """
    shown = HIDDEN if mask is None else mask
    return _URL_PASSWORDS_RE.sub(lambda match: f"{match['head']}{shown}@", text)


def _url_forms(vcs: str) -> str:
    forms = [f"{'/'.join(URL_SCHEMES[vcs])}://...", "an absolute local path"]
    if vcs == "git":
        forms.insert(1, "user@host:path")
    if vcs == "bzr":
        forms.insert(1, "lp:project")
    return ", ".join(forms[:-1]) + " or " + forms[-1]


def _check_scheme_url(text: str, vcs: str, scheme: str, rest: str) -> None:
    if scheme not in URL_SCHEMES[vcs]:
        raise InvalidValue(f"{text!r}: {vcs} URLs here are {_url_forms(vcs)}, not {scheme}://")
    authority = rest.split("/", 1)[0]
    if scheme == "file":
        if authority not in ("", "localhost"):
            raise InvalidValue(f"{text!r}: a file:// URL names a local path (file:///path)")
        return
    user, _, hostport = authority.rpartition("@")
    host, port = hostport, ""
    if not hostport.startswith("["):
        host, _, port = hostport.partition(":")
    elif "]:" in hostport:
        host, port = hostport.split("]:", 1)
        host += "]"
    _check_host(text, host)
    _check_user(text, user or None)
    if port and not port.isdigit():
        raise InvalidValue(f"{text!r}: the port {port!r} is not a number")


def _check_host(text: str, host: str) -> None:
    if not _HOST_RE.match(host):
        raise InvalidValue(f"{text!r}: the host {host!r} is not a host name")


def _check_user(text: str, user: str | None) -> None:
    if user is not None and not _USER_RE.match(user):
        raise InvalidValue(f"{text!r}: the user {user!r} is not a user name")


WEB_SCHEMES = ("http", "https", "file")


def web_url(text: str, schemes: tuple[str, ...] = WEB_SCHEMES, *, what: str = "URL") -> str:
    """A URL of one of ``schemes`` (a package index, a page of links), never an option.

    >>> web_url('https://pypi.example.com/simple/')
    'https://pypi.example.com/simple/'
    >>> web_url('ext::sh')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'ext::sh' is not a URL: expected http://...,
    https://... or file://...
    """
    if len(text) > MAX_URL:
        raise InvalidValue(f"{text[:40]!r}...: a {what} cannot be longer than {MAX_URL} "
                           "characters")
    _no_control(text, what)
    if any(c.isspace() for c in text):
        raise InvalidValue(f"{text!r}: a {what} cannot contain white space")
    not_an_option(text, what)
    match = _SCHEME_RE.match(text)
    if not match or match["scheme"].lower() not in schemes:
        expected = ", ".join(f"{s}://..." for s in schemes[:-1]) + f" or {schemes[-1]}://..."
        raise InvalidValue(f"{text!r} is not a {what}: expected {expected}")
    authority = match["rest"].split("/", 1)[0].rpartition("@")[2]
    if match["scheme"].lower() == "file":
        if authority not in ("", "localhost"):
            raise InvalidValue(f"{text!r}: a file:// {what} names a local path (file:///path)")
        return text
    name = authority
    if not authority.startswith("["):
        name, _, port = authority.partition(":")
        if port and not port.isdigit():
            raise InvalidValue(f"{text!r}: the port {port!r} is not a number")
    _check_host(text, name.split("]:")[0] + ("]" if "]:" in name else ""))
    return text


_GIT_REF_FORBIDDEN = re.compile(r"[\s~^:?*\[\\]")
_HG_RESERVED = ("tip", ".", "null")


def branch_name(text: str, vcs: str, what: str = "branch") -> str:
    """A branch (or tag, or revision: ``what``) name as ``vcs`` allows it, never an option.

    git: the rules of ``git check-ref-format`` (no ``..``, no component
    starting with ``.`` or ending with ``.lock``, none of ``~^:?*[\\``, no
    ``@{``, not ``@``...); Mercurial: no ``:``, not ``tip``, ``.`` or ``null``,
    not a number (it would name a revision).  Both: no leading ``-``, no
    white space nor control character (a watch line splits on spaces).

    >>> branch_name('17.0', 'git')
    '17.0'
    >>> branch_name('feature/..x', 'git')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'feature/..x' is not a git branch name: it
    contains '..'
    >>> branch_name('--config=hooks.x', 'hg')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '--config=hooks.x': a branch cannot start with
    '-' (it would be read as an option)
    """
    if not text:
        raise InvalidValue(f"the {what} name is empty")
    if len(text) > MAX_BRANCH:
        raise InvalidValue(f"{text[:40]!r}...: {_a(what)} name cannot be longer than "
                           f"{MAX_BRANCH} characters")
    _no_control(text, f"{what} name")
    if any(c.isspace() for c in text):
        raise InvalidValue(f"{text!r}: {_a(what)} name cannot contain white space")
    not_an_option(text, what)
    problem = _git_ref_problem(text) if vcs == "git" else _hg_label_problem(text)
    if problem:
        raise InvalidValue(f"{text!r} is not a {vcs} {what} name: {problem}")
    return text


#: what Buildbot's GitPoller strips from a branch it reports (``_removeHeads``), and so
#: what the master's pollers and change filters use
GIT_HEADS = "refs/heads/"


def branch_as_used(text: str, vcs: str) -> str:
    """The branch name as Buildbot finally uses it: git's without ``refs/heads/``.

    Buildbot's GitPoller reports (and its change filters match) ``main`` for
    ``refs/heads/main``; Mercurial's and Bazaar's names are used as written.

    >>> branch_as_used('refs/heads/17.0', 'git'), branch_as_used('refs/heads/x', 'hg')
    ('17.0', 'refs/heads/x')
    """
    if vcs == "git" and text.startswith(GIT_HEADS):
        return text[len(GIT_HEADS):]
    return text


def used_branch_name(text: str, vcs: str, what: str = "branch") -> str:
    """:func:`branch_name`, for the name as written and for the name Buildbot uses.

    ``refs/heads/-x`` is a valid git ref, but the pollers and the change
    filters use ``-x``, which a command would read as an option.

    >>> used_branch_name('refs/heads/-x', 'git')  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: 'refs/heads/-x' is used as '-x' (Buildbot strips
    'refs/heads/'): '-x': a branch cannot start with '-' (it would be read as an option)
    """
    branch_name(text, vcs, what)
    used = branch_as_used(text, vcs)
    if used != text:
        try:
            branch_name(used, vcs, what)
        except InvalidValue as exc:
            raise InvalidValue(f"{text!r} is used as {used!r} (Buildbot strips "
                               f"{GIT_HEADS!r}): {exc}") from None
    return text


def _git_ref_problem(name: str) -> str | None:
    if _GIT_REF_FORBIDDEN.search(name):
        return "it contains one of ~ ^ : ? * [ \\"
    if ".." in name:
        return "it contains '..'"
    if "@{" in name or name == "@":
        return "it contains '@{' or is '@'"
    if name.endswith(("/", ".")) or "//" in name:
        return "it ends with '/' or '.', or has an empty component"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a component starts with '.' or ends with '.lock'"
    return None


def _hg_label_problem(name: str) -> str | None:
    if ":" in name:
        return "it contains ':'"
    if name in _HG_RESERVED:
        return f"{name!r} is reserved by Mercurial"
    if name.isdigit():
        return "a number names a revision, not a branch"
    return None


# --- secrets


#: option names that hold a secret whatever else they say (compared lower-cased,
#: with '_' and '.' read as '-')
SECRET_WORDS = ("pass", "pwd", "pw", "passwd", "passphrase", "secret", "token", "apikey",
                "credential", "credentials")
#: the spelling that *names* a Buildbot secret instead of holding one
SECRET_SUFFIX = "-secret"


def _normalised_key(key: str) -> str:
    return re.sub(r"[_.\s]+", "-", key.strip().lower())


def is_secret_key(key: str) -> bool:
    """Whether an option named ``key`` holds a secret, as its user would write it.

    The rule, whatever the case and with ``_`` or ``.`` as ``-``: the name
    contains ``passw`` (password, PGPASSWORD, db_passwd...) or ``passphrase``,
    or one of its ``-``-separated words is one of :data:`SECRET_WORDS`
    (``pass``, ``pwd``, ``token``...) -- unless it ends with ``-secret``, the
    spelling that names a Buildbot secret (``password-secret``) instead of
    holding one.

    >>> [is_secret_key(k) for k in ('PASSWORD', 'pgpassword', 'db_pass', 'pwd', 'passive')]
    [True, True, True, True, False]
    >>> is_secret_key('password-secret'), is_secret_key('password_secret')
    (False, False)
    """
    normalised = _normalised_key(key)
    if normalised.endswith(SECRET_SUFFIX):
        return False
    if "passw" in normalised or "passphrase" in normalised:
        return True
    return any(word in SECRET_WORDS for word in normalised.split("-"))


_LINE_KEY_RE = re.compile(r"^\s*(?P<key>[^\s=:]+)(?P<assign>\s*[=:])?")
#: ``KEY = VALUE``, ``KEY=VALUE`` or ``KEY: VALUE`` inside a text (``secret:NAME`` is no
#: assignment: it names a secret)
_ASSIGNMENT_RE = re.compile(
    r"(?P<key>[A-Za-z_][\w.-]*)(?P<sep>\s*=\s*|\s*:\s+)(?P<value>[^\s'\"\\,;)\]]+)")
HIDDEN = "<hidden>"


def is_secret_line(line: str) -> bool:
    """Whether a line of a configuration file may hold a secret, read as an option.

    Its first word names a secret (:func:`is_secret_key`) and is followed by
    ``=`` or ``:``, or contains ``passw`` (``password hunter2``, a password
    line missing its ``=``).

    >>> is_secret_line('  PASSWORD = hunter2'), is_secret_line('Password hunter2')
    (True, True)
    >>> is_secret_line('password-secret = pg'), is_secret_line('token-service >= 1')
    (False, False)
    """
    match = _LINE_KEY_RE.match(line)
    if match is None or not is_secret_key(match["key"]):
        return False
    return match["assign"] is not None or "passw" in match["key"].lower()


def hide_secret_assignments(text: str, *, loose: bool = False) -> str:
    """``text`` with the value of every assignment to a secret-holding key hidden.

    ``loose``: for configuration text, where ``password hunter2`` (a missing
    ``=``) is an assignment too; not for our own sentences ("a password file").

    >>> hide_secret_assignments('postgresql 15 port=5433 PGPASSWORD=hunter2')
    'postgresql 15 port=5433 PGPASSWORD=<hidden>'
    >>> hide_secret_assignments('postgresql 15 password hunter2', loose=True)
    'postgresql 15 password <hidden>'
    """
    def hide(match: re.Match) -> str:
        if not is_secret_key(match["key"]):
            return match.group(0)
        return f"{match['key']}{match['sep']}{HIDDEN}"
    text = _ASSIGNMENT_RE.sub(hide, text)
    if not loose:
        return text
    words = re.split(r"(\s+)", text)  # words at even indexes, the spaces between at odd ones
    for index in range(0, len(words) - 2, 2):
        word, following = words[index], words[index + 2]
        if "passw" in word.lower() and is_secret_key(word) and following[:1] not in "=:":
            words[index + 2] = HIDDEN
    return "".join(words)


def quoted(text: str) -> str:
    """``repr(text)`` for a message, never showing a secret it may hold.

    >>> quoted('postgresql 15 password=hunter2')
    "'postgresql 15 password=<hidden>'"
    >>> quoted('password hunter2')
    "the 'password' line (not shown: it may hold a secret)"
    >>> quoted('rabbitmq 3 base_uri=amqp://ci:hunter2@localhost/ =x')
    "'rabbitmq 3 base_uri=amqp://ci:<hidden>@localhost/ =x'"
    """
    lines = text.splitlines() or [text]
    if len(lines) == 1 and is_secret_line(text):
        first = _LINE_KEY_RE.match(text)["key"]  # type: ignore[index]
        return f"the {first!r} line (not shown: it may hold a secret)"
    kept = [f"{HIDDEN} (a line that may hold a secret)" if is_secret_line(line) else line
            for line in lines]
    return repr(hide_url_passwords(hide_secret_assignments("\n".join(kept), loose=True)))


def secret_spelling(key: str) -> str:
    """The option naming a Buildbot secret that ``key`` should be written as.

    >>> secret_spelling('PGPASSWORD'), secret_spelling('token')
    ('password-secret', 'token-secret')
    """
    normalised = _normalised_key(key)
    if "pass" in normalised or normalised in ("pwd", "pw"):
        return "password" + SECRET_SUFFIX
    return normalised + SECRET_SUFFIX
