"""Where things are on the worker, and how our helper scripts get there.

Helper scripts live in ``buildbot_odoo/worker_scripts`` (standard library
only) and are sent by each build that needs them with Buildbot's
``FileDownload`` into ``worker-scripts/`` of the builder's directory, beside
``build/``: no worker installation step, and the script always matches the
master's version.  They run with ``bootstrap-python`` (default ``python3``),
the interpreter the build already relies on.
"""

from __future__ import annotations

import functools
import posixpath

from buildbot.plugins import steps, util

from .base import BuildOptions
from .bootstrap import DEFAULT_PYTHON
from .retrieval import BUILD_DIR, worker_script

#: in the builder's directory (workdir ".")
WORKER_SCRIPTS_DIR = "worker-scripts"


def send_script(name: str, **kwargs) -> tuple[steps.FileDownload, str]:
    """The step sending ``worker_scripts/<name>``, and its path from the builder's directory."""
    path = posixpath.join(WORKER_SCRIPTS_DIR, name)
    kwargs.setdefault("name", f"download-{name.removesuffix('.py').replace('_', '-')}")
    kwargs.setdefault("haltOnFailure", True)
    step = steps.FileDownload(mastersrc=worker_script(name), workerdest=path, workdir=".",
                              **kwargs)
    return step, path


def worker_python(options: BuildOptions) -> str:
    """The interpreter helper scripts run with: ``bootstrap-python`` or ``python3``."""
    return options.build.bootstrap.get("python", DEFAULT_PYTHON)


@functools.lru_cache(maxsize=256)
def in_build_dir(*parts: str) -> util.Interpolate:
    """Absolute path of ``parts`` in the build (buildout) directory, rendered at build time.

    Odoo wants absolute paths (``--logfile``); only the worker knows its own.  One
    renderable per path, shared by every build's steps (rendering never changes it).
    """
    return util.Interpolate(posixpath.join("%(prop:builddir)s", BUILD_DIR, *parts))


@functools.lru_cache(maxsize=256)
def in_builder_dir(*parts: str) -> util.Interpolate:
    """Absolute path of ``parts`` in the builder's directory (beside ``build``); shared
    like :func:`in_build_dir`'s."""
    return util.Interpolate(posixpath.join("%(prop:builddir)s", *parts))


def extend_environ(environ, **extra: object):
    """``environ`` plus ``extra`` variables (values may be renderables).

    ``environ`` is the build's :class:`CapabilityEnvironment` (or, from a
    user's own code, a plain dict); the capability variables are kept.
    """
    if hasattr(environ, "with_extra"):
        return environ.with_extra(**extra)
    return {**(environ or {}), **extra}


def odoo_config_file(options: BuildOptions) -> util.Interpolate:
    """Absolute path of the part's Odoo configuration file (``etc/<part>.cfg``).

    anybox.recipe.odoo writes the part's ``options.*`` there, including the
    testing database settings the buildout step passed.
    """
    return in_build_dir("etc", f"{options.build.buildout_part}.cfg")
