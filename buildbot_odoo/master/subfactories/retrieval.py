"""Getting the buildout onto the worker, one function per ``buildout`` type (SPEC 5).

A retriever is ``(configurator, options) -> (steps, buildout_path)``, where
``buildout_path`` is the configuration file to run, relative to the build
directory (Buildbot's default step workdir, ``build``).

Choices that hold for every VCS retriever:

* The buildout is always taken at the tip of its configured branch
  (``alwaysUseLatest``).  A build is often triggered by a commit to one of the
  addon repositories the buildout pulls in, and Buildbot would otherwise
  apply that commit's branch and revision to the buildout's own checkout.
* The checkout is cleaned of everything untracked (``fresh``, or a new
  clone when shallow), so that no virtualenv, egg or Odoo file of a previous
  build survives; the shared caches make this cheap.
* With ``subdir=DIR`` the repository is checked out beside the build
  directory, in ``src``, and ``build`` becomes a symbolic link to ``src/DIR``:
  every later step, ours or a user's, then runs in the buildout's directory
  with the usual ``workdir``.  The configuration file is relative to DIR.

URLs are used as written: the master's rewrite rules are for its pollers only.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.source.mercurial import Mercurial
from twisted.internet import defer
from zope.interface import implementer

from ...config import values
from ...config.manifest import BuildoutSource
from .base import BuildOptions
from .manifest_values import PACKAGES, config_error, master_area, text

BUILD_DIR = "build"
CHECKOUT_DIR = "src"
ARCHIVE_DIR = "archive"
ARCHIVE_SUFFIX = ".tar.bz2"
TAG_PROPERTY = "buildout-tag"
#: buildout kinds checked out at the tag named by TAG_PROPERTY
TAG_KINDS = ("hgtag", "gittag")
WORKER_SCRIPTS = Path(__file__).resolve().parent.parent.parent / "worker_scripts"
_PROPERTY_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def worker_script(name: str) -> str:
    """Path, on the master, of a script of ``buildbot_odoo/worker_scripts`` to send."""
    path = WORKER_SCRIPTS / name
    if not path.is_file():
        raise FileNotFoundError(f"worker script {name!r} is missing from {WORKER_SCRIPTS}")
    return str(path)


class RequireProperties(buildstep.BuildStep):
    """Fail early, with a message saying why, when build properties are missing.

    ``path_like`` properties must also be paths inside their root (the rule of
    :func:`buildbot_odoo.config.values.relative_path`): their values end up in
    file paths on the master and on the worker.  ``hg_tags`` and ``git_tags`` must
    be tag names of their VCS, never an option of ``hg`` or ``git`` (they come from
    the force form), in the form Buildbot's checkout step uses them.
    """

    name = "check-properties"

    def __init__(self, names: Sequence[str], purpose: str, path_like: Sequence[str] = (),
                 hg_tags: Sequence[str] = (), git_tags: Sequence[str] = (), **kwargs):
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.names = list(names)
        self.purpose = purpose
        self.path_like = set(path_like)
        self.hg_tags = set(hg_tags)
        self.git_tags = set(git_tags)
        self._summary = ""

    def run(self):
        problem = next(filter(None, (self._problem(n) for n in self.names)), None)
        if problem is not None:
            self._summary = f"{problem}: {self.purpose}"
            return FAILURE
        self._summary = ", ".join(f"{n}={self.getProperty(n)}" for n in self.names)
        return SUCCESS

    def _problem(self, name: str) -> str | None:
        value = self.getProperty(name)
        if value is None or str(value).strip() == "":
            return f"build property {name!r} is missing"
        try:
            if name in self.path_like:
                values.relative_path(str(value))
            if name in self.hg_tags:
                values.used_branch_name(str(value), "hg", "tag")
            if name in self.git_tags:
                values.used_branch_name(str(value), "git", "tag")
        except values.InvalidValue as exc:
            return f"build property {name!r}: {exc}"
        return None

    def getResultSummary(self):
        return {"step": self._summary or self.name}


class RequireExecutable(buildstep.ShellMixin, buildstep.BuildStep):
    """Run ``EXECUTABLE version`` and fail saying the tool is missing if it does not run."""

    name = "check-executable"

    def __init__(self, executable: str, **kwargs):
        kwargs.setdefault("haltOnFailure", True)
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.executable = executable
        self._summary = ""

    @defer.inlineCallbacks
    def run(self):
        cmd = yield self.makeRemoteShellCommand(command=[self.executable, "version"])
        yield self.runCommand(cmd)
        if cmd.didFail():
            self._summary = f"{self.executable} is not installed on this worker"
            return FAILURE
        self._summary = f"{self.executable} found"
        return SUCCESS

    def getResultSummary(self):
        return {"step": self._summary or self.name}


@implementer(IRenderable)
class PropertyPath:
    """``root/<value of prop>/.../suffix``, joining the values of build properties."""

    def __init__(self, root: str, props: Sequence[str], suffix: str = ""):
        self.root = root
        self.props = list(props)
        self.suffix = suffix

    def getRenderingFor(self, properties):
        values = [str(properties.getProperty(p)) for p in self.props]
        return posixpath.join(self.root, *values) + self.suffix


def _subdir_steps(subdir: str | None) -> tuple[str, list]:
    """Where to check out, and the steps that make ``build`` point into the checkout."""
    if not subdir:
        return BUILD_DIR, []
    link = [
        steps.ShellCommand(command=["rm", "-rf", BUILD_DIR], workdir=".",
                           name="unlink-build-directory", haltOnFailure=True),
        steps.ShellCommand(command=["ln", "-s", posixpath.join(CHECKOUT_DIR, subdir), BUILD_DIR],
                           workdir=".", name="link-build-directory", haltOnFailure=True),
    ]
    return CHECKOUT_DIR, link


class RequireBuildoutFile(buildstep.CommandMixin, buildstep.BuildStep):
    """Fail saying which file is missing when the buildout configuration is not there."""

    name = "check-buildout-file"

    def __init__(self, conf: str, **kwargs):
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.conf = conf
        self._summary = ""

    @defer.inlineCallbacks
    def run(self):
        found = yield self.pathExists(posixpath.join(BUILD_DIR, self.conf))
        if not found:
            self._summary = f"buildout file {self.conf!r} is missing from the checkout"
            return FAILURE
        self._summary = f"buildout file {self.conf}"
        return SUCCESS

    def getResultSummary(self):
        return {"step": self._summary or self.name}


def _check_conf(conf: str) -> RequireBuildoutFile:
    return RequireBuildoutFile(conf)


def standalone(configurator, options: BuildOptions) -> tuple[list, str]:
    """Download the standalone buildout file from the master into the build directory."""
    source = options.build.buildout
    assert source is not None and source.local_path is not None
    name = posixpath.basename(source.conf)
    step = steps.FileDownload(mastersrc=str(source.local_path), workerdest=name,
                              name="download-buildout", haltOnFailure=True)
    return [step], name


def git(configurator, options: BuildOptions) -> tuple[list, str]:
    """``git URL BRANCH PATH [subdir=DIR]``; ``git-shallow = true`` clones with depth 1."""
    source = options.build.buildout
    assert source is not None
    workdir, link = _subdir_steps(source.subdir)
    shallow = options.build.git_shallow
    checkout = steps.Git(
        repourl=source.url, branch=source.branch, mode="full",
        method="clobber" if shallow else "fresh", shallow=shallow, alwaysUseLatest=True,
        workdir=workdir, name="checkout-buildout", haltOnFailure=True)
    return [checkout, *link, _check_conf(source.conf)], source.conf


def hg(configurator, options: BuildOptions) -> tuple[list, str]:
    """``hg URL BRANCH PATH``: the named branch BRANCH of the repository."""
    source = options.build.buildout
    assert source is not None
    checkout = steps.Mercurial(
        repourl=source.url, branchType="inrepo", defaultBranch=source.branch,
        mode="full", method="fresh", alwaysUseLatest=True,
        name="checkout-buildout", haltOnFailure=True)
    return [checkout, _check_conf(source.conf)], source.conf


class MercurialTag(Mercurial):
    """Mercurial at a revision known at build time (a tag from a property)."""

    renderables = ["branch"]


def hgtag(configurator, options: BuildOptions) -> tuple[list, str]:
    """``hgtag URL PATH``: the tag named by the build property ``buildout-tag``."""
    source = options.build.buildout
    assert source is not None
    check = RequireProperties(
        [TAG_PROPERTY], "hgtag buildouts are checked out at the tag this property names",
        hg_tags=[TAG_PROPERTY], name="check-buildout-tag")
    checkout = MercurialTag(
        repourl=source.url, branchType="inrepo", defaultBranch=util.Property(TAG_PROPERTY),
        mode="full", method="clobber", alwaysUseLatest=True,
        name="checkout-buildout-tag", haltOnFailure=True)
    return [check, checkout, _check_conf(source.conf)], source.conf


def gittag(configurator, options: BuildOptions) -> tuple[list, str]:
    """``gittag URL PATH``: the tag named by the build property ``buildout-tag``.

    Buildbot's Git step fetches the name it is given as its ``branch`` and
    checks out what it fetched, which is the tag here; a fresh clone every
    time, as a release build wants.
    """
    source = options.build.buildout
    assert source is not None
    check = RequireProperties(
        [TAG_PROPERTY], "gittag buildouts are checked out at the tag this property names",
        git_tags=[TAG_PROPERTY], name="check-buildout-tag")
    checkout = steps.Git(
        repourl=source.url, branch=util.Property(TAG_PROPERTY), mode="full", method="clobber",
        alwaysUseLatest=True, name="checkout-buildout-tag", haltOnFailure=True)
    return [check, checkout, _check_conf(source.conf)], source.conf


def bzr(configurator, options: BuildOptions) -> tuple[list, str]:
    """``bzr URL PATH [subdir=DIR]``, with Breezy's ``brz``, branched afresh each build."""
    source = options.build.buildout
    assert source is not None
    workdir, link = _subdir_steps(source.subdir)
    fetch = [
        RequireExecutable("brz", workdir=".", name="check-brz"),
        steps.ShellCommand(command=["rm", "-rf", workdir], workdir=".",
                           name="remove-previous-checkout", haltOnFailure=True),
        steps.ShellCommand(command=["brz", "branch", "--", source.url, workdir], workdir=".",
                           name="checkout-buildout", haltOnFailure=True),
    ]
    return [*fetch, *link, _check_conf(source.conf)], source.conf


