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
* two different (prefix, builder) pairs never get the same name: two
  workers sharing a cluster with different prefixes, or two builders of one
  worker, must not drop each other's database.

A *plain* name, ``<prefix>-<builder>`` as it is, is used when it is safe and
short enough, when the prefix has no ``-`` (then the first ``-`` of the name
is the boundary: ``x-odoo-17`` + ``pg15`` and ``x`` + ``odoo-17-pg15`` would
both read ``x-odoo-17-pg15``) and when it does not end like a changed name.
Otherwise the name is *changed*: sanitised, cut, and ended by ``-`` and
:data:`HASH_LENGTH` hexadecimal digits of a hash of the pair (the prefix
and the builder apart, not joined).  So plain names are distinct from each
other, changed names never look plain, and changed names collide only if
48-bit hashes do.  Workers sharing one cluster with one prefix are another
matter: see :mod:`buildbot_odoo.testing_dbs`.
"""

from __future__ import annotations

import hashlib
import re

#: PostgreSQL's NAMEDATALEN - 1
MAX_IDENTIFIER_BYTES = 63
DEFAULT_DB_PREFIX = "odoo_buildbot"
#: the build property holding the name, set early in every build using PostgreSQL
TESTING_DB_PROPERTY = "testing_db"
HASH_LENGTH = 12
_UNSAFE = re.compile(r"[^a-z0-9_-]")
_CHANGED_END = re.compile(rf"-[0-9a-f]{{{HASH_LENGTH}}}$")


def testing_db_name(prefix: str | None, builder: str) -> str:
    """The testing database of ``builder`` on a worker whose prefix is ``prefix``.

    >>> testing_db_name('odoo_buildbot', 'sale-pg15')
    'odoo_buildbot-sale-pg15'
    >>> testing_db_name('ci', 'Sale-pg9.2devel')
    'ci-sale-pg9_2devel-35b47e3a1780'
    >>> testing_db_name('team-a', 'sale')
    'team-a-sale-1ceab053670b'
    >>> len(testing_db_name('ci', 'x' * 100))
    63
    """
    original = f"{prefix}-{builder}" if prefix else builder
    if _is_plain(prefix or "", original):
        return original
    digest = hashlib.sha256(f"{prefix or ''}\0{builder}".encode()).hexdigest()[:HASH_LENGTH]
    head = _sanitise(original)[:MAX_IDENTIFIER_BYTES - HASH_LENGTH - 1]
    return f"{head}-{digest}"


#: the databases a builder keeps besides its testing one, by kind (see :func:`builder_db_name`)
DEPENDENCIES = "deps"
BUILDING = "deps-new"


def builder_db_name(prefix: str | None, builder: str, kind: str) -> str:
    """A database of ``builder``'s own besides the testing one: its dependencies template
    (:data:`DEPENDENCIES`) and the database that template is made in (:data:`BUILDING`).

    Always in the *changed* form, the hash taking ``kind`` too: never equal to
    a plain testing database name, nor to a changed one (unless 48-bit hashes
    collide), nor to another builder's, so the rules of
    :mod:`buildbot_odoo.testing_dbs` hold for them as for testing databases.

    >>> builder_db_name('odoo_buildbot', 'sale-pg15', DEPENDENCIES)
    'odoo_buildbot-sale-pg15-deps-8c5343422f56'
    >>> len(builder_db_name('ci', 'x' * 100, BUILDING))
    63
    """
    original = f"{prefix}-{builder}-{kind}" if prefix else f"{builder}-{kind}"
    digest = hashlib.sha256(f"{prefix or ''}\0{builder}\0{kind}".encode()).hexdigest()
    head = _sanitise(original)[:MAX_IDENTIFIER_BYTES - HASH_LENGTH - 1]
    return f"{head}-{digest[:HASH_LENGTH]}"


def _is_plain(prefix: str, name: str) -> bool:
    return ("-" not in prefix and _sanitise(name) == name
            and len(name) <= MAX_IDENTIFIER_BYTES and not _CHANGED_END.search(name))


def _sanitise(name: str) -> str:
    """Lower case, unsafe characters as ``_``, no leading ``-``; never empty."""
    return _UNSAFE.sub("_", name.lower()).lstrip("-") or "db"
