"""libpq's connection failures, as createdb, dropdb, psql and Odoo print them."""

from __future__ import annotations

import doctest

import pytest

from buildbot_odoo.reports import pg_connection
from buildbot_odoo.reports.pg_connection import PgConnectionWatcher


def failure(*lines: str) -> str | None:
    watcher = PgConnectionWatcher()
    for line in lines:
        watcher.feed_line(line)
    watcher.close()
    return None if watcher.failure is None else str(watcher.failure)


@pytest.mark.parametrize(("lines", "expected"), [
    # PostgreSQL >= 14, TCP, a host name and its address
    (['createdb: error: connection to server at "db.example" (10.0.0.5), port 5433 failed: '
      'Connection refused',
      '\tIs the server running on that host and accepting TCP/IP connections?'],
     "could not connect to PostgreSQL at db.example:5433: Connection refused"),
    # Odoo's traceback (psycopg2), then the stand-in's (psql)
    (['psycopg2.OperationalError: connection to server at "127.0.0.1", port 5999 failed: '
      'Connection refused'],
     "could not connect to PostgreSQL at 127.0.0.1:5999: Connection refused"),
    (['odoo.sql_db.OperationalError: psql: error: connection to server at "127.0.0.1", '
      'port 5999 failed: Connection refused'],
     "could not connect to PostgreSQL at 127.0.0.1:5999: Connection refused"),
    # a Unix socket
    (['dropdb: error: connection to server on socket "/run/pg/.s.PGSQL.5433" failed: '
      'No such file or directory',
      '\tIs the server running locally and accepting connections on that socket?'],
     "could not connect to PostgreSQL at /run/pg (port 5433): No such file or directory"),
    # reachable, but refusing the role: still libpq's words
    (['psql: error: connection to server at "h", port 5432 failed: FATAL:  password '
      'authentication failed for user "ci"'],
     'could not connect to PostgreSQL at h:5432: FATAL:  password authentication failed '
     'for user "ci"'),
    # older libpq (PostgreSQL <= 13)
    (['createdb: could not connect to database template1: could not connect to server: '
      'Connection refused',
      '\tIs the server running on host "localhost" (127.0.0.1) and accepting',
      '\tTCP/IP connections on port 5432?'],
     "could not connect to PostgreSQL at localhost:5432: Connection refused"),
    (['psql: could not connect to server: No such file or directory',
      '\tIs the server running locally and accepting',
      '\tconnections on Unix domain socket "/var/run/postgresql/.s.PGSQL.5432"?'],
     "could not connect to PostgreSQL at /var/run/postgresql (port 5432): No such file or "
     "directory"),
    # nothing of the kind
    (["ERROR:  database \"x\" is being accessed by other users"], None),
])
def test_libpq_messages(lines, expected):
    assert failure(*lines) == expected


def test_the_first_failure_is_kept():
    assert failure('connection to server at "a", port 1 failed: first',
                   'connection to server at "b", port 2 failed: second') == \
        "could not connect to PostgreSQL at a:1: first"


def test_doctests():
    assert doctest.testmod(pg_connection).failed == 0
