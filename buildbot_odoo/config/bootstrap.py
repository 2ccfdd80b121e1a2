"""What a build's virtualenv gets from the ``bootstrap-*`` options, and the pins known to break.

The defaults and the warnings are measurements, not opinions: real
zc.buildout and zc.recipe.egg releases from PyPI, installed in fresh
virtualenvs on Python 3.11, 3.12 and 3.13, building a flat-layout source
(``setup.py`` and package ``odoo`` side by side, as Odoo's) with a recipe
that develops it and makes scripts with ``zc.recipe.egg``, as
oca.recipe.odoo does; each with the source path sorting before and after
``<build>/develop-eggs`` (docs/build.md, "Bootstrap", has the table):

* zc.buildout 6.0.0 and 6.0.1 develop with ``pip install -e`` and copy the
  resulting ``odoo-<v>.dist-info`` and its import-hook ``.pth`` into
  ``develop-eggs/`` beside ``odoo.egg-link``.  Both are distributions of
  ``odoo`` of the same version; pkg_resources breaks the tie by location,
  so when the source path sorts before ``develop-eggs`` the dist-info wins,
  the scripts get ``develop-eggs`` on their path (where a ``.pth`` is not
  read) and die with ``No module named 'odoo'``.  Whatever zc.recipe.egg.
  Only with setuptools < 80 and pip < 25.3 (pip then runs ``setup.py
  develop``, which makes the egg-link alone) and a source without
  ``pyproject.toml`` does 6.x write the egg-link only.
* zc.buildout 5.2.0 keeps only the egg-link, with pip 23 to 26 and
  setuptools 65 to 81: it works with both orders.  Left alone, it picks the
  newest zc.recipe.egg, 6.0.0, which requires zc.buildout >= 6 and breaks
  the buildout; with zc.recipe.egg 4.0.0 installed beside it in the
  virtualenv, every recipe gets that one (zc.buildout loads recipes into its
  own process, whose working set already holds what the virtualenv has).  A
  buildout pinning another zc.recipe.egg then fails its first run with a
  VersionConflict: ``bootstrap-recipe-egg-version`` must say the same.
* zc.buildout 3.x picks zc.recipe.egg 6.0.0 too, and does not see one
  installed beside it (``DistributionNotFound``); 2.13 only sees
  zc.recipe.egg 2.0.7 (later ones are wheels only); 4.1 works with the
  zc.recipe.egg pip chooses beside it (3.0.0).

This module is plain data and functions on the option values: the bootstrap
step (``master/subfactories/bootstrap.py``) installs what
:func:`requirements` says, and the manifest loader reports
:func:`bootstrap_problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.version import Version

from . import values

#: the known-good pair installed when ``bootstrap-version`` is not given
DEFAULT_ZC_BUILDOUT = "5.2.0"
DEFAULT_ZC_RECIPE_EGG = "4.0.0"
#: ``bootstrap-<name>`` options holding a version, and the distribution each pins
VERSION_OPTIONS = {
    "version": "zc.buildout",
    "recipe-egg-version": "zc.recipe.egg",
    "setuptools-version": "setuptools",
    "pip-version": "pip",
}
#: zc.recipe.egg major version -> the oldest zc.buildout it requires (its wheel's metadata)
RECIPE_EGG_REQUIRES = {6: "6.0.0", 4: "5.0.0", 3: "4.0.0", 2: "2.12.0"}
#: from this zc.buildout major on, a zc.recipe.egg installed beside it is the one used
RECIPE_EGG_BESIDE_FROM = 4
#: from this zc.buildout major on, an import-hook dist-info is left beside the egg-link
DIST_INFO_DEVELOP_FROM = 6
#: below both, pip runs ``setup.py develop`` (egg-link only) for a setup.py-only source
LEGACY_DEVELOP_SETUPTOOLS = Version("80")
LEGACY_DEVELOP_PIP = Version("25.3")


@dataclass(frozen=True)
class BootstrapProblem:
    """A warning about a build's ``bootstrap-*`` pins: ``option`` is the full name."""

    option: str
    message: str


