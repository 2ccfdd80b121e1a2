"""What a step says when an Odoo script of the buildout is missing (SPEC 6, item 7).

Shared by the steps running Odoo (:mod:`.odoo`) and the one installing the
addons' dependencies (:mod:`.dependencies`): a script the buildout did not make
is named with the recipe option that makes it.
"""

from __future__ import annotations

from .base import BuildOptions


def missing_hint(options: BuildOptions, program: str) -> str:
    """What makes ``program`` in a buildout of oca.recipe.odoo, for a step whose program is
    missing (``<program> not made by the buildout: <hint>``)."""
    build = options.build
    part = build.buildout_part
    if program == f"bin/test_{part}":
        return ("oca.recipe.odoo writes it only when the part sets with_devtools = true "
                "(buildout.with-devtools), and on Python 3 it cannot run: leave test-command "
                "unset to test with the start script")
    if program == f"bin/upgrade_{part}":
        return "oca.recipe.odoo writes it unless the part sets upgrade_script to nothing"
    if program == f"bin/start_{part}":
        return (f"is the buildout's Odoo part [{part}] (buildout-part) made by "
                "oca.recipe.odoo or anybox.recipe.odoo? see the buildout step's log")
    return "check the command in the manifest and the buildout step's log"
