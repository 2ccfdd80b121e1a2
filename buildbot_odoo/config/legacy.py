"""What the files written for anybox.buildbot.odoo become: one table, as data.

The people adopting buildbot-odoo often run the original anybox.buildbot.odoo
(its ``nine`` branch for Buildbot 0.9, or the older anybox.buildbot.openerp of
the ``slaves.cfg`` era).  Every option spelling of those that changed is
declared here once, with what it becomes:

* **renamed**: accepted under its old name, with a deprecation warning
  naming the new one;
* **converted**: the value is rewritten (``functional.commands`` becomes
  ``functional.command`` with ``{port} {db}``, an old step name in
  ``post-buildout-steps`` becomes today's), with the same warning;
* **dropped**: what it did is done anyway today, or no longer exists to be
  done (``bootstrap-type``: there is no ``bootstrap.py`` any more): ignored,
  with a warning saying why;
* **refused**: no equivalent, and ignoring it would change what the build
  does: an error saying exactly what to write instead.

The loaders (:mod:`.workers`, :mod:`.manifest`) apply the table when they read
a file, and ``buildbot-odoo migrate`` (:mod:`buildbot_odoo.migration`) rewrites
the files with it, so what ``check`` accepts and what ``migrate`` writes
cannot disagree.  Plain Python; nothing here knows Buildbot.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

WORKERS = "workers.cfg"
MANIFEST = "MANIFEST.cfg"
ORIGINAL = "anybox.buildbot.odoo"
MIGRATE_HINT = "buildbot-odoo migrate rewrites it"

RENAMED = "renamed"
CONVERTED = "converted"
DROPPED = "dropped"
REFUSED = "refused"


@dataclass(frozen=True)
class Change:
    """What one old option line becomes in one section.

    ``options`` replace the old option (empty: it is dropped); ``defaults``
    are set only where no other line sets them (what the old default did,
    made explicit).  ``message`` is the warning, or the error when ``refused``.
    """

    options: dict[str, str]
    message: str
    defaults: dict[str, str] = field(default_factory=dict)
    refused: bool = False
    #: the option whose line the message is about, when not the old one's
    at: str | None = None


Converter = Callable[[str, Mapping[str, str]], "Change | None"]


@dataclass(frozen=True)
class OldOption:
    """One old spelling: ``convert(value, options)`` says what a line of it becomes.

    ``options`` are the other options the line is read with (a build's
    resolved options), for the few conversions that depend on them; a
    ``local`` rule depends on the value alone, so ``migrate`` rewrites it in
    place, in the section where it is written.  ``convert`` returns None when
    the value is not an old spelling (an option whose *values* changed).
    """

    file: str
    name: str
    kind: str
    becomes: str  # for docs and messages: what to write now
    convert: Converter
    local: bool = True


def _deprecated(old: str, new_text: str, note: str = "") -> str:
    extra = f" ({note})" if note else ""
    return f"deprecated {ORIGINAL} spelling: write {new_text} instead of {old!r}{extra}; " \
           f"{MIGRATE_HINT}"


def renamed(file: str, old: str, new: str, note: str = "",
            defaults: Mapping[str, str] | None = None) -> OldOption:
    message = _deprecated(old, repr(new), note)

    def convert(value: str, _options: Mapping[str, str]) -> Change:
        return Change({new: value}, message, dict(defaults or {}))
    return OldOption(file, old, RENAMED, f"`{new}`" + (f" ({note})" if note else ""), convert)


def dropped(file: str, old: str, why: str, when: Callable[[str], bool] | None = None,
            otherwise: Converter | None = None) -> OldOption:
    """Ignored with a warning (when ``when(value)`` holds; else ``otherwise`` decides)."""
    message = f"{old!r} of {ORIGINAL} is ignored: {why}; remove the line ({MIGRATE_HINT})"

    def convert(value: str, options: Mapping[str, str]) -> Change | None:
        if when is None or when(value):
            return Change({}, message)
        return otherwise(value, options) if otherwise else None
    return OldOption(file, old, DROPPED, f"nothing: {why}", convert)


def refusal(old: str, instead: str) -> Change:
    return Change({}, f"{old!r} of {ORIGINAL} has no equivalent: {instead}", refused=True)


def refused(file: str, old: str, instead: str) -> OldOption:
    def convert(_value: str, _options: Mapping[str, str]) -> Change:
        return refusal(old, instead)
    return OldOption(file, old, REFUSED, f"refused: {instead}", convert)


def converted(file: str, old: str, becomes: str, convert: Converter,
              local: bool = True) -> OldOption:
    return OldOption(file, old, CONVERTED, becomes, convert, local)


def _false(value: str) -> bool:
    return value.strip().lower() in ("false", "no", "off", "0", "")


def only_for_steps(old: str, steps: tuple[str, ...], convert: Converter) -> Converter:
    """``convert`` for a build running one of ``steps``; for the others, the option was
    read by nothing in the original: dropped with a warning, never refused."""
    def for_steps(value: str, options: Mapping[str, str]) -> Change | None:
        used = options.get("post-buildout-steps", "install-modules-test").split()
        if any(step in used for step in steps):
            return convert(value, options)
        return Change({}, f"{old!r} of {ORIGINAL} is ignored: only the {steps[0]} step read "
                          f"it, and this build does not run it; remove the line "
                          f"({MIGRATE_HINT})")
    return for_steps


# --------------------------------------------------------------------------
# post-buildout-steps: the old step names


#: old post-buildout step name -> today's step names
OLD_STEP_NAMES = {
    "standard": ("install-modules-test",),
    "test-openerp": ("install-modules-test",),
    "test-odoo": ("install-modules-test",),
    "openerpcommand-initialize-tests": ("install-modules-test",),
    "update-openerp": ("update-modules",),
    "update-odoo": ("update-modules",),
    "nose": ("install-modules", "pytest"),
}
#: what the old update steps ran: the recipe's upgrade script, never ``-u``
UPGRADE_SCRIPT_OPTION = "update-modules.upgrade-script"
UPGRADE_COMMAND_OPTION = "upgrade-command"
_STEP_NOTES = {
    "openerpcommand-initialize-tests": "openerp-command is gone; bin/test_<part> -i installs "
                                       "and tests",
    "update-openerp": f"with {UPGRADE_SCRIPT_OPTION} = true, which runs the upgrade script "
                      "as update-openerp did",
    "update-odoo": f"with {UPGRADE_SCRIPT_OPTION} = true, which runs the upgrade script as "
                   "update-odoo did",
    "nose": "nose does not run on today's Python; pytest runs the same unittest-style tests, "
            "nose.tests become pytest.arguments",
}


def _convert_steps(value: str, _options: Mapping[str, str]) -> Change | None:
    """Old names in ``post-buildout-steps`` (one per line, or several on a line)."""
    words = value.split()
    old = [w for w in words if w in OLD_STEP_NAMES]
    if not old:
        return None
    new_words = list(dict.fromkeys(n for w in words for n in OLD_STEP_NAMES.get(w, (w,))))
    separator = "\n" if "\n" in value.strip() else " "
    parts = []
    for word in dict.fromkeys(old):
        note = _STEP_NOTES.get(word)
        parts.append(f"{' '.join(OLD_STEP_NAMES[word])!r} instead of {word!r}"
                     + (f" ({note})" if note else ""))
    defaults = ({UPGRADE_SCRIPT_OPTION: "true"}
                if any(w in ("update-openerp", "update-odoo") for w in old) else {})
    message = (f"deprecated {ORIGINAL} step names in post-buildout-steps: write "
               + "; ".join(parts) + f"; {MIGRATE_HINT}")
    return Change({"post-buildout-steps": separator.join(new_words)}, message, defaults)


# --------------------------------------------------------------------------
# conversions that need a little more than a rename


def _functional_commands(value: str, _options: Mapping[str, str]) -> Change:
    scripts = value.split()
    if len(scripts) != 1:
        return refusal("functional.commands",
                       "functional.command runs one command; write a script running "
                       f"{', '.join(scripts) or 'them'} one after the other and name it in "
                       "'functional.command = SCRIPT {port} {db}'")
    command = f"{scripts[0]} {{port}} {{db}}"
    return Change({"functional.command": command},
                  _deprecated("functional.commands", f"'functional.command = {command}'",
                              "the port and database, once arguments of every script, are "
                              "the {port} and {db} placeholders"))


def _max_line_length(value: str, options: Mapping[str, str]) -> Change:
    """``--max-line-length N`` in ``static-analysis.arguments``, after those already given
    there; refused only when they give a line length of their own (which one is meant?)."""
    arguments = f"--max-line-length {value.strip()}"
    given = options.get("static-analysis.arguments", "").strip()
    if "--max-line-length" in given.split() or "--max-line-length=" in given:
        return refusal("static-analysis.max-line-length",
                       f"static-analysis.arguments ({given!r}) gives a line length too: keep "
                       "the one you mean there and remove this line")
    combined = f"{given} {arguments}".strip()
    return Change({"static-analysis.arguments": combined},
                  _deprecated("static-analysis.max-line-length",
                              f"'static-analysis.arguments = {combined}'"))


#: what anybox.buildbot.odoo's static analysis did without being told: install the
#: buildout part 'static-analysis', run flake8 with lines up to 100 characters
STATIC_ANALYSIS_DEFAULTS = {"static-analysis.parts": "static-analysis",
                            "static-analysis.arguments": "--max-line-length 100"}


def _doc_upload_root(value: str, options: Mapping[str, str]) -> Change:
    """``doc.upload-root`` + ``doc.upload-dir`` (relative to it) -> one ``doc.upload-dir``."""
    root = value.strip()
    sub = options.get("doc.upload-dir", "").strip().strip("/")
    if not sub:
        return Change({}, f"'doc.upload-root' of {ORIGINAL} is ignored: without "
                          "doc.upload-dir nothing was uploaded, and buildbot-odoo always "
                          "publishes in doc.upload-dir (default 'docs'); remove the line "
                          f"({MIGRATE_HINT})")
    joined = posixpath.join(root, sub) if root else sub
    changed = {"doc.upload-dir": joined}
    base_url = options.get("doc.base-url", "").strip().rstrip("/")
    if base_url:  # was the URL of upload-root, is the URL of upload-dir
        changed["doc.base-url"] = f"{base_url}/{sub}"
    shown = ", ".join(f"'{k} = {v}'" for k, v in changed.items())
    return Change(changed, _deprecated("doc.upload-root", shown,
                                       "doc.upload-dir is relative to the master directory, "
                                       "doc.base-url is its URL"))


def _archive_root(value: str, options: Mapping[str, str]) -> Change | None:
    """Archive buildouts read the archives under ``packaging.root-dir`` in the original."""
    if options.get("buildout", "").split()[:1] != ["archive"] \
            or options.get("archive.root-dir", "").strip():
        return None
    return Change({"packaging.root-dir": value},
                  f"archive buildouts read their archives under archive.root-dir, not "
                  f"packaging.root-dir as in {ORIGINAL}: write 'archive.root-dir = "
                  f"{value.strip()}'; {MIGRATE_HINT}",
                  defaults={"archive.root-dir": value}, at="buildout")


def _upgrade_log_option(value: str, _options: Mapping[str, str]) -> Change:
    return refusal("update.log_file_option",
                   "the upgrade script is called with --log-file, as the upgrade scripts "
                   "of anybox.recipe.odoo and oca.recipe.odoo accept; remove the line, or "
                   f"name a wrapper script accepting --log-file in {UPGRADE_COMMAND_OPTION}")


def _nose_tests(value: str, options: Mapping[str, str]) -> Change:
    """The test paths, after the ``pytest.arguments`` already given."""
    arguments = " ".join(shlex.quote(word) for word in value.split())
    combined = f"{options.get('pytest.arguments', '').strip()} {arguments}".strip()
    return Change({"pytest.arguments": combined},
                  _deprecated("nose.tests", f"'pytest.arguments = {combined}'",
                              "pytest collects the tests in these paths"))


def _nose_upload(option: str) -> OldOption:
    return dropped(MANIFEST, option, "its uploads came with nose.coverage or nose.profile, "
                   "which have no equivalent")


def _for_nose(rule: OldOption, becomes: str | None = None) -> OldOption:
    return converted(rule.file, rule.name, becomes or rule.becomes,
                     only_for_steps(rule.name, ("nose",), rule.convert), local=False)


_COVERAGE_INSTEAD = ("run coverage with pytest-cov: put pytest-cov in the buildout and write "
                     "'pytest.arguments = --cov=ADDON --cov-report=term' (the report is in the "
                     "pytest step's log); remove this line")
_PROFILE_INSTEAD = ("profile with pytest's own '--durations=N' in pytest.arguments, or with a "
                    "profiling plugin in the buildout; remove this line")


def _nose_flag(option: str, instead: str) -> OldOption:
    def refuse_true(value: str, _options: Mapping[str, str]) -> Change:
        return refusal(option, instead)
    return dropped(MANIFEST, option, "it is off", when=_false, otherwise=refuse_true)


#: the first zc.buildout that runs on Python >= 3.10 (measured on 3.11: 2.9.5 to 2.13.2 die
#: with "cannot import name 'MutableMapping' from 'collections'", 2.2.1 with an
#: AttributeError in easy_install, before reading the buildout; 2.13.3 runs)
FIRST_PY310_BUILDOUT = "2.13.3"


def _old_buildout_pin(value: str, _options: Mapping[str, str]) -> Change | None:
    """``bootstrap-version`` pins of the original's era: zc.buildout for Python 2.

    Kept, the build's first ``bin/buildout`` dies on today's Python; the
    default pair (config/bootstrap.py) is what such a build needs now.  The
    line becomes ``bootstrap-version =`` (empty: the default), not nothing: a
    removed line would let a ``[DEFAULT]`` or inherited pin show through, and
    ``check`` and ``migrate`` would disagree on what the build installs.
    """
    try:
        pinned = Version(value.strip())
    except InvalidVersion:
        return None  # the manifest loader reports it
    if pinned >= Version(FIRST_PY310_BUILDOUT):
        return None
    return Change({"bootstrap-version": ""}, (
        f"'bootstrap-version = {value.strip()}' of {ORIGINAL} is ignored: zc.buildout "
        f"older than {FIRST_PY310_BUILDOUT} does not run on Python >= 3.10 (it dies on "
        f"import, before reading the buildout); the default zc.buildout is installed: write "
        f"'bootstrap-version =' (empty: the default), or pin {FIRST_PY310_BUILDOUT} or "
        f"later; {MIGRATE_HINT}"))


def _install_as_upgrade(value: str, _options: Mapping[str, str]) -> Change:
    return refusal("install-as-upgrade",
                   "to run the upgrade script after the installation, write 'install-modules "
                   f"update-modules' in post-buildout-steps with '{UPGRADE_SCRIPT_OPTION} = "
                   "true' (the script needs an Odoo database: it does not make one); remove "
                   "this line")


# --------------------------------------------------------------------------
# the table


OLD_OPTIONS: tuple[OldOption, ...] = (
    # workers.cfg (slaves.cfg)
    renamed(WORKERS, "passwd", "password"),
    renamed(WORKERS, "slave_priority", "worker_priority"),
    # MANIFEST.cfg: bootstrap
    # not 'virtualenv': 'virtualenv = false' means no bootstrap at all today (the worker's
    # own buildout), where bootstrap-virtualenv = false bootstrapped with the system Python
    dropped(MANIFEST, "bootstrap-virtualenv", "it chose the interpreter running bootstrap.py "
                                              "(a prepared ~/openerp-env or the system "
                                              "Python; the nine branch read nothing from it), "
                                              "and every build now bootstraps zc.buildout in "
                                              "its own virtualenv made from bootstrap-python "
                                              "(write 'bootstrap-python = ENV/bin/python' to "
                                              "keep a prepared one's interpreter)"),
    converted(MANIFEST, "bootstrap-version", f"unchanged from {FIRST_PY310_BUILDOUT} on; "
              f"an older zc.buildout (the original's era, Python 2) becomes `bootstrap-version "
              f"=` (empty: the default), with a warning: it does not run on Python >= 3.10",
              _old_buildout_pin),
    dropped(MANIFEST, "bootstrap-type", "there is no bootstrap.py any more: zc.buildout is "
                                        "installed by pip in the build's virtualenv"),
    dropped(MANIFEST, "bootstrap-script", "there is no bootstrap.py any more: zc.buildout is "
                                          "installed by pip in the build's virtualenv (the "
                                          "original's nine branch ignored it too)"),
    dropped(MANIFEST, "virtualenv3", "the build's virtualenv is made from bootstrap-python "
                                     "(default python3)"),
    # steps
    converted(MANIFEST, "post-buildout-steps",
              "today's names: " + ", ".join(f"`{old}` → `{' '.join(new)}`"
                                            for old, new in OLD_STEP_NAMES.items()),
              _convert_steps),
    # functional
    converted(MANIFEST, "functional.commands", "`functional.command = SCRIPT {port} {db}` "
              "(one script; several are refused)", _functional_commands),
    renamed(MANIFEST, "functional.port-min", "odoo.http-port-min",
            "functional tests use the build's reserved HTTP port"),
    renamed(MANIFEST, "functional.port-max", "odoo.http-port-max",
            "functional tests use the build's reserved HTTP port"),
    renamed(MANIFEST, "functional.port-step", "odoo.http-port-step",
            "functional tests use the build's reserved HTTP port"),
    # static analysis
    renamed(MANIFEST, "static-analysis.flake-directories", "static-analysis.paths",
            "with what the original did unasked: install the 'static-analysis' part and "
            "allow 100-character lines", defaults=STATIC_ANALYSIS_DEFAULTS),
    renamed(MANIFEST, "static-analysis.part", "static-analysis.parts"),
    converted(MANIFEST, "static-analysis.max-line-length",
              "`--max-line-length N` at the end of `static-analysis.arguments` (refused when "
              "they give a line length of their own)", _max_line_length, local=False),
    # doc
    renamed(MANIFEST, "doc.sphinx-sourcedir", "doc.sourcedir"),
    renamed(MANIFEST, "doc.sphinx-builddir", "doc.outdir"),
    renamed(MANIFEST, "doc.sphinx-bin", "doc.sphinx"),
    renamed(MANIFEST, "doc.sphinx-mode", "doc.mode"),
    converted(MANIFEST, "doc.upload-root", "part of `doc.upload-dir` (ROOT/DIR: it is relative "
              "to the master directory, or absolute) and of `doc.base-url` (URL/DIR)",
              _doc_upload_root, local=False),
    converted(MANIFEST, "doc.version", "nothing in a build without the doc step; refused in "
              "one with it (no equivalent)",
              only_for_steps("doc.version", ("doc",), refused(
                  MANIFEST, "doc.version", "buildbot-odoo publishes each builder's "
                  "documentation in <doc.upload-dir>/<builder>, replaced whole by each build "
                  "that built it; remove this line").convert), local=False),
    # packaging, archive
    dropped(MANIFEST, "packaging.vcs", "the package is made from the buildout directory, "
                                       "whatever its VCS"),
    converted(MANIFEST, "packaging.root-dir", "also `archive.root-dir` for archive buildouts",
              _archive_root, local=False),
    # autocommit
    dropped(MANIFEST, "autocommit.script", "buildbot-odoo commits and pushes with git or hg "
                                           "itself (autocommit.paths, autocommit.message)"),
    # upgrades
    renamed(MANIFEST, "upgrade.script", UPGRADE_COMMAND_OPTION),
    converted(MANIFEST, "update.log_file_option", "nothing when `--log-file`, else refused",
              only_for_steps("update.log_file_option", ("update-odoo", "update-openerp"),
                             dropped(MANIFEST, "update.log_file_option",
                                     "the upgrade script is called with --log-file",
                                     when=lambda value: value.strip() in ("", "--log-file"),
                                     otherwise=_upgrade_log_option).convert), local=False),
    _for_nose(dropped(MANIFEST, "install-as-upgrade", "it is off", when=_false,
                      otherwise=_install_as_upgrade),
              "nothing when false or in a build without the nose step; refused when true "
              f"(write `install-modules update-modules` with `{UPGRADE_SCRIPT_OPTION} = true`)"),
    # nose
    _for_nose(converted(MANIFEST, "nose.tests", "`pytest.arguments` (after those already "
                        "given)", _nose_tests)),
    _for_nose(_nose_flag("nose.coverage", _COVERAGE_INSTEAD),
              "nothing when false or without the nose step; refused when true (coverage "
              "with pytest-cov in `pytest.arguments`)"),
    _for_nose(_nose_flag("nose.profile", _PROFILE_INSTEAD),
              "nothing when false or without the nose step; refused when true (pytest's "
              "`--durations=N` in `pytest.arguments`)"),
    _for_nose(_nose_flag("nose.cprofile", _PROFILE_INSTEAD),
              "nothing when false or without the nose step; refused when true (pytest's "
              "`--durations=N` in `pytest.arguments`)"),
    _for_nose(_nose_upload("nose.cover-options")),
    _for_nose(_nose_upload("nose.profile-restrict")),
    _for_nose(_nose_upload("nose.upload-path")),
    _for_nose(_nose_upload("nose.upload-url")),
)

_BY_NAME: dict[tuple[str, str], OldOption] = {(o.file, o.name): o for o in OLD_OPTIONS}


def old_option(file: str, name: str) -> OldOption | None:
    return _BY_NAME.get((file, name))


def renames(file: str) -> dict[str, str]:
    """Old name -> new name of the plain renames: one setting under two names."""
    found = {}
    for rule in OLD_OPTIONS:
        if rule.file == file and rule.kind == RENAMED:
            change = rule.convert("x", {})
            assert change is not None
            (new,) = change.options
            found[rule.name] = new
    return found


def old_names(file: str) -> list[str]:
    return [o.name for o in OLD_OPTIONS if o.file == file]


# --------------------------------------------------------------------------
# applying the table to a section's options


@dataclass
class Located:
    """An option's value and where it was written."""

    value: str
    file: str
    line: int
    section: str