def requirements(options: Mapping[str, str]) -> list[str]:
    """What pip installs in the build virtualenv, from the ``bootstrap-*`` values.

    ``options`` maps option names without the ``bootstrap-`` prefix, as
    ``BuildSpec.bootstrap`` holds them.

    >>> requirements({})
    ['zc.buildout==5.2.0', 'zc.recipe.egg==4.0.0']
    >>> requirements({'version': '4.1.12', 'setuptools-version': '69.5.1'})
    ['zc.buildout==4.1.12', 'zc.recipe.egg', 'setuptools==69.5.1']
    >>> requirements({'version': '2.13.8'})
    ['zc.buildout==2.13.8']
    """
    pinned = {name: Version(options[name]) for name in VERSION_OPTIONS if options.get(name)}
    buildout = pinned.get("version")
    egg = pinned.get("recipe-egg-version")
    if buildout is None:
        buildout, egg = Version(DEFAULT_ZC_BUILDOUT), egg or Version(DEFAULT_ZC_RECIPE_EGG)
    made = [f"zc.buildout=={buildout}"]
    if egg is not None:
        made.append(f"zc.recipe.egg=={egg}")
    elif buildout.major >= RECIPE_EGG_BESIDE_FROM:
        made.append("zc.recipe.egg")  # pip picks the newest that this zc.buildout accepts
    for option in ("setuptools-version", "pip-version"):
        if option in pinned:
            made.append(f"{VERSION_OPTIONS[option]}=={pinned[option]}")
    return made


def reuse(options: Mapping[str, str]) -> bool:
    """``bootstrap-reuse``, default true (the manifest loader refused any other value)."""
    return values.boolean(options.get("reuse", "true"))


def bootstrap_problems(options: Mapping[str, str]) -> list[BootstrapProblem]:
    """The combinations known to break (each value was checked on its own when read).

    >>> [p.message for p in bootstrap_problems({'version': '6.0.1'})][0][:44]
    'zc.buildout 6.0.1 leaves beside odoo.egg-lin'
    >>> bootstrap_problems({'version': '5.2.0', 'recipe-egg-version': '4.0.0'})
    []
    """
    versions = {name: Version(options[name]) for name in VERSION_OPTIONS if options.get(name)}
    buildout = versions.get("version", Version(DEFAULT_ZC_BUILDOUT))
    found = _dist_info_develop(buildout, versions)
    found += _recipe_egg_mismatch(buildout, versions)
    if buildout.major == 3:
        found.append(BootstrapProblem("bootstrap-version", (
            f"zc.buildout {buildout} takes the newest zc.recipe.egg, which requires "
            f"zc.buildout >= 6, and does not use one installed beside it: pin "
            f"'zc.recipe.egg = 2.0.7' in the buildout's [versions], or leave "
            f"bootstrap-version unset ({DEFAULT_ZC_BUILDOUT})")))
    return found


def _dist_info_develop(buildout: Version, versions: Mapping[str, Version]
                       ) -> list[BootstrapProblem]:
    if buildout.major < DIST_INFO_DEVELOP_FROM:
        return []
    setuptools, pip = versions.get("setuptools-version"), versions.get("pip-version")
    if setuptools is not None and pip is not None and setuptools < LEGACY_DEVELOP_SETUPTOOLS \
            and pip < LEGACY_DEVELOP_PIP:
        return []
    return [BootstrapProblem("bootstrap-version", (
        f"zc.buildout {buildout} leaves beside odoo.egg-link an odoo-<version>.dist-info "
        f"whose .pth is an import hook in develop-eggs/: when the Odoo source path sorts "
        f"before <build>/develop-eggs (e.g. 'version = local /opt/odoo' on a worker under "
        f"/srv) the scripts fail with \"No module named 'odoo'\". Leave bootstrap-version "
        f"unset (zc.buildout {DEFAULT_ZC_BUILDOUT} with zc.recipe.egg "
        f"{DEFAULT_ZC_RECIPE_EGG}), or pin bootstrap-setuptools-version < "
        f"{LEGACY_DEVELOP_SETUPTOOLS} and bootstrap-pip-version < {LEGACY_DEVELOP_PIP} "
        f"(enough for an Odoo source without pyproject.toml)"))]


def _recipe_egg_mismatch(buildout: Version, versions: Mapping[str, Version]
                         ) -> list[BootstrapProblem]:
    egg = versions.get("recipe-egg-version")
    if egg is None:
        return []
    needs = RECIPE_EGG_REQUIRES.get(egg.major)
    if needs is None or buildout >= Version(needs):
        return []
    return [BootstrapProblem("bootstrap-recipe-egg-version", (
        f"zc.recipe.egg {egg} requires zc.buildout >= {needs}, and the bootstrap "
        f"installs zc.buildout {buildout}: pip cannot install both"))]

