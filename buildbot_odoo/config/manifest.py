"""MANIFEST.cfg: the builds, into plain :class:`BuildSpec` data (SPEC 5).

Each accepted option is declared once in :data:`MANIFEST_OPTIONS` with its
parser and default; unknown names are warned about with the closest known one.
Options are resolved as configparser and anybox.buildbot.odoo do: a section's
own options and its file's ``[DEFAULT]`` (which counts as the section's own),
then what its ``inherit`` parent resolves to (recursively).  Where the other
order (the parent before ``[DEFAULT]``) would give another value, a warning
says so.  Spellings of anybox.buildbot.odoo are read through
:mod:`.legacy`.
"""

from __future__ import annotations

import configparser
import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..capability.exclusions import Exclusion, exclusion_problems, parse_exclusions
from ..capability.versions import InvalidRequirement, VersionFilter
from ..errors import Problems
from . import legacy, values
from .bootstrap import bootstrap_problems
from .ini import DEFAULT, IniDocument, IniSection, read_ini
from .spelling import LOOSE_CUTOFF, closest_name
from .textfile import UnreadableFile, check_regular_file, read_text

DEFAULT_PART = "odoo"
#: anybox.buildbot.openerp's default part (anybox.buildbot.odoo's is ``odoo``)
LEGACY_PART = "openerp"
DEFAULT_POST_BUILDOUT_STEPS = ("install-modules-test",)
BUILTIN_POST_BUILDOUT_STEPS = (
    "install-modules-test", "install-modules", "update-modules", "pytest", "functional",
    "static-analysis", "doc", "packaging", "autocommit",
)
DB_STEPS = ("simple_create", "pg_remote_copy")
POSTGRESQL = "postgresql"
#: options about the testing database, which ``postgresql not-used`` does without
DATABASE_OPTIONS = ("db_template", "db-steps")
NO_DATABASE = "build-for says postgresql not-used, so no testing database is made"
POST_DL_STEPS = ("noop", "packaging")
#: bootstrap-X options we map to the bootstrap command, with what they do
BOOTSTRAP_OPTIONS = {
    "version": "zc.buildout version to install (default 5.2.0, see config/bootstrap.py)",
    "recipe-egg-version": "zc.recipe.egg version to install beside zc.buildout",
    "setuptools-version": "setuptools version to install beside zc.buildout",
    "pip-version": "pip version to install in the build virtualenv",
    "index": "package index URL for the bootstrap's pip",
    "find-links": "extra pip --find-links location",
    "python": "Python executable the build virtualenv is made from",
    "reuse": "keep the build virtualenv while the interpreter and these values are unchanged",
}


def _find_links(text: str) -> str:
    """pip's ``--find-links``: URLs or absolute directories of the worker, one per word."""
    for word in text.split():
        if "://" in word or word.startswith("-"):
            values.web_url(word)
        else:
            values.absolute_path(word)
    return text


def _boolean_text(text: str) -> str:
    values.boolean(text)
    return text


#: how each bootstrap-X value is checked when the manifest is read (not when a build breaks);
#: pins known to break together are warned about by config/bootstrap.py
BOOTSTRAP_CHECKS = {
    "version": values.package_version,
    "recipe-egg-version": values.package_version,
    "setuptools-version": values.package_version,
    "pip-version": values.package_version,
    "reuse": _boolean_text,
    "index": values.web_url,
    "find-links": _find_links,
    "python": values.command,
}
#: bootstrap-X options that conflict with what the configurator does itself
BOOTSTRAP_REFUSED = {
    "eggs": "the egg cache is shared per worker in ../buildout-caches by the configurator",
    "type": "bootstrap is always a virtualenv with zc.buildout installed by pip",
    "buildout-version": "use bootstrap-version",
    "virtualenv": "every build bootstraps in its own virtualenv (docs/migrating.md)",
    "dir": "the build directory is managed by Buildbot",
}
#: options of subfactories and namespaces, by prefix; None accepts any option name
SUBFACTORY_OPTIONS: dict[str, Collection[str] | None] = {
    "odoo": ("use-port", "http-port-min", "http-port-max", "http-port-step"),
    "install": ("demo-data",),
    "pg_remote_copy": ("arguments", "executable", "db_option", "timeout"),
    "buildout": ("timeout",),
    "archive": ("root-dir",),
}
_WATCH_ARITY = {"git": (2, 2), "hg": (1, 2), "bzr": (1, 1)}


@dataclass(frozen=True)
class WatchSpec:
    """A VCS location whose commits schedule the builds watching it."""

    vcs: str
    url: str
    branch: str | None = None

    def __str__(self) -> str:
        return " ".join(p for p in (self.vcs, self.url, self.branch) if p)


@dataclass(frozen=True)
class BuildoutSource:
    """Where a build gets its buildout, as the ``buildout`` option says."""

    kind: str
    conf: str
    url: str | None = None
    branch: str | None = None
    subdir: str | None = None
    subdir_prop: str | None = None
    archive_prop: str | None = None
    local_path: Path | None = None  # standalone: the file on the master

    def watch(self) -> WatchSpec | None:
        """The VCS location of the buildout itself, watched automatically (SPEC 7)."""
        if self.kind in ("git", "hg") and self.url:
            return WatchSpec(self.kind, self.url, self.branch)
        if self.kind == "bzr" and self.url:
            return WatchSpec("bzr", self.url)
        return None