@dataclass(frozen=True)
class Finding:
    """A warning (or, ``refused``, an error) about one old option line."""

    option: str
    where: Located
    message: str
    refused: bool = False


#: the options the ``%(name)s`` references of one line are read with
Scope = Callable[[Located], Mapping[str, str]]


def modernise(options: Mapping[str, Located], file: str, scope: Scope | None = None
              ) -> tuple[dict[str, Located], list[Finding]]:
    """``options`` with every old spelling of ``file`` replaced as the table says.

    New options keep the location of the old line they come from, so that a
    bad value is reported where it is written.  An old name whose new name is
    also given yields to it (the loaders merge the two as one setting, the
    closer source winning; both in one section is their error); a conversion
    sets what it converts to (``doc.upload-root`` rewrites ``doc.upload-dir``).

    ``scope(line)``: the options, as written, that the ``%(name)s`` references
    of ``line`` are read with; without it, ``options`` themselves, which is
    right for a section read with its ``[DEFAULT]`` and nothing else
    (workers.cfg).  A manifest line inherited from a parent needs the parent's
    own (:func:`interpolate`).
    """
    findings: list[Finding] = []
    options = {k: _without_inline_comment(k, v, findings) for k, v in options.items()}
    values = {k: v.value for k, v in options.items()}
    options = {k: _interpolated(k, v, _scope_of(v, values, scope), findings)
               for k, v in options.items()}
    values = {k: v.value for k, v in options.items()}
    result: dict[str, Located] = {}
    pending_defaults: list[tuple[str, Located]] = []
    for key, located in options.items():
        rule = old_option(file, key)
        change = rule.convert(located.value, values) if rule else None
        if change is None:
            result.setdefault(key, located)
            continue
        at = options.get(change.at, located) if change.at else located
        message = change.message
        if not rule.local and not change.refused and change.at is None:
            # depends on the build, but written once (in [DEFAULT], in a parent): one
            # message for the line, whichever build reads it
            becomes = rule.becomes.replace("`", "'")
            message = f"deprecated {ORIGINAL} option: {key!r} becomes {becomes}; {MIGRATE_HINT}"
        findings.append(Finding(change.at or key, at, message, change.refused))
        for new_key, new_value in change.options.items():
            if rule.kind == RENAMED and new_key in options:
                continue  # the new spelling is given too: it wins
            result[new_key] = Located(new_value, located.file, located.line, located.section)
        pending_defaults += [(k, Located(v, located.file, located.line, located.section))
                             for k, v in change.defaults.items()]
    for key, located in pending_defaults:
        result.setdefault(key, located)
    return result, findings


