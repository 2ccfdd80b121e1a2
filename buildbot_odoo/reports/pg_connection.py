"""libpq's "could not connect" in what a command printed: where, and why (SPEC 6).

``createdb``, ``dropdb``, ``psql`` and Odoo (psycopg2) all reach PostgreSQL
through libpq, which says why a connection failed in one of two forms::

    connection to server at "db.example" (10.0.0.5), port 5433 failed: Connection refused
    connection to server on socket "/run/pg/.s.PGSQL.5433" failed: No such file or directory

(PostgreSQL 14 and later), or, older::

    could not connect to server: Connection refused
        Is the server running on host "db.example" (10.0.0.5) and accepting
        TCP/IP connections on port 5433?

A tool prefixes it (``createdb: error: ``), Odoo's traceback ends with it
(``psycopg2.OperationalError: ...``).  :class:`PgConnectionWatcher` is fed a
step's output line by line and keeps the first such failure, so the step's
summary names the server and libpq's words instead of "exit code 1" or
Odoo's "Failed to load registry".

>>> watcher = PgConnectionWatcher()
>>> watcher.feed_line('createdb: error: connection to server at "127.0.0.1", port 5999 '
...                   'failed: Connection refused')
>>> watcher.feed_line('\\tIs the server running on that host and accepting TCP/IP connections?')
>>> str(watcher.failure)
'could not connect to PostgreSQL at 127.0.0.1:5999: Connection refused'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: longest excerpt of libpq's message in a summary
MESSAGE_CHARS = 160

_AT = re.compile(r'connection to server at "(?P<host>[^"]*)"(?: \([^)]*\))?, port (?P<port>\d+) '
                 r'failed: (?P<message>.*)$')
_SOCKET = re.compile(r'connection to server on socket "(?P<socket>[^"]*?)'
                     r'(?:/\.s\.PGSQL\.(?P<port>\d+))?" failed: (?P<message>.*)$')
_OLD = re.compile(r"could not connect to server: (?P<message>.*)$")
_OLD_HOST = re.compile(r'on host "(?P<host>[^"]*)"')
_OLD_PORT = re.compile(r"(?:on port|connections on port) (?P<port>\d+)")
_OLD_SOCKET = re.compile(r'socket "(?P<socket>[^"]*?)(?:/\.s\.PGSQL\.(?P<port>\d+))?"')
#: lines after an old-style message that may still say where
_OLD_FOLLOWING = 3


@dataclass
class PgConnectionFailure:
    """Where the connection went, and libpq's reason."""

    host: str
    port: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.host}:{self.port}" if self.port and not self.host.startswith("/") \
            else (f"{self.host} (port {self.port})" if self.port else self.host)
        message = self.message.strip()
        if len(message) > MESSAGE_CHARS:
            message = message[:MESSAGE_CHARS - 3] + "..."
        return f"could not connect to PostgreSQL at {where}: {message}"


class PgConnectionWatcher:
    """Fed a command's output; ``failure`` is the first connection failure libpq reported."""

    def __init__(self) -> None:
        self.failure: PgConnectionFailure | None = None
        self._old: PgConnectionFailure | None = None
        self._old_left = 0

    def feed_line(self, line: str) -> None:
        if self.failure is not None:
            return
        if self._old is not None:
            self._complete_old(line)
            return
        found = _AT.search(line)
        if found:
            self.failure = PgConnectionFailure(found["host"], found["port"], found["message"])
            return
        found = _SOCKET.search(line)
        if found:
            self.failure = PgConnectionFailure(found["socket"], found["port"], found["message"])
            return
        found = _OLD.search(line)
        if found:
            self._old = PgConnectionFailure("", None, found["message"])
            self._old_left = _OLD_FOLLOWING

    def close(self) -> None:
        """The output ended: an old-style message without its host line still counts."""
        if self._old is not None:
            self._old.host = self._old.host or "the default host"
            self.failure, self._old = self.failure or self._old, None

    def _complete_old(self, line: str) -> None:
        old = self._old
        assert old is not None
        host, socket = _OLD_HOST.search(line), _OLD_SOCKET.search(line)
        if host:
            old.host = host["host"]
        elif socket:
            old.host, old.port = socket["socket"], socket["port"]
        port = _OLD_PORT.search(line)
        if port:
            old.port = port["port"]
        self._old_left -= 1
        if (old.host and old.port) or self._old_left == 0:
            old.host = old.host or "the default host"
            self.failure, self._old = old, None
