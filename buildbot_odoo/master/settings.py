"""Attributes set on a configurator that are none of its settings: most likely typos.

``conf.tree_stabel_timer = 60`` in master.cfg makes a new attribute that
nothing reads; Python does not say so.  The settings are whatever a fresh
configurator has (so a setting added to ``__init__`` is known at once); an
attribute resembling one of them is warned about with its name.  Attributes
resembling none are the user's own (data for their subfactories): left alone.
Subclasses, which may add settings of their own, are not checked.
"""

from __future__ import annotations

from ..config.spelling import closest_name
from ..errors import Problem
from ..watching.plan import MASTER_CFG


def misspelled_settings(configurator: object) -> list[Problem]:
    cls = type(configurator)
    reference = cls(configurator.basedir)  # type: ignore[call-arg,attr-defined]
    known = [name for name in vars(reference) if not name.startswith("_")]
    problems = []
    for name in sorted(set(vars(configurator)) - set(known)):
        meant = None if name.startswith("_") else closest_name(name, known)
        if meant is not None:
            problems.append(Problem(
                f"not a setting of {cls.__name__}, so it changes nothing: did you mean "
                f"{meant!r}?", file=MASTER_CFG, option=name, severity="warning"))
    return problems