@dataclass
class BuildSpec:
    name: str
    file: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    where: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    buildout: BuildoutSource | None = None
    build_for: list[VersionFilter] = field(default_factory=list)
    build_requires: list[VersionFilter] = field(default_factory=list)
    build_exclude: list[Exclusion] = field(default_factory=list)
    category: str | None = None
    watch: list[WatchSpec] | None = None
    auto_watch: bool = False
    tree_stable_timer: int | None = None
    buildout_part: str = DEFAULT_PART
    start_command: str = ""
    test_command: str = ""  # empty: the tests run with start_command and Odoo's test flags
    upgrade_command: str = ""
    bootstrap: dict[str, str] = field(default_factory=dict)
    virtualenv: bool = True
    db_template: str = "template1"
    db_steps: str = "simple_create"
    post_dl_steps: list[str] = field(default_factory=lambda: ["noop"])
    post_buildout_steps: list[str] = field(
        default_factory=lambda: list(DEFAULT_POST_BUILDOUT_STEPS))
    odoo_addons: list[str] = field(default_factory=lambda: ["all"])
    use_port: bool = False
    http_port_min: int = 8069
    http_port_max: int = 16069
    http_port_step: int = 128
    demo_data: bool = True
    git_shallow: bool = False
    # what the buildout command line gives the Odoo part's recipe (RECIPE_SETTINGS)
    vcs_clear_locks: bool = True
    vcs_clear_retry: bool = True
    vcs_clean: bool = True
    vcs_revert: bool = True
    git_depth: int = 1
    unzip: bool = True
    odoo_downloads_cache: bool = True
    pip_exists_action: str = "s"
    with_devtools: bool | None = None  # None: when test-command is set

    def location(self, option: str | None = None) -> dict[str, object]:
        """Keyword arguments locating ``option`` (or the section) for a Problem."""
        if option in self.where:
            file, line, section = self.where[option]
            return {"file": file, "line": line, "section": section, "option": option}
        return {"file": self.file, "line": self.line, "section": self.name, "option": option}

    def watches(self) -> list[WatchSpec]:
        """What schedules this build: its ``watch`` lines plus its buildout's own location."""
        if self.watch == []:  # an explicitly empty ``watch =``
            return []
        found = list(self.watch or [])
        own = self.buildout.watch() if self.buildout else None
        if own is not None and own not in found:
            found.append(own)
        return found

    @property
    def tags(self) -> list[str]:
        """Buildbot tags: the words of ``build-category`` (several words, several tags)."""
        return list(dict.fromkeys((self.category or "").split()))

    def requirement_names(self) -> frozenset[str]:
        return frozenset(f.name for f in (*self.build_for, *self.build_requires))

    def subfactory_options(self, prefix: str) -> dict[str, str]:
        """Options ``<prefix>.<name>`` of this build, keyed by ``name``."""
        head = prefix + "."
        return {k[len(head):]: v for k, v in self.options.items() if k.startswith(head)}


@dataclass
class ParseContext:
    manifest_dir: Path
    post_buildout_steps: Collection[str]


# --- value parsers: (context, text) -> value, raising ValueError with a message


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith(("#", ";"))]


#: the longest tree-stable timer: a week of silence is already no longer "a burst of commits"
MAX_TREE_STABLE_TIMER = 7 * 24 * 3600


def _seconds(text: str) -> int:
    return values.whole_number(text, minimum=0, maximum=MAX_TREE_STABLE_TIMER, unit="seconds")


def _port(text: str) -> int:
    return values.whole_number(text, minimum=1, maximum=65535, what="a TCP port")


def _port_step(text: str) -> int:
    return values.whole_number(text, minimum=1, maximum=65535)


def _git_depth(text: str) -> int:
    return values.whole_number(text, minimum=1, maximum=1_000_000, what="a git depth")


def _parse_requirements(_ctx: ParseContext, text: str) -> list[VersionFilter]:
    filters = []
    for line in _lines(text):
        try:
            filters.append(VersionFilter.parse(line))
        except InvalidRequirement as exc:
            raise ValueError(str(exc)) from None
    names = [f.name for f in filters]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"capability {duplicates[0]!r} appears on several lines")
    return filters


def _parse_build_requires(ctx: ParseContext, text: str) -> list[VersionFilter]:
    filters = _parse_requirements(ctx, text)
    for f in filters:
        if f.not_used:
            raise ValueError(f"{str(f)!r}: not-used only makes sense in build-for")
    return filters


def parse_watch_line(line: str) -> WatchSpec:
    """``git URL BRANCH``, ``hg URL [BRANCH]`` or ``bzr URL``.

    >>> parse_watch_line('git https://example.org/r.git 17.0')
    WatchSpec(vcs='git', url='https://example.org/r.git', branch='17.0')
    """
    tokens = line.split()
    vcs = tokens[0] if tokens else ""
    if vcs not in _WATCH_ARITY:
        raise ValueError(f"{line!r}: unknown VCS {vcs!r} (expected git, hg or bzr)")
    low, high = _WATCH_ARITY[vcs]
    args = tokens[1:]
    if not low <= len(args) <= high:
        shape = {"git": "git URL BRANCH", "hg": "hg URL [BRANCH]", "bzr": "bzr URL"}[vcs]
        raise ValueError(f"{line!r}: expected {shape}")
    branch = args[1] if len(args) > 1 else ("default" if vcs == "hg" else None)
    return checked_watch(vcs, args[0], branch)


