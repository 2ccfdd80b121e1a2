"""Reading a buildout's output: why it failed, in one line (SPEC 6, step 4).

A failed buildout ends with ``While: ... Error: ...`` or a traceback, after
up to hundreds of kilobytes of pip and compiler output; the cause a user
needs is a few lines of it, which tools print in their own words.
:class:`BuildoutLog` is fed the output line by line, as it streams from the
worker, and tells which of these it was (each form read from the real
tools' output, see ``tests/unit/data/buildout_logs/README.md``):

* a distribution that did not build: its name and version, the header,
  program or library it missed and the Debian packages that give it
  (:mod:`.system_packages`);
* a version conflict, between two distributions or with ``[versions]``;
* a distribution not found (and the index that could not be read);
* a download that failed (``extends``, the Odoo archive, any URL);
* a recipe not found, or its entry point;
* a git or Mercurial command that failed (the recipe's checkouts).

>>> log = BuildoutLog.from_text('''\\
... Installing odoo.
... Getting distribution for 'python-ldap==3.4.0'.
... Failed to run command:
... '/w/bin/python', '-m', 'pip', 'install', '/tmp/get_dist/python-ldap-3.4.0.tar.gz'
...       Modules/common.h:15:10: fatal error: lber.h: No such file or directory
...   ERROR: Failed building wheel for python-ldap
... While:
...   Installing odoo.
...   Getting distribution for 'python-ldap==3.4.0'.
... ''')
>>> log.summary()
'python-ldap 3.4.0 did not build: lber.h: No such file or directory (Debian package: libldap2-dev)'

Plain Python, no Buildbot: the step in :mod:`buildbot_odoo.master.steps.buildout`
is a thin edge around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..config.values import hide_url_passwords
from .system_packages import packages_for

Kind = Literal["build", "conflict", "not-found", "download", "recipe", "vcs", "error"]

#: Lines of evidence kept for the ``problem`` log, at most.
EVIDENCE_LINES = 40
#: Lines of zc.buildout's ``Error:`` message kept (a version conflict takes three).
ERROR_LINES = 4
#: Longest detail quoted in a summary.
DETAIL_CHARS = 200

# zc.buildout's own lines
_GETTING = re.compile(r"^Getting distribution for '(?P<req>[^']+)'\.$")
_DEVELOP = re.compile(r"^Develop: '(?P<path>[^']+)'$")
_WHILE = re.compile(r"^While:$")
_WHILE_STEP = re.compile(r"^  (?P<step>\S.*?)\.?$")
_ERROR = re.compile(r"^Error: (?P<text>.*)$")
_INSTALLING_PART = re.compile(r"^(?:Installing|Updating) (?P<part>[^\s.]+)\.$")
_SECTION = re.compile(r"^(?:Getting|Initializing) section (?P<part>\S+)$")
_RECIPE = re.compile(r"^Installing recipe (?P<recipe>\S+)$")
_RECIPE_ENTRY = re.compile(r"^Loading zc\.buildout recipe entry (?P<recipe>\S+?)$")
_NOT_FOUND = re.compile(r"^Couldn't find a distribution for '(?P<req>[^']+)'\.$")
_CONFLICT = "There is a version conflict."
_HAVE = re.compile(r"^We already have: (?P<have>.+)$")
_BUT = re.compile(r"^but (?P<who>.+?) requires '(?P<req>[^']+)'\.$")
_CONSTRAINT = re.compile(r"^The requirement \('(?P<req>[^']+)'\) is not allowed by your "
                         r"\[versions\] constraint \((?P<pin>[^)]+)\)$")
_REQUIREMENT_OF = re.compile(r"^  Requirement of (?P<who>[^:]+): (?P<req>.+)$")
_DOWNLOAD_ERROR = re.compile(r"^(?:\S+: )?Download error on (?P<url>\S+): (?P<reason>.*?)"
                             r"(?: -- Some packages may not be found!)?$")
_EXTENDS_ERROR = re.compile(r"^Error downloading extends for URL (?P<url>\S+): (?P<reason>.*)$")
_OFFLINE = re.compile(r"^Couldn't download '(?P<url>[^']+)' in offline mode\.$")
_CHECKSUM = re.compile(r"^MD5 checksum mismatch downloading '(?P<url>[^']+)'$")
# what buildout, recipes and pip log while downloading
_DOWNLOADING = re.compile(r"^(?:\S+: )?Downloading (?P<url>[a-z][a-z0-9+.-]*://\S+?)(?: \.\.\.)?$")
# the pip command zc.buildout runs on an archive, and pip's own lines
_PIP_ARCHIVE = re.compile(r"'(?:[^']*/)?(?P<archive>[^'/]+?)(?:\.tar\.gz|\.tar\.bz2|\.zip|"
                          r"\.tgz)'")
_COLLECTING = re.compile(r"^Collecting (?P<req>\S+)")
_PIP_DOWNLOADING = re.compile(r"^Downloading (?P<archive>[^\s/]+?)(?:\.tar\.gz|\.tar\.bz2|\.zip|"
                              r"\.tgz) \(")
_BUILDING_WHEEL = re.compile(r"Building wheel for (?P<name>\S+) \(")
_FAILED_WHEEL = re.compile(r"ERROR: Failed building wheel for (?P<name>\S+)")
_PIP_ERROR = re.compile(r"^ERROR: (?P<text>(?!Failed building wheel|Could not build wheels|"
                        r"Could not find a version|Failed to build one or more wheels).+)$")
#: pip's "\u00d7 Building wheel for X (pyproject.toml) did not run successfully."
_PIP_STEP_FAILED = re.compile(r"^\u00d7 (?P<what>.+ did not run successfully)\.$")
_BUILD_FAILED = (re.compile(r"error: metadata-generation-failed"), _PIP_STEP_FAILED,
                 re.compile(r"ERROR: Could not build wheels for "))
# what a compilation misses
_MISSING_HEADER = re.compile(r"fatal error: (?P<what>[^:\s]+): No such file or directory")
_MISSING_LIBRARY = re.compile(r"cannot find (?P<what>-l\S+?):?(?: No such file or directory)?$")
_MISSING_PROGRAM = re.compile(r"Error: (?P<what>\S+) executable not found\.")
_MISSING_FEATURE = re.compile(r"The headers or library files could not be found for "
                              r"(?P<what>[\w.+-]+),")
_COMPILE_ERROR = re.compile(r"\berror: (?!command\b|subprocess-|metadata-)(?P<text>.+)$")
# exceptions (a traceback's last line) and the VCS
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Conflict|NotFound)): "
                        r"(?P<text>.*)$")
_VCS_CALL = re.compile(r"call \[(?P<argv>'(?P<vcs>git|hg)'.*)\]$")
_VCS_FAILED = re.compile(r"^subprocess\.CalledProcessError: Command '\[(?P<argv>'(?P<vcs>git|hg)'"
                         r".*?)\]' returned non-zero exit status (?P<code>-?\d+)\.$")
#: git's and hg's own words (not pip's ``error: subprocess-exited-with-error``...)
_VCS_MESSAGE = re.compile(r"^(?:fatal|abort|error): (?!subprocess-|metadata-generation-).+")
_URL_ERROR = re.compile(r"^urllib\.error\.(?:URLError|HTTPError): (?P<reason>.*)$")
_ARCHIVE_VERSION = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*)$")


@dataclass(frozen=True)
class BuildoutProblem:
    """Why a buildout failed: what kind of cause, about what, and the tool's words.

    ``subject`` is a distribution (``python-ldap 3.4.0``), a recipe, a URL or
    a VCS command; ``detail`` what the tool said; ``packages`` the Debian
    packages that give what a build missed; ``part`` the buildout part being
    installed, when known.
    """

    kind: Kind
    subject: str
    detail: str = ""
    packages: tuple[str, ...] = ()
    part: str = ""

    def __str__(self) -> str:
        detail = _shorten(self.detail)
        part = f" (part {self.part})" if self.part else ""
        if self.kind == "build":
            text = f"{self.subject} did not build"
            if detail:
                text += f": {detail}"
            if self.packages:
                noun = "package" if len(self.packages) == 1 else "packages"
                text += f" (Debian {noun}: {', '.join(self.packages)})"
            return text
        if self.kind == "conflict":
            return f"version conflict: {detail}"
        if self.kind == "not-found":
            return f"distribution not found: {self.subject}" + (f" ({detail})" if detail else "")
        if self.kind == "download":
            return f"download failed: {self.subject}: {detail}"
        if self.kind == "recipe":
            return f"recipe not found: {self.subject}{part}" + (f": {detail}" if detail else "")
        if self.kind == "vcs":
            return f"{self.subject} failed{part}: {detail}"
        return f"buildout failed{part}: {detail}"


def _shorten(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS - 3] + "..."


def _split_archive(stem: str) -> tuple[str, str]:
    """``python-ldap-3.4.0`` -> ``('python-ldap', '3.4.0')``."""
    match = _ARCHIVE_VERSION.match(stem)
    return (match["name"], match["version"]) if match else (stem, "")


def _requirement_version(requirement: str) -> tuple[str, str]:
    """``python-ldap==3.4.0`` -> ``('python-ldap', '3.4.0')``; no pin: no version."""
    name, _, version = requirement.partition("==")
    if not version:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
    return name.strip(), version.strip()


@dataclass
class _Build:
    """What is known about the distribution being got."""

    requirement: str = ""
    develop: str = ""
    archive: tuple[str, str] | None = None
    pip_name: str = ""
    missing: str = ""
    missing_text: str = ""
    compile_error: str = ""
    pip_error: str = ""
    pip_failure: str = ""
    failed: bool = False
    evidence: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        if self.develop:
            return f"develop {self.develop}"
        if self.archive is not None:
            name, version = self.archive
        else:
            name, version = _requirement_version(self.requirement) if self.requirement else (
                self.pip_name, "")
        return f"{name} {version}".strip() or "a distribution"


@dataclass
class BuildoutLog:
    """Fed a buildout's output line by line; :attr:`problem` says why it failed.

    Only a failed run has a problem worth telling: the step asks for it when
    the command failed.  Download errors, for instance, are also printed by
    runs that find the distribution elsewhere and succeed.
    """

    _build: _Build = field(default_factory=_Build)
    _failed_build: _Build | None = None
    _part: str = ""
    _while: list[str] = field(default_factory=list)
    _in_while: bool = False
    _error: list[str] = field(default_factory=list)
    _error_open: bool = False
    _exceptions: list[str] = field(default_factory=list)
    _downloading: str = ""
    _download_errors: list[tuple[str, str]] = field(default_factory=list)
    _vcs_call: str = ""
    _vcs_messages: list[str] = field(default_factory=list)
    _constraint_of: str = ""
    lines: int = 0

    @classmethod
    def from_text(cls, text: str) -> BuildoutLog:
        log = cls()
        log.feed(text.splitlines())
        return log

    def feed(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.feed_line(line)

    def feed_line(self, line: str) -> None:
        """Read one line of the buildout's output (stdout or stderr, in order)."""
        self.lines += 1
        line = line.rstrip("\r\n")
        stripped = line.strip()
        if self._read_while(line) or self._read_error(line):
            return
        self._read_build(line, stripped)
        self._read_context(line, stripped)

    # -- the end of a failed run: "While:" steps, then "Error: ..." or a traceback

    def _read_while(self, line: str) -> bool:
        if _WHILE.match(line):
            self._in_while, self._while = True, []
            return True
        if self._in_while:
            step = _WHILE_STEP.match(line)
            if step:
                self._while.append(step["step"])
                return True
            self._in_while = False
        return False

    def _read_error(self, line: str) -> bool:
        """``Error: ...`` (zc.buildout's last words; the last one wins) and the lines that
        go on with it: a version conflict spans three."""
        match = _ERROR.match(line)
        if match:
            self._error, self._error_open = [match["text"]], True
            return True
        if self._error_open:
            if line and not line.startswith((" ", "\t")) and len(self._error) < ERROR_LINES \
                    and not _EXCEPTION.match(line):
                self._error.append(line)
                return True
            self._error_open = False
        return False

    # -- a distribution being got, and pip building it

    def _read_build(self, line: str, stripped: str) -> None:
        getting = _GETTING.match(line)
        if getting:
            self._build = _Build(requirement=getting["req"], evidence=[line])
            return
        develop = _DEVELOP.match(line)
        if develop:
            self._build = _Build(develop=develop["path"], evidence=[line])
            return
        build = self._build
        collecting = _COLLECTING.match(stripped)
        if collecting:
            self._build = _Build(requirement=collecting["req"], evidence=[stripped])
            return
        archives = (_PIP_ARCHIVE.findall(stripped) if "'pip'" in stripped
                    else _PIP_DOWNLOADING.findall(stripped))
        if archives:
            build.archive = _split_archive(archives[-1])
            return
        for pattern in (_BUILDING_WHEEL, _FAILED_WHEEL):
            wheel = pattern.search(stripped)
            if wheel:
                build.pip_name = build.pip_name or wheel["name"]
        if _FAILED_WHEEL.search(stripped) or any(p.search(stripped) for p in _BUILD_FAILED):
            step = _PIP_STEP_FAILED.match(stripped)
            if step and not build.pip_failure:
                build.pip_failure = step["what"]
            if not build.failed:
                build.evidence.append(stripped)
            build.failed = True
            self._failed_build = self._failed_build or build
            return
        pip_error = _PIP_ERROR.match(stripped)
        if pip_error and not build.pip_error:
            build.pip_error = pip_error["text"]
            build.evidence.append(stripped)
        if not build.missing:
            self._read_missing(build, stripped)
        if not build.compile_error and not build.missing:
            error = _COMPILE_ERROR.search(stripped)
            if error and (".c:" in stripped or ".h:" in stripped):
                build.compile_error = stripped[stripped.index("error:"):]
                build.evidence.append(stripped)

    def _read_missing(self, build: _Build, stripped: str) -> None:
        for pattern, text in ((_MISSING_HEADER, "{0}: No such file or directory"),
                              (_MISSING_LIBRARY, "cannot find {0}"),
                              (_MISSING_PROGRAM, "{0} executable not found"),
                              (_MISSING_FEATURE, "headers or library files not found for {0}")):
            match = pattern.search(stripped)
            if match:
                build.missing = match["what"]
                build.missing_text = text.format(match["what"])
                build.evidence.append(stripped)
                return

    # -- where the run was, downloads, VCS calls, exceptions

    def _read_context(self, line: str, stripped: str) -> None:
        part = _INSTALLING_PART.match(line)
        if part:
            self._part = part["part"]
        if part or _GETTING.match(line):
            self._vcs_call, self._vcs_messages = "", []  # what git said before is done with
        downloading = _DOWNLOADING.match(stripped)
        if downloading:
            self._downloading = downloading["url"]
        download_error = _DOWNLOAD_ERROR.match(stripped)
        if download_error:
            self._download_errors.append((download_error["url"], download_error["reason"]))
        call = _VCS_CALL.search(stripped)
        if call:
            self._vcs_call, self._vcs_messages = call["argv"], []
        elif _VCS_MESSAGE.match(line) and not line.startswith(" "):
            self._vcs_messages.append(line)
        requirement_of = _REQUIREMENT_OF.match(line)
        if requirement_of:
            self._constraint_of = requirement_of["who"]
        exception = _EXCEPTION.match(line)
        if exception:
            self._exceptions.append(line)

    # -- the verdict

    @property
    def problem(self) -> BuildoutProblem | None:
        """Why the run failed, from what was read; None when nothing says."""
        for reader in (self._build_problem, self._conflict_problem, self._recipe_problem,
                       self._not_found_problem, self._download_problem, self._vcs_problem,
                       self._other_problem):
            found = reader()
            if found is not None:
                return found
        return None

    @property
    def part(self) -> str:
        """The part being installed when the run stopped (from ``While:``, else the last one)."""
        for step in self._while:
            match = _INSTALLING_PART.match(step + ".") or _SECTION.match(step)
            if match:
                return match["part"]
        return self._part

    @property
    def error_text(self) -> str:
        return " ".join(self._error)

    def _build_problem(self) -> BuildoutProblem | None:
        build = self._failed_build
        if build is None:
            return None
        detail = (build.missing_text or build.compile_error or build.pip_error
                  or build.pip_failure)
        packages = packages_for(build.missing) if build.missing else ()
        return BuildoutProblem("build", build.subject, detail, packages, self.part)

    def _conflict_problem(self) -> BuildoutProblem | None:
        error = self.error_text
        if error.startswith(_CONFLICT):
            have = next((_HAVE.match(x) for x in self._error if _HAVE.match(x)), None)
            but = next((_BUT.match(x) for x in self._error if _BUT.match(x)), None)
            if have and but:
                detail = f"{but['who']} requires {but['req']}, but {have['have']} is installed"
            else:
                detail = " ".join(self._error[1:]) or error
            return BuildoutProblem("conflict", "", detail, part=self.part)
        constraint = _CONSTRAINT.match(error)
        if constraint:
            who = self._constraint_of or "the buildout"
            name, _ = _requirement_version(constraint["req"])
            return BuildoutProblem("conflict", name, (
                f"{who} requires {constraint['req']}, but [versions] pins "
                f"{name} = {constraint['pin']}"), part=self.part)
        return None

    def _recipe_problem(self) -> BuildoutProblem | None:
        recipe = next((m["recipe"] for m in map(_RECIPE.match, self._while) if m), None)
        if recipe is not None and _NOT_FOUND.match(self.error_text):
            return BuildoutProblem("recipe", recipe, part=self.part)
        entry = next((m["recipe"] for m in map(_RECIPE_ENTRY.match, self._while) if m), None)
        if entry is not None:
            detail = self._exception_text() or self.error_text
            return BuildoutProblem("recipe", entry, detail, part=self.part)
        return None

    def _not_found_problem(self) -> BuildoutProblem | None:
        match = _NOT_FOUND.match(self.error_text)
        if match is None:
            return None
        detail = ""
        if self._download_errors:
            url, reason = self._download_errors[0]
            detail = f"the index could not be read: {url}: {reason}"
        return BuildoutProblem("not-found", match["req"], detail, part=self.part)

    def _download_problem(self) -> BuildoutProblem | None:
        error = self.error_text
        for pattern, reason in ((_EXTENDS_ERROR, None), (_OFFLINE, "offline mode"),
                                (_CHECKSUM, "MD5 checksum mismatch")):
            match = pattern.match(error)
            if match:
                return BuildoutProblem("download", match["url"], reason or match["reason"],
                                       part=self.part)
        url_error = next((m for m in map(_URL_ERROR.match, self._exceptions) if m), None)
        if url_error is not None and self._downloading:
            return BuildoutProblem("download", self._downloading, url_error["reason"],
                                   part=self.part)
        return None

    def _vcs_problem(self) -> BuildoutProblem | None:
        failed = next((m for m in map(_VCS_FAILED.match, reversed(self._exceptions)) if m), None)
        argv = failed["argv"] if failed else self._vcs_call if self._vcs_messages else ""
        if not argv:
            return None
        words = re.findall(r"'([^']*)'", argv)
        command = " ".join(words[:2])
        detail = self._vcs_messages[0] if self._vcs_messages else (
            f"exit status {failed['code']}" if failed else "")
        return BuildoutProblem("vcs", command, detail, part=self.part)

    def _other_problem(self) -> BuildoutProblem | None:
        detail = self.error_text or self._exception_text()
        if not detail:
            return None
        return BuildoutProblem("error", "", detail, part=self.part)

    def _exception_text(self) -> str:
        """The first exception of the last traceback worth quoting (not the "Failed to run
        command" wrapper zc.buildout puts around pip)."""
        for line in self._exceptions:
            match = _EXCEPTION.match(line)
            if match and not match["text"].startswith("Failed to run command"):
                return f"{match['type'].rsplit('.', 1)[-1]}: {match['text']}"
        return ""

    # -- for the step

    def summary(self, default: str = "") -> str:
        """The problem in one line (URL passwords hidden), or ``default``."""
        problem = self.problem
        return hide_url_passwords(str(problem)) if problem is not None else default

    def evidence(self) -> list[str]:
        """The lines the problem was read from, for the step's ``problem`` log."""
        lines: list[str] = []
        if self._failed_build is not None:
            lines += self._failed_build.evidence
        if self._vcs_call and self._vcs_messages:
            lines += [f"call [{self._vcs_call}]", *self._vcs_messages]
        lines += [f"{url}: {reason}" for url, reason in self._download_errors[:3]]
        if self._while:
            lines += ["While:", *(f"  {step}" for step in self._while)]
        if self._error:
            lines += [f"Error: {self._error[0]}", *self._error[1:]]
        lines += self._exceptions[-3:]
        return [hide_url_passwords(line) for line in lines[:EVIDENCE_LINES]]