#: Python 2's ConfigParser ended an option line's value at ';' after white space
_INLINE_COMMENT_RE = re.compile(r"\s;")
INLINE_COMMENT_MESSAGE = (
    f"the ' ;' comment at the end of this line is part of the value today; {ORIGINAL} "
    "(Python 2's ConfigParser) cut it off, and so it is read here: put the comment on a line "
    f"of its own; {MIGRATE_HINT}")


def inline_comment_start(first_line: str) -> int | None:
    """Where Python 2's ConfigParser cut an option line's value (``value ; comment``)."""
    match = _INLINE_COMMENT_RE.search(first_line)
    return match.start() if match else None


def _without_inline_comment(key: str, located: Located, findings: list[Finding]) -> Located:
    if inline_comment_start(located.value.partition("\n")[0]) is None:
        return located
    findings.append(Finding(key, located, INLINE_COMMENT_MESSAGE))
    return Located(_cut_inline_comment(located.value), located.file, located.line,
                   located.section)


#: Python 2's ConfigParser replaced ``%(name)s`` by the option ``name`` (and ``%%`` by ``%``)
_REFERENCE_RE = re.compile(r"%\((?P<name>[^)]+)\)s")


def interpolate(value: str, options: Mapping[str, str]) -> str | None:
    """``value`` as anybox.buildbot.odoo's ConfigParser gave it, if it had ``%(name)s``
    references to ``options`` (None: nothing to replace, or an unknown name).

    ``options`` are those of the section that *writes* the value, over its
    ``[DEFAULT]``: Python 2's ``ConfigParser.items(section)`` interpolated each
    value against exactly these, and the original's ``InheritorConfigParser``
    took a parent's values from the parent's own ``items()``, so an inherited
    value reads the parent's options, never the child's; a ``[DEFAULT]`` line,
    part of every section's ``items()``, reads those of each section reading it.
    """
    if "%(" not in value:
        return None
    lowered = {k.lower(): v for k, v in options.items()}
    for _ in range(10):  # ConfigParser's own depth limit
        names = [m["name"] for m in _REFERENCE_RE.finditer(value)]
        if not names:
            break
        if any(name.lower() not in lowered for name in names):
            return None
        value = _REFERENCE_RE.sub(lambda m: lowered[m["name"].lower()], value)
    return None if "%(" in value else value.replace("%%", "%")



