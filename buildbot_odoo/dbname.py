"""The testing database name: ``<db_prefix>-<builder name>``, made safe (SPEC 6).

The prefix comes from the worker (``db_prefix`` in workers.cfg) and is known
only at build time; this module is the pure rule the build-time renderer
applies, so it can be tested without Buildbot.

Three things must hold for a name to be usable as a testing database:

* it is accepted unquoted by the command-line tools and by Odoo: only
  ``[a-z0-9_-]``, never starting with ``-`` (it would read as an option);
* it fits PostgreSQL's identifier limit (63 bytes), which PostgreSQL enforces
  by silently truncating -- two long builder names would then share, and
  drop, each other's database;
* two builders never get the same name.

Names already safe and short enough are used as they are.  Otherwise a short
hash of the *original* name is appended, so that neither sanitising (``A.b``
and ``a_b``) nor truncating can make two builders collide.
"""

from __future__ import annotations

import hashlib
import re

#: PostgreSQL's NAMEDATALEN - 1
MAX_IDENTIFIER_BYTES = 63
DEFAULT_DB_PREFIX = "odoo_buildbot"
#: the build property holding the name, set early in every build using PostgreSQL
TESTING_DB_PROPERTY = "testing_db"
HASH_LENGTH = 8
_UNSAFE = re.compile(r"[^a-z0-9_-]")


def testing_db_name(prefix: str | None, builder: str) -> str:
    """The testing database of ``builder`` on a worker whose prefix is ``prefix``.

    >>> testing_db_name('odoo_buildbot', 'sale-pg15')
    'odoo_buildbot-sale-pg15'
    >>> testing_db_name('ci', 'Sale-pg9.2devel')
    'ci-sale-pg9_2devel-9bc3b6e6'
    >>> len(testing_db_name('ci', 'x' * 100))
    63
    """
    original = f"{prefix}-{builder}" if prefix else builder
    safe = _sanitise(original)
    if safe == original and len(safe) <= MAX_IDENTIFIER_BYTES:
        return safe
    digest = hashlib.sha256(original.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    head = safe[:MAX_IDENTIFIER_BYTES - HASH_LENGTH - 1]
    return f"{head}-{digest}"


def _sanitise(name: str) -> str:
    """Lower case, unsafe characters as ``_``, no leading ``-``; never empty."""
    return _UNSAFE.sub("_", name.lower()).lstrip("-") or "db"
