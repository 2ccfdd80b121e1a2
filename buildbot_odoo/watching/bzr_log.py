"""What a Bazaar branch's new revisions are, from Breezy's own output (SPEC 7).

Buildbot 4 has no Bazaar poller; :mod:`buildbot_odoo.master.bzr_poller` is
one, built like Buildbot's ``HgPoller``, that runs Breezy's ``brz``.  This
module is its plain-Python half: the commands it runs (argument lists in
which a URL comes after ``--``, so that no value of a manifest or of an
auto-watch file is ever read as an option) and the parsing of their output.

``brz log --log-format=long --show-ids -v`` prints each revision as::

    ------------------------------------------------------------
    revno: 3
    revision-id: alice@example.org-20240102030405-abcdefghijklmnop
    parent: ...
    author: Bob <bob@example.org>        (only when not the committer)
    committer: Alice <alice@example.org>
    branch nick: trunk
    timestamp: Tue 2024-01-02 03:04:05 +0000
    message:
      the message, every line indented by two spaces
    added:
      path                     file-id
    renamed:
      old => new file-id

Header lines are ``key: value`` at the start of the line; the message and the
file lists are indented, so neither can be taken for a header.  A file line
ends with the file's id (``--show-ids``), which has no white space: what is
before it is the path, spaces included.

>>> [r.revno for r in parse_long_log(SAMPLE)]
['3']
>>> r = parse_long_log(SAMPLE)[0]
>>> (r.author, r.committer, r.when)
('Bob <bob@example.org>', 'Alice <alice@example.org>', 1704164645)
>>> (r.comments, r.files)
('one\\n\\ntwo', ['a b.txt', 'old.py', 'new.py'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

#: the program: Breezy, which reads and writes Bazaar branches (Debian: ``brz``)
BRZ = "brz"
#: Breezy's environment: UTF-8 output whatever the master's locale (with ``C``,
#: brz writes '?' for every non-ASCII character of a message)
BRZ_ENVIRONMENT = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
#: what ``brz revision-info`` prints for an empty branch
NULL_REVISION = "null:"

_SEPARATOR = "-" * 60
_HEADER = re.compile(r"^(?P<key>[a-z][a-z -]*): ?(?P<value>.*)$")
_SECTION = re.compile(r"^(?P<name>[a-z][a-z ]*):$")
_FILE_SECTIONS = ("added", "removed", "modified", "renamed", "kind changed")

SAMPLE = """\
------------------------------------------------------------
revno: 3
revision-id: alice@example.org-20240102030405-abcdefghijklmnop
parent: alice@example.org-20240101000000-abcdefghijklmnop
author: Bob <bob@example.org>
committer: Alice <alice@example.org>
branch nick: trunk
timestamp: Tue 2024-01-02 03:04:05 +0000
message:
  one
\x20\x20
  two
added:
  a b.txt                        ab.txt-20240102030405-x-1
renamed:
  old.py => new.py old.py-20240101000000-y-1
"""


@dataclass
class BzrRevision:
    """One mainline revision, as a Buildbot change needs it."""

    revno: str
    revision_id: str
    committer: str = ""
    author: str = ""
    when: int | None = None
    comments: str = ""
    files: list[str] = field(default_factory=list)


def mirror_command(url: str, mirror: str, exists: bool) -> list[str]:
    """Bring the poller's private copy (no working tree) up to date with ``url``.

    ``--overwrite``: a branch whose history was rewritten (``push --overwrite``)
    is followed all the same, as Buildbot's pollers follow a forced push.

    >>> mirror_command('lp:x', '/m/pollers/bzr-1', True)
    ['brz', 'pull', '-q', '--overwrite', '-d', '/m/pollers/bzr-1', '--', 'lp:x']
    """
    if exists:
        return [BRZ, "pull", "-q", "--overwrite", "-d", mirror, "--", url]
    return [BRZ, "branch", "-q", "--no-tree", "--", url, mirror]


def tip_command(mirror: str, revision_id: str | None = None) -> list[str]:
    """``REVNO REVISION-ID`` of the tip, or of ``revision_id`` (``???`` when unknown)."""
    command = [BRZ, "revision-info", "-d", mirror]
    return command + (["-r", f"revid:{revision_id}"] if revision_id else [])


def log_command(mirror: str, first: int, last: int) -> list[str]:
    """Mainline revisions ``first`` to ``last``, oldest first, with their files."""
    return [BRZ, "log", "--log-format=long", "--show-ids", "-v", "-n1", "--forward",
            "--timezone=utc", "-r", f"revno:{first}..revno:{last}", "--", mirror]


def parse_revision_info(text: str) -> tuple[str, str] | None:
    """``(revno, revision id)`` from ``brz revision-info``; None for an empty branch.

    >>> parse_revision_info('12 alice@example.org-20240102030405-x\\n')
    ('12', 'alice@example.org-20240102030405-x')
    >>> parse_revision_info('0 null:\\n') is None
    True
    """
    words = text.split()
    if len(words) != 2 or words[1] == NULL_REVISION:
        return None
    return words[0], words[1]


def mainline_revno(revno: str) -> int | None:
    """A mainline revision number; None for a merged one (``3.1.2``) or an unknown one."""
    return int(revno) if revno.isdigit() else None


def parse_long_log(text: str) -> list[BzrRevision]:
    """The revisions of ``brz log --log-format=long --show-ids -v`` output, in its order."""
    revisions: list[BzrRevision] = []
    for block in _blocks(text):
        revision = _revision(block)
        if revision is not None:
            revisions.append(revision)
    return revisions


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line == _SEPARATOR:
            blocks.append([])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _revision(lines: list[str]) -> BzrRevision | None:
    headers: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        if line.startswith(" "):
            if current is not None:
                current.append(line[2:] if line.startswith("  ") else line.strip())
            continue
        section = _SECTION.match(line)
        if section:
            current = sections.setdefault(section["name"], [])
            continue
        header = _HEADER.match(line)
        if header:
            headers.setdefault(header["key"], header["value"].strip())
        current = None
    if "revno" not in headers or "revision-id" not in headers:
        return None
    files = [path for name in _FILE_SECTIONS for line in sections.get(name, ())
             for path in _paths(name, line)]
    committer = headers.get("committer", "")
    return BzrRevision(headers["revno"].split()[0], headers["revision-id"], committer,
                       headers.get("author", committer), _timestamp(headers.get("timestamp")),
                       "\n".join(sections.get("message", [])).strip(), files)


def _paths(section: str, line: str) -> list[str]:
    """The path(s) of a file line: its last word is the file id."""
    path = line.rstrip().rsplit(None, 1)[0] if len(line.split()) > 1 else line.strip()
    if section == "renamed" and " => " in path:
        return [part.strip() for part in path.split(" => ", 1)]
    if section == "kind changed" and " (" in path:
        return [path.split(" (", 1)[0]]
    return [path] if path else []


def _timestamp(text: str | None) -> int | None:
    """``Tue 2024-01-02 03:04:05 +0000`` as seconds since the epoch (the day name, in the
    master's language, is not read)."""
    if not text:
        return None
    try:
        return int(datetime.strptime(text.split(None, 1)[-1], "%Y-%m-%d %H:%M:%S %z")
                   .timestamp())
    except ValueError:
        return None
