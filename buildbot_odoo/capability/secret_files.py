"""Secrets that reach build commands as files on the worker, never in their environment.

Why files: buildbot-worker writes the whole environment of every command it
runs to its own ``twistd.log`` (``RunProcess`` logs it whenever ``logEnviron``
is on, Buildbot's default, so that the stdio header can show it).  The master
replaces a secret's value by ``<NAME>`` in what it stores, but the worker's own
log keeps the clear value: a password in an environment variable ends up in a
log on every worker.  PostgreSQL's libpq reads passwords from the file named
by ``PGPASSFILE`` (its documentation advises against ``PGPASSWORD`` for a
similar reason: process environments are visible).  So the built-in
``postgresql`` capability sends the secret named by its ``password-secret``
option as a password file (mode 0600, in the builder's directory on the
worker, removed at the end of the build) and the environment only holds its
path.

A capability definition's ``secret_files`` maps a variable to the option that
names the secret, and the file's format::

    {"PGPASSFILE": {"option": "password-secret", "format": "pgpass"}}
    {"RMQ_PASSWORD_FILE": "password-secret"}      # the secret as is ("raw")

Plain Python: the steps that write and remove the files are Buildbot's own
(``DownloadSecretsToWorker``, ``RemoveWorkerFileSecret``), see
:mod:`buildbot_odoo.master.steps.capability`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: directory of the secret files, in the builder's directory on the worker (next to build/)
SECRET_FILES_DIR = ".capability-secrets"
FORMATS = ("raw", "pgpass")


@dataclass(frozen=True)
class SecretFile:
    """``option`` of the capability names a Buildbot secret; written in ``format``."""

    option: str
    format: str = "raw"


def parse_secret_file(value: object) -> SecretFile:
    """``"option"`` or ``{"option": ..., "format": ...}``; ValueError says what is wrong."""
    if isinstance(value, str):
        value = {"option": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{value!r} is neither an option name nor a dict with 'option'")
    unknown = set(value) - {"option", "format"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} (known: format, option)")
    option, fmt = value.get("option"), value.get("format", "raw")
    if not isinstance(option, str) or not option.strip():
        raise ValueError(f"option {option!r} is not an option name")
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return SecretFile(option.strip(), fmt)


def file_content(fmt: str, secret: str) -> str:
    """The file's text for a secret's value."""
    if fmt == "pgpass":
        return pgpass_line(secret)
    return secret


def pgpass_line(password: str) -> str:
    """One libpq password-file line for any host, port, database and user.

    The file is made for one build and only this build's commands read it,
    so every field but the password is ``*``.  libpq reads ``\\`` and ``:``
    escaped by a backslash; a line ends the entry, so a password cannot hold one.
    """
    if "\n" in password or "\r" in password:
        raise ValueError("a PostgreSQL password in a password file cannot contain a line break")
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


def secret_file_name(capability: str, variable: str) -> str:
    """The file's name in :data:`SECRET_FILES_DIR`: one per capability and variable."""
    return f"{capability}-{variable}"


def declares_secret_files(secret_options: Mapping[str, Iterable[str]],
                          declared: Iterable[tuple[str, Mapping[str, str]]]) -> bool:
    """Whether any declaration sets an option that names a secret file.

    ``secret_options`` maps a capability name to its secret-file options;
    ``declared`` gives (capability name, options) of the workers' capability
    lines.  Builders whose workers never set one need no secret-file steps.
    """
    return any(options.get(option) for name, options in declared
               for option in secret_options.get(name, ()))
