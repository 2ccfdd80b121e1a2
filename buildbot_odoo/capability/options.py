"""What the options of the built-in capabilities may hold, checked when workers.cfg is read.

A capability option becomes a build property and, for the built-in
capabilities, an environment variable of every step (``port`` → ``PGPORT``,
``bin`` → ``PATH``...).  A nonsense value (``port=1e5``, a relative ``bin``
that would make ``PATH`` point into the build directory) would only show as a
broken build; it is refused with the line instead.  An empty value means
"not set", as it does in the environment templates (``%(cap(port):-)s``).
The options of other capabilities are the user's own business: any text, but
for ``OPTION-secret``, which names a Buildbot secret on any capability.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..config.values import SECRET_SUFFIX, InvalidValue, absolute_path, host, whole_number

#: PostgreSQL's NAMEDATALEN - 1: longer role names are silently truncated
MAX_ROLE_BYTES = 63
_DISPLAY_RE = re.compile(r"^[A-Za-z0-9_.:-]*:[0-9]+(\.[0-9]+)?$")
_WORD_RE = re.compile(r"^[^\s\x00-\x1f\x7f-][^\s\x00-\x1f\x7f]*$")


def _ports(text: str) -> str:
    """libpq's ``port``: one TCP port, or a comma-separated list (one per host)."""
    for port in text.split(","):
        whole_number(port, minimum=1, maximum=65535, what="a TCP port")
    return text


def _pg_hosts(text: str) -> str:
    """libpq's ``host``: host names, IP addresses or socket directories, comma-separated."""
    for entry in text.split(","):
        if entry.startswith("/"):
            absolute_path(entry, what="socket directory")
        elif entry.startswith("@"):  # Linux abstract namespace socket
            absolute_path("/" + entry[1:], what="socket name")
        else:
            try:
                host(entry)
            except InvalidValue:
                raise InvalidValue(f"{entry!r} is not a host name nor an IP address, nor a "
                                   "socket directory (an absolute path)") from None
    return text


def _directories(text: str) -> str:
    """Directories prepended to ``PATH``-like variables: absolute, ``:``-separated."""
    entries = text.split(":")
    if "" in entries:
        raise InvalidValue(f"{text!r}: an empty entry would be the current directory")
    for entry in entries:
        try:
            absolute_path(entry, what="directory")
        except InvalidValue:
            raise InvalidValue(f"{text!r}: a directory must be absolute, without '..' nor "
                               "white space") from None
    return text


#: an interpreter's name: what anybox.buildbot.odoo's ``python`` capability took in ``bin=``
_INTERPRETER_RE = re.compile(r"^(?:.*/)?python[0-9.]*$")
_ORIGINAL = "anybox.buildbot.odoo"


def _python_bin(text: str) -> str:
    """The ``python`` capability's ``bin``: directories, as for PostgreSQL.

    anybox.buildbot.odoo ran its bootstrap with the interpreter this option
    named (``bin=python2.6``, ``bin=/usr/bin/python2.7``); on ``PATH`` such a
    value would silently find nothing, so it is refused with what to write.
    """
    if ":" not in text and _INTERPRETER_RE.match(text):
        program = text.rpartition("/")[2]
        directory = text.rpartition("/")[0]
        where = (f"write 'bin={directory}' (the directory holding it) or nothing here"
                 if directory else "remove 'bin=' here (or give the directory holding it)")
        raise InvalidValue(
            f"{text!r} names an interpreter, as {_ORIGINAL}'s python capability did: today "
            f"'bin' is a directory put first on PATH; {where}, and name the interpreter in "
            f"the manifest with 'bootstrap-python = {program}'")
    return _directories(text)


def _python_venv(text: str) -> str:
    """``venv=``: the virtualenv prepared on the worker that anybox.buildbot.odoo ran the
    bootstrap in.  Nothing reads it today, and ignoring it would change the interpreter."""
    raise InvalidValue(
        f"{_ORIGINAL}'s python capability option 'venv' (a virtualenv prepared on the worker) "
        "is not used: buildbot-odoo makes each builder's virtualenv from the manifest's "
        f"bootstrap-python; remove 'venv=' and write 'bootstrap-python = "
        f"{text.rstrip('/')}/bin/python' in the manifest to keep that interpreter")


def legacy_python_option(option: str, value: str) -> tuple[str | None, str] | None:
    """What anybox.buildbot.odoo's ``python`` capability option becomes, when it named an
    interpreter: ``(the option's value today, None to remove it; the interpreter, for the
    manifest's bootstrap-python)``; None when the value is today's already.

    >>> legacy_python_option('bin', 'python2.6')
    (None, 'python2.6')
    >>> legacy_python_option('bin', '/usr/bin/python2.7')
    ('/usr/bin', 'python2.7')
    >>> legacy_python_option('venv', '/srv/odoo-env/')
    (None, '/srv/odoo-env/bin/python')
    >>> legacy_python_option('bin', '/usr/bin') is None
    True
    """
    if option == "bin" and ":" not in value and _INTERPRETER_RE.match(value):
        directory, _, program = value.rpartition("/")
        return (directory or None), program
    if option == "venv" and value:
        return None, f"{value.rstrip('/')}/bin/python"
    return None


def _pg_role(text: str) -> str:
    if not _WORD_RE.match(text) or len(text.encode()) > MAX_ROLE_BYTES:
        raise InvalidValue(f"{text!r} is not a PostgreSQL role name (one word, not starting "
                           f"with '-', at most {MAX_ROLE_BYTES} bytes)")
    return text


def _secret_name(text: str) -> str:
    if not _WORD_RE.match(text):
        raise InvalidValue(f"{text!r} is not a secret name (one word, not starting with '-')")
    return text


def _x_display(text: str) -> str:
    if not _DISPLAY_RE.match(text):
        raise InvalidValue(f"{text!r} is not an X display (:0, host:0.0)")
    return text


#: capability -> option -> check; an option not listed is accepted as it is
BUILTIN_OPTION_VALUES: dict[str, dict[str, Callable[[str], str]]] = {
    "postgresql": {"port": _ports, "host": _pg_hosts, "bin": _directories,
                   "lib": _directories, "user": _pg_role, "password-secret": _secret_name},
    "python": {"bin": _python_bin, "venv": _python_venv},
    "wkhtmltopdf": {"display": _x_display},
}


def check_option_value(capability: str, option: str, value: str) -> None:
    """Raise :class:`InvalidValue` when ``value`` cannot be what ``option`` of a built-in
    ``capability`` is (the message quotes the value).

    >>> check_option_value('postgresql', 'port', '5433')
    >>> check_option_value('postgresql', 'port', '1e5')
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '1e5' is not a whole number
    >>> check_option_value('rabbitmq', 'base_uri-secret', '-x')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    buildbot_odoo.config.values.InvalidValue: '-x' is not a secret name ...
    """
    check = BUILTIN_OPTION_VALUES.get(capability, {}).get(option)
    if check is None and option.endswith(SECRET_SUFFIX):
        check = _secret_name  # OPTION-secret names a Buildbot secret, on any capability
    if check is not None and value:
        check(value)
