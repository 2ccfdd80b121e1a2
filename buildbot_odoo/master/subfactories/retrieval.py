"""Getting the buildout onto the worker, one function per ``buildout`` type (SPEC 5).

A retriever is ``(configurator, options) -> (steps, buildout_path)``, where
``buildout_path`` is the configuration file to run, relative to the build
directory.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from buildbot.plugins import steps

from .base import BuildOptions


def standalone(configurator, options: BuildOptions) -> tuple[list, str]:
    """Download the standalone buildout file from the master into the build directory."""
    source = options.build.buildout
    assert source is not None and source.local_path is not None
    name = PurePosixPath(source.conf).name
    step = steps.FileDownload(mastersrc=str(source.local_path), workerdest=name,
                              name="download buildout", haltOnFailure=True)
    return [step], name


RETRIEVERS = {"standalone": standalone}