def archive(configurator, options: BuildOptions) -> tuple[list, str]:
    """``archive SUBDIR_PROP ARCHIVE_PROP CONF``: an archive made by a packaging build.

    The master holds ``<archive.root-dir>/<SUBDIR_PROP>/<ARCHIVE_PROP>.tar.bz2``
    and its ``.md5``; both are sent to the worker, where a shipped script checks
    the sum and unpacks the archive as the build directory.
    """
    build = options.build
    source = build.buildout
    assert source is not None
    root = _archive_root(configurator, options)
    subdir_prop, archive_prop = source.subdir_prop or "", source.archive_prop or ""
    _check_property_names(options, subdir_prop, archive_prop)
    master_file = PropertyPath(root, [subdir_prop, archive_prop], ARCHIVE_SUFFIX)
    worker_file = PropertyPath(ARCHIVE_DIR, [archive_prop], ARCHIVE_SUFFIX)
    md5_suffix = ARCHIVE_SUFFIX + ".md5"
    python = build.bootstrap.get("python", "python3")
    script = posixpath.join(ARCHIVE_DIR, "unpack_archive.py")
    retrieval = [
        RequireProperties([subdir_prop, archive_prop], "they name the archive to build from",
                          path_like=[subdir_prop, archive_prop], name="check-archive"),
        steps.ShellCommand(command=["rm", "-rf", ARCHIVE_DIR], workdir=".",
                           name="remove-previous-archive", haltOnFailure=True),
        steps.FileDownload(mastersrc=master_file, workerdest=worker_file, workdir=".",
                           name="download-archive", haltOnFailure=True),
        steps.FileDownload(mastersrc=PropertyPath(root, [subdir_prop, archive_prop], md5_suffix),
                           workerdest=PropertyPath(ARCHIVE_DIR, [archive_prop], md5_suffix),
                           workdir=".", name="download-checksum", haltOnFailure=True),
        steps.FileDownload(mastersrc=worker_script("unpack_archive.py"), workerdest=script,
                           workdir=".", name="download-unpack-script", haltOnFailure=True),
        steps.ShellCommand(command=[python, script, worker_file, BUILD_DIR], workdir=".",
                           name="unpack-archive", haltOnFailure=True),
        _check_conf(source.conf),
    ]
    return retrieval, source.conf


def _archive_root(configurator, options: BuildOptions) -> str:
    """The master directory the archives are sent from: an area of its own, never the
    master's base directory nor its own files (a forced build names what is sent)."""
    if not text(options, "archive.root-dir"):
        config_error(options, "buildout", "archive buildouts need 'archive.root-dir', "
                     "the master directory holding the archives")
    return str(master_area(configurator, options, "archive.root-dir", kind=PACKAGES))


def _check_property_names(options: BuildOptions, *names: str) -> None:
    bad = [n for n in names if not _PROPERTY_NAME_RE.match(n)]
    if bad:
        config_error(options, "buildout", f"{bad[0]!r} is not a build property name")


def forced_properties(source: BuildoutSource) -> list[str]:
    """The build properties this buildout's retrieval reads, which forcing must offer.

    An hgtag, gittag or archive build started without them stops at its first step.
    """
    if source.kind in TAG_KINDS:
        return [TAG_PROPERTY]
    if source.kind == "archive":
        return [p for p in (source.subdir_prop, source.archive_prop) if p]
    return []


RETRIEVERS = {
    "standalone": standalone,
    "git": git,
    "hg": hg,
    "hgtag": hgtag,
    "gittag": gittag,
    "bzr": bzr,
    "archive": archive,
}
