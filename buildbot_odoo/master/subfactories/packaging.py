"""``packaging``: a ``.tar.bz2`` of the built buildout, uploaded for ``archive`` builds.

Two halves, the same name in both lists::

    post-dl-steps = packaging
    post-buildout-steps = install-modules-test packaging

* post-download (:func:`packaging_post_download`): ``remove-package-leftovers``
  (``dist/`` of the builder's directory) and ``package-name``, so that a build
  that cannot name its package stops before the long buildout;
* post-buildout (:func:`packaging`): after the tests, ``make-package``
  (the worker script ``make_package.py``) archives the chosen paths of the
  buildout directory as ``dist/<name>.tar.bz2`` with its ``.md5``, then
  ``upload-package`` and ``upload-package-checksum`` send both to the master,
  into exactly the layout the ``archive`` retriever reads:
  ``<packaging.root-dir>/<packaging.upload-dir>/<name>.tar.bz2`` and ``.md5``
  (the checksum last: its presence means the archive is complete), each with a
  link on the build page when ``packaging.base-url`` gives the URL the root
  directory is served at;
* final clean-up: ``remove-package`` removes ``dist/``.

The name is ``<packaging.prefix>-<value of packaging.version-property>``; the
build properties ``packaging_dir`` and ``packaging_name`` carry the upload
directory and the name, for a consuming build (``buildout = archive
packaging_dir packaging_name CONF``).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from buildbot.plugins import steps, util
from buildbot.process.results import SKIPPED

from ...config import values
from ..steps.packaging import PACKAGE_NAME_PROPERTY, SetPackageName
from .base import BuildOptions
from .manifest_values import (
    PACKAGES,
    accepts,
    config_error,
    identifier,
    identifiers,
    master_area,
    relative_path,
    relative_paths,
    text,
    words,
)
from .retrieval import ARCHIVE_SUFFIX, BUILD_DIR, TAG_KINDS, TAG_PROPERTY
from .worker_side import send_script, worker_python

DIST_DIR = "dist"
SCRIPT = "make_package.py"
#: never worth shipping: bytecode and version control data
DEFAULT_EXCLUDES = ("*.pyc", "__pycache__", ".git", ".hg", ".bzr")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
OPTIONS = ("root-dir", "upload-dir", "prefix", "version-property", "parts", "include",
           "exclude", "base-url")


def root_dir(configurator, options: BuildOptions) -> Path:
    if not text(options, "packaging.root-dir"):
        config_error(options, "packaging.root-dir", "packaging needs 'packaging.root-dir', the "
                     "master directory receiving the archives (an archive build's "
                     "archive.root-dir)")
    return master_area(configurator, options, "packaging.root-dir", kind=PACKAGES)


def upload_dir(options: BuildOptions) -> str:
    return relative_path(options, "packaging.upload-dir", options.build.name)


def default_version_property(options: BuildOptions) -> str:
    """A release tag for hgtag and gittag buildouts, the revision for VCS ones, else the
    build number."""
    source = options.build.buildout
    kind = source.kind if source is not None else ""
    if kind in TAG_KINDS:
        return TAG_PROPERTY
    if kind in ("git", "hg", "bzr"):
        return "got_revision"
    return "buildnumber"


def package_name_step(options: BuildOptions, **kwargs) -> SetPackageName:
    prefix = text(options, "packaging.prefix", options.build.name)
    if not _PREFIX_RE.match(prefix):
        config_error(options, "packaging.prefix", f"{prefix!r} is not a safe file name start")
    prop = identifier(options, "packaging.version-property", "property",
                      default_version_property(options))
    return SetPackageName(prefix, prop, upload_dir(options), **kwargs)


def package_paths(options: BuildOptions, buildout_path: str) -> list[str]:
    """The buildout configuration, ``parts/<part>`` of each part, and the included paths."""
    parts = identifiers(options, "packaging.parts", "part")
    paths = [buildout_path, *(posixpath.join("parts", p) for p in parts),
             *relative_paths(options, "packaging.include", root_ok=True)]
    return list(dict.fromkeys(posixpath.normpath(p) for p in paths))


def _in_dist(suffix: str) -> util.Interpolate:
    return util.Interpolate(f"{DIST_DIR}/%(prop:{PACKAGE_NAME_PROPERTY})s{suffix}")


def _on_master(directory: Path, suffix: str) -> util.Transform:
    """``directory/<packaging_name><suffix>``; no interpolation of the configured path."""
    return util.Transform(lambda name: str(directory / f"{name}{suffix}"),
                          util.Property(PACKAGE_NAME_PROPERTY))


def _download_url(base_url: str, directory: str, suffix: str) -> util.Transform | None:
    """``<packaging.base-url>/<upload-dir>/<name><suffix>``: a link on the build page to
    the uploaded file, when ``packaging.base-url`` says where the root directory is served."""
    if not base_url:
        return None
    return util.Transform(lambda name: f"{base_url}/{directory}/{name}{suffix}",
                          util.Property(PACKAGE_NAME_PROPERTY))


def _check_post_buildout_half(options: BuildOptions) -> None:
    if "packaging" not in options.build.post_buildout_steps:
        config_error(options, "post-dl-steps", "packaging in post-dl-steps prepares a package "
                     "that 'packaging' in post-buildout-steps makes: add it there")


def packaging_post_download(configurator, options: BuildOptions, buildout_path: str,
                            environ) -> list:
    """Remove what a previous package left, and name this one before the buildout."""
    _check_post_buildout_half(options)
    root_dir(configurator, options)  # checked now, used by the other half
    return [
        steps.ShellCommand(command=["rm", "-rf", DIST_DIR], workdir=".",
                           name="remove-package-leftovers", haltOnFailure=True),
        package_name_step(options),
    ]


@accepts(*OPTIONS)
def packaging(configurator, options: BuildOptions, buildout_path: str, environ) -> list:
    """Archive the built buildout's chosen paths and upload them with their checksum."""
    destination = root_dir(configurator, options) / upload_dir(options)
    try:
        values.relative_path(buildout_path)
    except values.InvalidValue as exc:
        config_error(options, "buildout", f"cannot package a buildout configuration outside "
                     f"the buildout directory: {exc}")
    excludes = [*DEFAULT_EXCLUDES, *words(options, "packaging.exclude")]
    send, script = send_script(SCRIPT)
    make = steps.ShellCommand(
        command=[worker_python(options), script, "--source", BUILD_DIR,
                 "--output", _in_dist(ARCHIVE_SUFFIX),
                 *(f"--exclude={pattern}" for pattern in excludes),
                 "--", *package_paths(options, buildout_path)],
        workdir=".", env=environ, name="make-package", descriptionDone="package made",
        haltOnFailure=True)
    base_url = text(options, "packaging.base-url").rstrip("/")
    uploads = [steps.FileUpload(workersrc=_in_dist(suffix), masterdest=_on_master(destination,
                                                                                    suffix),
                                url=_download_url(base_url, upload_dir(options), suffix),
                                mode=0o644, workdir=".", name=name, haltOnFailure=True)
               for name, suffix in (("upload-package", ARCHIVE_SUFFIX),
                                    ("upload-package-checksum", ARCHIVE_SUFFIX + ".md5"))]
    name = package_name_step(  # named already by the post-download half: hidden
        options, doStepIf=lambda step: not step.getProperty(PACKAGE_NAME_PROPERTY),
        hideStepIf=lambda results, step: results == SKIPPED)
    return [name, send, make, *uploads]


def remove_package(configurator, options: BuildOptions, environ) -> list:
    """Final clean-up: the archive is on the master; no copy stays on the worker."""
    return [steps.ShellCommand(command=["rm", "-rf", DIST_DIR], workdir=".",
                               name="remove-package", alwaysRun=True, haltOnFailure=False,
                               flunkOnFailure=False, warnOnFailure=True)]


packaging.final_cleanup_steps = remove_package  # type: ignore[attr-defined]
packaging_post_download.final_cleanup_steps = remove_package  # type: ignore[attr-defined]
packaging_post_download.options = OPTIONS  # type: ignore[attr-defined]