def referenced_names(values: Iterable[str]) -> set[str]:
    """The option names the ``%(name)s`` references of ``values`` point to, lower-cased as
    Python 2's ConfigParser matched them: an option of one's own that only these references
    read is a variable of the file, not an unknown option."""
    return {m["name"].lower() for value in values for m in _REFERENCE_RE.finditer(value)}


def _scope_of(located: Located, values: Mapping[str, str], scope: Scope | None
              ) -> Mapping[str, str]:
    """What ``located``'s references read: its scope's values as Python 2 read them (an
    inline ``;`` comment cut off), or ``values`` (already cut) without a scope."""
    if scope is None or "%(" not in located.value:
        return values
    return {k: _cut_inline_comment(v) for k, v in scope(located).items()}


def _cut_inline_comment(value: str) -> str:
    first, newline, rest = value.partition("\n")
    start = inline_comment_start(first)
    return value if start is None else (first[:start].rstrip() + newline + rest).strip()


def _interpolated(key: str, located: Located, options: Mapping[str, str],
                  findings: list[Finding]) -> Located:
    value = interpolate(located.value, options)
    if value is None:
        return located
    findings.append(Finding(key, located, (
        f"{ORIGINAL} (Python 2's ConfigParser) replaced the %(name)s references of this "
        f"value, and so they are read here; buildbot-odoo reads values as written: write the "
        f"value itself; {MIGRATE_HINT}")))
    return Located(value, located.file, located.line, located.section)


def refused_options(findings: Iterable[Finding]) -> bool:
    return any(f.refused for f in findings)

