"""``doc``: a Sphinx build from the buildout, published on the master per builder.

1. ``remove-old-doc``: the previous output (the buildout directory of a
   standalone buildout survives between builds);
2. ``sphinx``: Buildbot's own ``Sphinx`` step (``sphinx-build [-b BUILDER]
   [-E] [-W] SOURCEDIR OUTDIR``, warnings counted), with the buildout's
   ``bin/sphinx-build``;
3. when it succeeded: ``clear-doc-staging``, ``upload-doc`` (Buildbot's
   ``DirectoryUpload``) into ``<doc.upload-dir>/<builder>.uploading`` on the
   master, then ``publish-doc`` swaps it with ``<doc.upload-dir>/<builder>``:
   the published tree is always one whole build's output, files removed from
   the project disappear, and a failed build leaves the last good one online.
   ``<builder>`` is the builder running the build, known when it runs (the
   build's builders share its factory).

``doc.upload-dir`` is relative to the master's base directory (or absolute), an
area of its own: not the base directory, nor the master's own files
(:func:`~.manifest_values.master_area`);
serve it with any web server, and give its URL as ``doc.base-url`` to get a
link on the build page.
"""

from __future__ import annotations

import os
import posixpath
import re

from buildbot.plugins import steps
from buildbot.process.results import SUCCESS, WARNINGS
from twisted.internet import defer

from ..steps.master_files import ClearMasterDirectory, PublishMasterDirectory
from ..steps.running_builder import BuilderName
from .base import BuildOptions
from .manifest_values import (
    accepts,
    boolean,
    config_error,
    executable,
    master_area,
    relative_path,
    seconds_option,
    text,
)
from .retrieval import BUILD_DIR

DOC_BUILT_PROPERTY = "doc_built"
DEFAULT_UPLOAD_DIR = "docs"
STAGING_SUFFIX = ".uploading"
_BUILDER_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_WEB_URL_RE = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


class SphinxDoc(steps.Sphinx):
    """Buildbot's Sphinx step, recording that the documentation was built."""

    @defer.inlineCallbacks
    def run(self):
        result = yield super().run()
        if result in (SUCCESS, WARNINGS):
            self.setProperty(DOC_BUILT_PROPERTY, True, "Sphinx", runtime=True)
        return result


def _built(step) -> bool:
    return bool(step.getProperty(DOC_BUILT_PROPERTY))


@accepts("sourcedir", "outdir", "builder", "sphinx", "mode", "strict", "upload-dir",
         "base-url", "timeout")
def doc(configurator, options: BuildOptions, buildout_path: str, environ) -> list:
    """Build the documentation with Sphinx and publish it on the master."""
    sourcedir = relative_path(options, "doc.sourcedir", "doc", root_ok=True)
    builder = text(options, "doc.builder", "html")
    if not _BUILDER_RE.match(builder):
        config_error(options, "doc.builder", f"{builder!r} is not a Sphinx builder name")
    outdir = relative_path(options, "doc.outdir", posixpath.join(sourcedir, "_build", builder))
    mode = text(options, "doc.mode", "full")
    if mode not in ("full", "incremental"):
        config_error(options, "doc.mode", f"{mode!r} is not 'full' or 'incremental'")
    area = master_area(configurator, options, "doc.upload-dir", DEFAULT_UPLOAD_DIR)
    published = BuilderName(os.path.join(area, ""))
    staging = BuilderName(os.path.join(area, ""), STAGING_SUFFIX)
    base_url = text(options, "doc.base-url")
    if base_url and not _WEB_URL_RE.match(base_url):  # a link on the build page
        config_error(options, "doc.base-url", f"{base_url!r} is not an http:// or https:// URL")
    base_url = base_url.rstrip("/")
    timeout = seconds_option(options, "doc.timeout", None)
    return [
        # RemoveDirectory's dir is relative to the builder's directory, not the workdir
        steps.RemoveDirectory(dir=posixpath.join(BUILD_DIR, outdir), name="remove-old-doc",
                              haltOnFailure=True),
        SphinxDoc(sphinx_sourcedir=sourcedir, sphinx_builddir=outdir, sphinx_builder=builder,
                  sphinx=executable(options, "doc.sphinx", "bin/sphinx-build"), mode=mode,
                  strict_warnings=boolean(options, "doc.strict", False), env=environ,
                  name="sphinx", haltOnFailure=False,
                  **({} if timeout is None else {"timeout": timeout})),
        ClearMasterDirectory(staging, name="clear-doc-staging", doStepIf=_built),
        steps.DirectoryUpload(workersrc=outdir, masterdest=staging, compress="gz",
                              url=BuilderName(f"{base_url}/", "/") if base_url else None,
                              name="upload-doc", haltOnFailure=True, doStepIf=_built),
        PublishMasterDirectory(staging, published, name="publish-doc", doStepIf=_built),
    ]