def checked_watch(vcs: str, url: str, branch: str | None) -> WatchSpec:
    """A watch whose URL and branch no VCS command can read as an option or a command.

    The master's pollers run ``git``/``hg`` with them: the rules of
    :func:`.values.vcs_url` and :func:`.values.branch_name` apply, for the
    manifest and for the auto-watch files workers upload alike.
    """
    values.vcs_url(url, vcs)
    if branch is not None:
        values.used_branch_name(branch, vcs)
    return WatchSpec(vcs, url, branch)


def _parse_watch(_ctx: ParseContext, text: str) -> list[WatchSpec]:
    return [parse_watch_line(line) for line in _lines(text)]


def _split_keywords(tokens: Sequence[str], allowed: Collection[str]) -> tuple[list[str], dict]:
    positional, keywords = [], {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if sep and key in allowed:
            keywords[key] = value
        elif sep and re.match(r"^[a-z_][a-z_-]*$", key):
            raise ValueError(f"unknown keyword {key!r} (allowed: {', '.join(allowed) or 'none'})")
        else:
            positional.append(token)
    return positional, keywords


_BUILDOUT_SHAPES = {
    "standalone": (("conf",), ()),
    "git": (("url", "branch", "conf"), ("subdir",)),
    "hg": (("url", "branch", "conf"), ()),
    "bzr": (("url", "conf"), ("subdir",)),
    "hgtag": (("url", "conf"), ()),
    "gittag": (("url", "conf"), ()),
    "archive": (("subdir_prop", "archive_prop", "conf"), ()),
}


def _parse_buildout(ctx: ParseContext, text: str) -> BuildoutSource:
    tokens = text.split()
    kind = tokens[0] if tokens else ""
    if kind not in _BUILDOUT_SHAPES:
        raise ValueError(f"{text!r}: unknown buildout type {kind!r} "
                         f"(expected one of {', '.join(_BUILDOUT_SHAPES)})")
    names, keywords = _BUILDOUT_SHAPES[kind]
    positional, found = _split_keywords(tokens[1:], keywords)
    if len(positional) != len(names):
        shape = " ".join([kind, *(n.upper() for n in names), *(f"[{k}=DIR]" for k in keywords)])
        raise ValueError(f"{text!r}: expected {shape}")
    fields = dict(zip(names, positional, strict=True))
    _check_relative(text, fields["conf"])
    if "subdir" in found:
        _check_relative(text, found["subdir"])
    if "url" in fields:  # checked out on the workers, and polled by the master
        vcs = {"hgtag": "hg", "gittag": "git"}.get(kind, kind)
        values.vcs_url(fields["url"], vcs)
        if "branch" in fields:
            values.used_branch_name(fields["branch"], vcs)
    source = BuildoutSource(kind, **fields, **found)
    if kind == "standalone":
        local = _standalone_file(ctx, text, source.conf)
        if not local.exists():
            raise ValueError(f"{text!r}: standalone buildout file {str(local)!r} does not exist")
        try:
            check_regular_file(local)
        except UnreadableFile as exc:
            raise ValueError(f"{text!r}: standalone buildout file {str(local)!r}: {exc}") from None
        source = BuildoutSource(kind, source.conf, local_path=local)
    return source


def _check_relative(text: str, path: str) -> None:
    """Paths inside a checkout, or the manifest's directory, must stay inside it."""
    try:
        values.relative_path(path)
    except values.InvalidValue as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def _standalone_file(ctx: ParseContext, text: str, conf: str) -> Path:
    """The master file a standalone build sends to its workers: inside the manifest's
    directory, symbolic links resolved, so that no manifest can have the master send
    its ``secrets/`` (zc.buildout prints a bad file's first line in the step log)."""
    try:
        return values.path_inside(ctx.manifest_dir, conf, what="standalone buildout file")
    except values.InvalidValue as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def _buildout_sections(path: Path) -> set[str]:
    """The sections of a buildout file with a ``recipe`` (its parts); nothing when it
    cannot be read (the ``buildout`` option's own check reports a missing file)."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(read_text(path), str(path))
    except (UnreadableFile, OSError, configparser.Error):
        return set()
    return {name for name in parser.sections() if parser.has_option(name, "recipe")}


def _parse_category(_ctx: ParseContext, text: str) -> str | None:
    return text or None


def _parse_part(_ctx: ParseContext, text: str) -> str:
    return values.identifier(text, "part")


def _parse_steps(choices: Collection[str] | None) -> Callable[[ParseContext, str], list[str]]:
    def parse(ctx: ParseContext, text: str) -> list[str]:
        names = text.split()
        allowed = ctx.post_buildout_steps if choices is None else choices
        for name in names:
            if name not in allowed:
                close = difflib.get_close_matches(name, list(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown subfactory {name!r}{hint}; "
                                 f"known: {', '.join(sorted(allowed))}")
        return names
    return parse


def _parse_db_steps(_ctx: ParseContext, text: str) -> str:
    if text not in DB_STEPS:
        raise ValueError(f"{text!r} is not one of {', '.join(DB_STEPS)}")
    return text


def _parse_addons(_ctx: ParseContext, text: str) -> list[str]:
    addons = [a.strip() for a in text.split(",") if a.strip()]
    if not addons:
        raise ValueError("no addon given (use 'all' for every addon)")
    for addon in addons:
        if len(addon.split()) > 1:
            raise ValueError(f"{addon!r} is not an addon name (addons are separated by commas)")
        values.identifier(addon, "addon")
    return addons


def _parse_template(_ctx: ParseContext, text: str) -> str:
    return values.identifier(text, "database")


def _parse_command(_ctx: ParseContext, text: str) -> str:
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} must be one executable path, relative to the buildout")
    return values.not_an_option(text, "executable")


#: pip's answers to "the destination exists" (pip install --exists-action)
PIP_EXISTS_ACTIONS = ("s", "i", "w", "b", "a")


def _parse_pip_exists_action(_ctx: ParseContext, text: str) -> str:
    if text and text not in PIP_EXISTS_ACTIONS:
        raise ValueError(f"{text!r} is not one of pip's exists actions "
                         f"({', '.join(PIP_EXISTS_ACTIONS)}), or empty to leave pip's default")
    return text


@dataclass(frozen=True)
class OptionDecl:
    attribute: str | None
    parse: Callable[[ParseContext, str], object]
    doc: str


def _simple(parser: Callable[[str], object]) -> Callable[[ParseContext, str], object]:
    return lambda _ctx, text: parser(text)


MANIFEST_OPTIONS: dict[str, OptionDecl] = {
    "buildout": OptionDecl("buildout", _parse_buildout, "where the buildout comes from"),
    "build-for": OptionDecl("build_for", _parse_requirements, "demultiplying requirements"),
    "build-requires": OptionDecl("build_requires", _parse_build_requires, "worker requirements"),
    "build-exclude": OptionDecl("build_exclude", _simple(parse_exclusions),
                                "version combinations left out of build-for"),
    "build-category": OptionDecl("category", _parse_category, "Buildbot builder tags"),
    "watch": OptionDecl("watch", _parse_watch, "VCS locations that schedule the build"),
    "auto-watch": OptionDecl("auto_watch", _simple(values.boolean),
                             "watch the buildout's sources"),
    "tree-stable-timer": OptionDecl("tree_stable_timer", _simple(_seconds),
                                    "seconds without commit before building"),
    "buildout-part": OptionDecl("buildout_part", _parse_part, "the Odoo part"),
    "start-command": OptionDecl("start_command", _parse_command, "default bin/start_<part>"),
    "test-command": OptionDecl("test_command", _parse_command,
                               "a test script (bin/test_<part>); default: start-command "
                               "with Odoo's test flags"),
    "upgrade-command": OptionDecl("upgrade_command", _parse_command,
                                  "default bin/upgrade_<part>"),
    "virtualenv": OptionDecl("virtualenv", _simple(values.boolean), "per-build virtualenv"),
    "db_template": OptionDecl("db_template", _parse_template, "template of the testing db"),
    "db-steps": OptionDecl("db_steps", _parse_db_steps, "how the testing db is made"),
    "post-dl-steps": OptionDecl("post_dl_steps", _parse_steps(POST_DL_STEPS),
                                "subfactories after download"),
    "post-buildout-steps": OptionDecl("post_buildout_steps", _parse_steps(None),
                                      "subfactories after buildout"),
    "odoo-addons": OptionDecl("odoo_addons", _parse_addons, "addons to install and test"),
    "openerp-addons": OptionDecl("odoo_addons", _parse_addons, "alias of odoo-addons"),
    "odoo.use-port": OptionDecl("use_port", _simple(values.boolean), "reserve an HTTP port"),
    "odoo.http-port-min": OptionDecl("http_port_min", _simple(_port), ""),
    "odoo.http-port-max": OptionDecl("http_port_max", _simple(_port), ""),
    "odoo.http-port-step": OptionDecl("http_port_step", _simple(_port_step), ""),
    "install.demo-data": OptionDecl("demo_data", _simple(values.boolean), "load demo data"),
    "git-shallow": OptionDecl("git_shallow", _simple(values.boolean), "shallow git clones"),
    # What the buildout command line gives the recipe (docs/build.md, "What the recipe
    # is told"); each can be turned off where a buildout sets it itself.
    "buildout.vcs-clear-locks": OptionDecl("vcs_clear_locks", _simple(values.boolean),
                                           "<part>:vcs-clear-locks=true"),
    "buildout.vcs-clear-retry": OptionDecl("vcs_clear_retry", _simple(values.boolean),
                                           "<part>:vcs-clear-retry=true"),
    "buildout.clean": OptionDecl("vcs_clean", _simple(values.boolean), "<part>:clean=true"),
    "buildout.vcs-revert": OptionDecl("vcs_revert", _simple(values.boolean),
                                      "<part>:vcs-revert=on-merge"),
    "buildout.git-depth": OptionDecl("git_depth", _simple(_git_depth),
                                     "<part>:git-depth=N with git-shallow, default 1"),
    "buildout.unzip": OptionDecl("unzip", _simple(values.boolean), "buildout:unzip=true"),
    "buildout.odoo-downloads": OptionDecl("odoo_downloads_cache", _simple(values.boolean),
                                          "Odoo archives downloaded to the worker's caches"),
    "buildout.pip-exists-action": OptionDecl("pip_exists_action", _parse_pip_exists_action,
                                             "PIP_EXISTS_ACTION, default s"),
    "buildout.with-devtools": OptionDecl("with_devtools", _simple(values.boolean),
                                         "<part>:with_devtools=true, default with test-command"),
    "inherit": OptionDecl(None, lambda _c, t: t, "take another section's options as defaults"),
}
#: alias -> option: the two are one setting, so the one from the closer source wins
OPTION_ALIASES = {"openerp-addons": "odoo-addons"}
#: old name -> new name (:mod:`.legacy`): also one setting under two names
LEGACY_RENAMES = legacy.renames(legacy.MANIFEST)


class ManifestLoader:
    """Loads one or several manifests into :class:`BuildSpec` objects."""

    def __init__(self, problems: Problems,
                 post_buildout_steps: Collection[str] = BUILTIN_POST_BUILDOUT_STEPS,
                 subfactory_options: Mapping[str, Collection[str] | None] | None = None,
                 read_legacy: bool = True):
        """``read_legacy``: read anybox.buildbot.odoo's spellings through :mod:`.legacy`
        (False: take every option as written, which ``migrate`` compares against)."""
        self.problems = problems
        self.read_legacy = read_legacy
        self.post_buildout_steps = tuple(post_buildout_steps)
        self.subfactory_options = dict(SUBFACTORY_OPTIONS)
        for name in self.post_buildout_steps:
            self.subfactory_options.setdefault(name, None)
        self.subfactory_options.update(subfactory_options or {})
        self._known = sorted(MANIFEST_OPTIONS)
        #: (section, option, value used) where [DEFAULT] wins over the parent's value
        self.precedence: list[tuple[str, str, str]] = []
        #: old spellings refused (:mod:`.legacy`), for ``migrate`` to leave alone
        self.refused: list[legacy.Finding] = []
        #: file -> option names (lower-cased) its ``%(name)s`` references point to
        self.referenced: dict[str, set[str]] = {}
        #: the sections being loaded, for what their ``%(name)s`` references read
        self._sections: Mapping[str, tuple[IniSection, IniDocument, Path]] = {}

    def load(self, paths: Iterable[tuple[Path, str]]) -> list[BuildSpec]:
        """``paths``: (file on disk, name shown in messages) pairs."""
        return self.load_documents([(path, read_ini(path, self.problems, shown))
                                    for path, shown in paths])

    def load_documents(self, docs: list[tuple[Path, IniDocument]]) -> list[BuildSpec]:
        """Builds of already parsed manifests (``path``: where each lives, for the
        standalone buildouts next to it); ``migrate`` loads rewritten text this way."""
        for _, doc in docs:
            self._refuse_default_inherit(doc)
            self.referenced[doc.path] = legacy.referenced_names(
                value for section in (doc.defaults, *doc.sections.values()) if section
                for value in section.options.values())
        sections: dict[str, tuple[IniSection, IniDocument, Path]] = {}
        for path, doc in docs:
            for name, section in doc.sections.items():
                if name in sections:
                    first = sections[name][0]
                    self.problems.error(
                        f"build name already used at {first.file}:{first.line}",
                        file=section.file, line=section.line, section=name)
                    continue
                sections[name] = (section, doc, path.parent)
        self._sections = sections
        builds = []
        all_resolved = self._resolve_all(sections)
        other_order = self._resolve_all(sections, parent_first=False, report=False)
        for name, (section, doc, directory) in sections.items():
            resolved = all_resolved[name]
            if resolved is None:
                # the inheritance is broken: still check the section's own options,
                # so that one run reports every mistake; the build itself is left out
                self._parse(section, _own_options(section, doc), directory)
                continue
            build = self._parse(section, resolved, directory)
            if build is not None:
                self._warn_precedence(build, sections[name][0], resolved, other_order[name])
                builds.append(build)
        return builds

    def _refuse_default_inherit(self, doc: IniDocument) -> None:
        """``inherit`` in ``[DEFAULT]`` would make every section, its parent included,
        inherit from one section: refused rather than silently ignored."""
        if doc.defaults is not None and "inherit" in doc.defaults.options:
            self.problems.error(
                "inherit cannot be set in [DEFAULT]: name the parent in each section "
                "that inherits from it", file=doc.defaults.file,
                line=doc.defaults.line_of("inherit"), section=doc.defaults.name,
                option="inherit")

    def _resolve_all(self, sections: Mapping[str, tuple[IniSection, IniDocument, Path]],
                     parent_first: bool = True, report: bool = True,
                     ) -> dict[str, dict[str, tuple[str, str, int, str]] | None]:
        """Options of every section as option -> (value, file, line, section), inheritance
        applied; None for a section whose chain is broken (reported once, where it breaks).

        Each chain is walked upwards without recursion until a section already
        resolved, a root, a missing parent or a cycle, then resolved downwards:
        every section is resolved once, whatever the depth of the chains.
        ``parent_first``: the parent's options come before the file's
        ``[DEFAULT]`` (configparser's and anybox.buildbot.odoo's order, ours);
        False gives the other order, for :meth:`_warn_precedence` (``report``
        False: the chain's errors are reported by the first pass).
        """
        resolved: dict[str, dict[str, tuple[str, str, int, str]] | None] = {}
        for start in sections:
            chain: list[str] = []
            on_chain: set[str] = set()
            current, broken = start, False
            while current not in resolved:
                chain.append(current)
                on_chain.add(current)
                section = sections[current][0]
                parent = section.options.get("inherit", "").strip()
                if not parent:
                    break
                where = {"file": section.file, "line": section.line_of("inherit"),
                         "section": current, "option": "inherit"}
                if parent in on_chain:
                    cycle = chain[chain.index(parent):]
                    if report:
                        self.problems.error(
                            f"inheritance cycle: {' -> '.join([*cycle, parent])}", **where)
                    broken = True
                    break
                if parent not in sections:
                    if report:
                        self.problems.error(f"{parent!r} is not a section of any manifest",
                                            **where)
                    broken = True
                    break
                current = parent
            for name in reversed(chain):
                if broken:
                    resolved[name] = None
                    continue
                parent = sections[name][0].options.get("inherit", "").strip()
                inherited = resolved[parent] if parent else {}
                resolved[name] = (None if inherited is None
                                  else self._merged(sections[name], inherited, parent_first))
        return resolved

    @staticmethod
    def _merged(entry: tuple[IniSection, IniDocument, Path],
                inherited: dict[str, tuple[str, str, int, str]], parent_first: bool = True
                ) -> dict[str, tuple[str, str, int, str]]:
        """One section's options, with its file's defaults, over its parent's
        (``inherited``); ``parent_first`` False: its parent's over its defaults."""
        section, own_doc, _ = entry
        merged: dict[str, tuple[str, str, int, str]] = {}
        defaults = _located(own_doc.defaults) if own_doc.defaults is not None else {}
        if not parent_first:
            _merge(merged, defaults)
        _merge(merged, {k: v for k, v in inherited.items() if k != "inherit"})
        if parent_first:
            _merge(merged, defaults)
        _merge(merged, _located(section))
        return merged

    def _warn_precedence(self, build: BuildSpec, section: IniSection, resolved: dict,
                         other: dict | None) -> None:
        """Where the parent's value would win over ``[DEFAULT]``'s in the other order.

        ``[DEFAULT]`` counts as each section's own, as in configparser and in
        anybox.buildbot.odoo; a user expecting the parent's value to win is
        told, at the section's ``inherit`` line, how to make it explicit.
        Options of subfactories the build does not run do not matter, nor do
        options no build reads: a variable of ``%(name)s`` references is read
        with the options of the section writing the reference, never with an
        inherited value (:func:`legacy.interpolate`).
        """
        name = build.name
        if other is None:
            return
        mine = {canonical_option(k): (k, v) for k, v in resolved.items()}
        for key, (other_key, other_value) in {canonical_option(k): (k, v)
                                              for k, v in other.items()}.items():
            used_key, used = mine.get(key, (key, None))
            if used is None or used[0] == other_value[0] or key == "inherit" \
                    or self.unused_because(build, key) or not self.reads(key):
                continue
            self.precedence.append((name, used_key, used[0]))
            self.problems.warning(
                f"[DEFAULT] (line {used[2]}) gives {used_key} = {used[0]!r}, which wins over "
                f"{other_value[0]!r} inherited from [{other_value[3]}] (line {other_value[2]}):"
                f" [DEFAULT] counts as the section's own, as in configparser and "
                f"{legacy.ORIGINAL}; write '{other_key} = ...' in [{name}] to make the choice "
                "explicit", file=section.file, line=section.line_of("inherit"), section=name,
                option=used_key)

    def _parse(self, section: IniSection, resolved: dict, directory: Path) -> BuildSpec | None:
        build = BuildSpec(section.name, section.file, section.line)
        # counted here, not from self.problems: an error inherited from a parent
        # section is reported once, but makes every inheriting build invalid too
        try:
            ok = bool(values.identifier(section.name, "build"))
        except values.InvalidValue as exc:
            ok = False
            self.problems.error(str(exc), file=section.file, line=section.line,
                                section=section.name)
        for alias, option in (*OPTION_ALIASES.items(), *LEGACY_RENAMES.items()):
            if alias in resolved and option in resolved:  # only from one section
                what = "an alias" if alias in OPTION_ALIASES else f"{legacy.ORIGINAL}'s name"
                file, line, where = resolved[alias][1:]
                self.problems.error(f"{alias} is {what} of {option}: give only one of them",
                                    file=file, line=line, section=where, option=alias)
                ok = False
        resolved, modern = self._modernise(resolved, section.name)
        ok = ok and modern
        if self.read_legacy:
            resolved = self._legacy_part(resolved, directory)
        build.options = {k: v[0] for k, v in resolved.items()}
        build.where = {k: v[1:] for k, v in resolved.items()}
        ctx = ParseContext(directory, self.post_buildout_steps)
        for key, value in build.options.items():
            ok = self._parse_option(build, ctx, key, value) and ok
        self._warn_bootstrap(build)
        build.start_command = build.start_command or f"bin/start_{build.buildout_part}"
        build.upgrade_command = build.upgrade_command or f"bin/upgrade_{build.buildout_part}"
        if build.http_port_min > build.http_port_max:
            self.problems.error("odoo.http-port-min is above odoo.http-port-max",
                                **build.location("odoo.http-port-min"))
            ok = False
        ok = self._check_not_used_is_not_required(build) and ok
        ok = self._check_exclusions(build) and ok
        if ok:
            self._warn_database_options_without_database(build)
            self._warn_unused_subfactory_options(build)
        return build if ok else None

    def _modernise(self, resolved: dict, build: str) -> tuple[dict, bool]:
        """Old spellings (:mod:`.legacy`) replaced, each warned about (or refused) at its line."""
        if not self.read_legacy:
            return resolved, True
        located = {k: legacy.Located(*v) for k, v in resolved.items()}
        modern, findings = legacy.modernise(located, legacy.MANIFEST,
                                            self._reference_scope(build))
        self.refused += [f for f in findings if f.refused]
        for finding in findings:
            where = finding.where
            report = self.problems.error if finding.refused else self.problems.warning
            report(finding.message, file=where.file, line=where.line, section=where.section,
                   option=finding.option)
        return ({k: (v.value, v.file, v.line, v.section) for k, v in modern.items()},
                not legacy.refused_options(findings))

    def _reference_scope(self, build: str) -> legacy.Scope:
        """What the ``%(name)s`` references of ``build``'s lines read, as in the original
        (:func:`legacy.interpolate`): the options of the section writing the line over its
        file's ``[DEFAULT]``; a ``[DEFAULT]`` line reads those of the build itself."""
        def scope(line: legacy.Located) -> dict[str, str]:
            writer = self._sections.get(build if line.section == DEFAULT else line.section)
            if writer is None:
                return {}
            section, doc, _ = writer
            defaults = doc.defaults.options if doc.defaults is not None else {}
            return {**defaults, **section.options}
        return scope

    def _legacy_part(self, resolved: dict, directory: Path) -> dict:
        """A standalone buildout whose Odoo part is ``[openerp]``, with no ``buildout-part``.

        anybox.buildbot.openerp (the ``slaves.cfg`` era) defaulted the part to
        ``openerp``, as its sample buildouts name it; today's default is
        ``odoo``.  Where the buildout file shows which one it means, the build
        keeps working on ``openerp``, with a warning; ``migrate`` writes the line.
        """
        if "buildout-part" in resolved or "buildout" not in resolved:
            return resolved
        value, file, line, where = resolved["buildout"]
        words = value.split()
        if len(words) != 2 or words[0] != "standalone":
            return resolved
        parts = _buildout_sections(directory / words[1])
        if DEFAULT_PART in parts or LEGACY_PART not in parts:
            return resolved
        self.problems.warning(
            f"the buildout has no [{DEFAULT_PART}] part, the default, but an [{LEGACY_PART}] "
            f"one: anybox.buildbot.openerp's default part was {LEGACY_PART!r}, and so it is "
            f"read here: write 'buildout-part = {LEGACY_PART}'; {legacy.MIGRATE_HINT}",
            file=file, line=line, section=where, option="buildout")
        return {**resolved, "buildout-part": (LEGACY_PART, file, line, where)}

    def _check_not_used_is_not_required(self, build: BuildSpec) -> bool:
        """``NAME not-used`` in build-for contradicts a build-requires line on NAME."""
        not_used = {f.name for f in build.build_for if f.not_used}
        clashes = [f for f in build.build_requires if f.name in not_used]
        for requirement in clashes:
            self.problems.error(f"{str(requirement)!r} requires {requirement.name}, which "
                                f"build-for says is not-used", **build.location("build-requires"))
        return not clashes

    def _check_exclusions(self, build: BuildSpec) -> bool:
        """build-exclude lines may only name capabilities the build is split by."""
        problems = exclusion_problems(build.build_for, build.build_exclude)
        for exclusion, message in problems:
            where = build.location("build-exclude")
            where["line"] = int(where["line"] or 0) + exclusion.offset or None
            self.problems.error(message, **where)
        return not problems

    def _warn_unused_subfactory_options(self, build: BuildSpec) -> None:
        """Options written in a build's own section for a subfactory it does not use.

        Only the section's own lines: ``[DEFAULT]`` and parent sections hold
        options for whichever of their builds use the subfactory.
        """
        if build.buildout is None:  # a template or watch-only section
            return
        for key in build.options:
            prefix, dot, _ = key.partition(".")
            if not dot or build.where[key][2] != build.name:
                continue
            why = self._unused_because(build, prefix)
            if why:
                self.problems.warning(f"is ignored: {why}", **build.location(key))

    def unused_because(self, build: BuildSpec, option: str) -> str | None:
        """Why ``option`` (a ``<subfactory>.<name>``) plays no part in ``build``, if so."""
        prefix, dot, _ = option.partition(".")
        return self._unused_because(build, prefix) if dot else None

    def _warn_database_options_without_database(self, build: BuildSpec) -> None:
        """``db_template``, ``db-steps`` in the section of a build making no database."""
        if build.buildout is None or not _without_database(build):
            return
        for key in DATABASE_OPTIONS:
            if key in build.options and build.where[key][2] == build.name:
                self.problems.warning(f"is ignored: {NO_DATABASE}", **build.location(key))

    def _unused_because(self, build: BuildSpec, prefix: str) -> str | None:
        """Why the subfactory (or namespace) ``prefix`` plays no part in ``build``."""
        if prefix == "pg_remote_copy" and _without_database(build):
            return NO_DATABASE
        if prefix == "pg_remote_copy" and build.db_steps != "pg_remote_copy":
            return f"db-steps is {build.db_steps}, not pg_remote_copy"
        if prefix == "archive" and build.buildout is not None \
                and build.buildout.kind != "archive":
            return f"the buildout is a {build.buildout.kind} one, not an archive"
        if prefix in self.post_buildout_steps and prefix not in build.post_buildout_steps \
                and prefix not in build.post_dl_steps:
            return f"post-buildout-steps does not list {prefix}"
        return None

    def _parse_option(self, build: BuildSpec, ctx: ParseContext, key: str, value: str) -> bool:
        """Parse one option into ``build``; False when it is an error (reported)."""
        decl = MANIFEST_OPTIONS.get(key)
        try:
            if decl is not None:
                if decl.attribute is not None:
                    setattr(build, decl.attribute, decl.parse(ctx, value))
            elif key.startswith("bootstrap-"):
                self._bootstrap_option(build, key[len("bootstrap-"):], value)
            elif not self._known_subfactory_option(key):
                self._warn_unknown(build, key)
        except ValueError as exc:
            self.problems.error(str(exc), **build.location(key))
            return False
        return True

    def _bootstrap_option(self, build: BuildSpec, name: str, value: str) -> None:
        if name in BOOTSTRAP_REFUSED:
            raise ValueError(f"bootstrap-{name} is managed by buildbot-odoo: "
                             f"{BOOTSTRAP_REFUSED[name]}")
        if name not in BOOTSTRAP_OPTIONS:
            self._warn_unknown(build, f"bootstrap-{name}",
                               [f"bootstrap-{n}" for n in BOOTSTRAP_OPTIONS])
            return
        if not value:  # empty: the default again (undoes a value from [DEFAULT] or inherit)
            build.bootstrap.pop(name, None)
            return
        check = BOOTSTRAP_CHECKS.get(name)
        build.bootstrap[name] = check(value) if check else value

    def _warn_bootstrap(self, build: BuildSpec) -> None:
        """``bootstrap-*`` pins known to break together (each value is checked on its own
        by BOOTSTRAP_CHECKS)."""
        for problem in bootstrap_problems(build.bootstrap):
            self.problems.warning(problem.message, **build.location(problem.option))

    def _known_subfactory_option(self, key: str) -> bool:
        prefix, dot, name = key.partition(".")
        if not dot or prefix not in self.subfactory_options:
            return False
        allowed = self.subfactory_options[prefix]
        return allowed is None or name in allowed

    def _warn_unknown(self, build: BuildSpec, key: str, known: list[str] | None = None) -> None:
        if self.is_variable(build, key):
            return
        candidates = known or [*self._known, *self._subfactory_option_names()]
        close = closest_name(key, candidates, {**OPTION_ALIASES, **LEGACY_RENAMES}, LOOSE_CUTOFF)
        hint = f" (did you mean {close!r}?)" if close else ""
        self.problems.warning(f"unknown option {key!r} is ignored{hint}", **build.location(key))

    def is_variable(self, build: BuildSpec, key: str) -> bool:
        """An option a ``%(name)s`` reference of its manifest (or the build's) points to.

        anybox.buildbot.odoo's manifests share values this way (``mirror = ...`` in
        ``[DEFAULT]``, ``%(mirror)s`` in builds); the references are warned about
        (:func:`legacy.interpolate`), the variable is not an unknown option, in any
        build of the file.
        """
        files = {build.file, build.where.get(key, (build.file,))[0]}
        return any(key.lower() in self.referenced.get(file, ()) for file in files)

    def reads(self, key: str) -> bool:
        """Whether an option of this name means something to a build (not unknown)."""
        if key in MANIFEST_OPTIONS or self._known_subfactory_option(key):
            return True
        if legacy.old_option(legacy.MANIFEST, key) is not None:
            return True
        return key.startswith("bootstrap-") and (
            key[len("bootstrap-"):] in BOOTSTRAP_OPTIONS
            or key[len("bootstrap-"):] in BOOTSTRAP_REFUSED)

    def _subfactory_option_names(self) -> list[str]:
        return [f"{prefix}.{name}" for prefix, names in self.subfactory_options.items()
                for name in (names or ())]


def _without_database(build: BuildSpec) -> bool:
    return any(f.not_used and f.name == POSTGRESQL for f in build.build_for)


def _own_options(section: IniSection, doc: IniDocument) -> dict[str, tuple[str, str, int, str]]:
    """The section's options over its file's ``[DEFAULT]``, without what it inherits."""
    own = _located(doc.defaults) if doc.defaults is not None else {}
    _merge(own, _located(section))
    own.pop("inherit", None)
    return own


def _merge(merged: dict[str, tuple[str, str, int, str]],
           layer: dict[str, tuple[str, str, int, str]]) -> None:
    """Lay ``layer`` (a closer source) over ``merged``; an option replaces its aliases."""
    for key in layer:
        for other in _alias_group(key):
            if other != key and other not in layer:
                merged.pop(other, None)
    merged.update(layer)


def _alias_group(key: str) -> set[str]:
    """``key`` and every name of the same setting (aliases, old names)."""
    option = canonical_option(key)
    return {option, *(alias for alias, target in (*OPTION_ALIASES.items(),
                                                   *LEGACY_RENAMES.items())
                      if target == option)}


def canonical_option(key: str) -> str:
    return OPTION_ALIASES.get(key) or LEGACY_RENAMES.get(key) or key


def _located(section: IniSection) -> dict[str, tuple[str, str, int, str]]:
    return {k: (v, section.file, section.line_of(k), section.name)
            for k, v in section.options.items()}


def load_manifests(paths: Iterable[tuple[Path, str]], problems: Problems,
                   post_buildout_steps: Collection[str] = BUILTIN_POST_BUILDOUT_STEPS,
                   subfactory_options: Mapping[str, Collection[str] | None] | None = None,
                   ) -> list[BuildSpec]:
    """Read the manifests; broken builds are reported to ``problems`` and left out."""
    loader = ManifestLoader(problems, post_buildout_steps, subfactory_options)
    return loader.load(paths)
