"""Which known option name an unknown one was probably meant to be.

Used by every reader that warns about unknown names, so that workers.cfg and
MANIFEST.cfg give the same hints.  The known names are data the caller
passes (its declared options, plus any alias table: an alias leads to the
name it stands for), never a list kept here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

#: how alike two names must be (difflib's ratio) for one to be suggested for the other,
#: where an unknown name is legitimate (a worker property): only close typos
CUTOFF = 0.8
#: difflib's own default, where every unknown name is a mistake (MANIFEST.cfg)
LOOSE_CUTOFF = 0.6


def normalised(name: str) -> str:
    """Case and the choice of ``-`` or ``_`` ignored: ``Max-Builds`` is ``max_builds``.

    >>> normalised('Build_Only-If-requires')
    'build-only-if-requires'
    """
    return name.lower().replace("_", "-")


def closest_name(name: str, known: Iterable[str],
                 aliases: Mapping[str, str] | None = None, cutoff: float = CUTOFF) -> str | None:
    """The known name ``name`` was probably meant as, or None.

    A name equal to a known one but for case and ``-``/``_`` is that one;
    otherwise the most alike known name, when alike enough.  A suggested
    alias is replaced by the name it stands for.

    >>> closest_name('max-builds', ['max_builds', 'db_prefix'])
    'max_builds'
    >>> closest_name('max_bulids', ['max_builds', 'db_prefix'])
    'max_builds'
    >>> closest_name('arch', ['max_builds', 'db_prefix']) is None
    True
    >>> closest_name('old-name', ['new_name'], aliases={'old_name': 'new_name'})
    'new_name'
    """
    aliases = aliases or {}
    candidates = list(dict.fromkeys([*known, *aliases]))
    if name in candidates:
        return None
    by_form = {normalised(c): c for c in reversed(candidates)}
    found = by_form.get(normalised(name))
    if found is None:
        close = difflib.get_close_matches(normalised(name), list(by_form), n=1, cutoff=cutoff)
        found = by_form[close[0]] if close else None
    return aliases.get(found, found) if found is not None else None
