"""Check an archive against its ``.md5`` file and unpack it as a directory.

Sent to the worker by the ``archive`` buildout retriever and run there with
the worker's Python, so it uses the standard library only and checks what it
unpacks (no absolute paths, no ``..``, no links leaving the target).

Usage: ``python3 unpack_archive.py ARCHIVE TARGET``; the checksum is read from
``ARCHIVE.md5`` (``md5sum`` output: the hex digest first).  An archive
holding a single top-level directory gives that directory's contents, the
usual shape of a packaged buildout.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile


def md5_of(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def expected_md5(path: str) -> str:
    with open(path, encoding="utf-8") as stream:
        tokens = stream.read().split()
    if not tokens:
        raise SystemExit(f"{path} is empty: no checksum to compare with")
    return tokens[0].lower()


def check_member(member: tarfile.TarInfo, target: str) -> None:
    """Refuse members that would land (or link) outside ``target``."""
    name = member.name
    if name.startswith("/") or ".." in name.split("/"):
        raise SystemExit(f"refusing archive member {name!r}: outside the target")
    if member.issym() or member.islnk():
        base = os.path.dirname(os.path.join(target, name))
        dest = os.path.normpath(os.path.join(base if member.issym() else target,
                                             member.linkname))
        if not dest.startswith(os.path.abspath(target) + os.sep):
            raise SystemExit(f"refusing link {name!r} -> {member.linkname!r}")


def extract(archive: str, target: str) -> None:
    with tarfile.open(archive, "r:bz2") as tar:
        members = tar.getmembers()
        for member in members:
            check_member(member, os.path.abspath(target))
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members, filter="data")
        else:  # pragma: no cover - Python without PEP 706
            tar.extractall(target, members)


def replace(target: str, unpacked: str) -> None:
    """Make ``target`` the unpacked tree, dropping what was there before."""
    entries = os.listdir(unpacked)
    root = unpacked
    if len(entries) == 1 and os.path.isdir(os.path.join(unpacked, entries[0])):
        root = os.path.join(unpacked, entries[0])
    if os.path.islink(target) or os.path.isfile(target):
        os.remove(target)
    elif os.path.isdir(target):
        shutil.rmtree(target)
    os.rename(root, target)
    if root != unpacked:
        shutil.rmtree(unpacked)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    archive, target = argv
    wanted, found = expected_md5(archive + ".md5"), md5_of(archive)
    if wanted != found:
        print(f"checksum mismatch for {archive}: expected {wanted}, got {found}",
              file=sys.stderr)
        return 1
    print(f"{archive}: md5 {found} OK")
    unpacked = target + ".unpacking"
    if os.path.isdir(unpacked):
        shutil.rmtree(unpacked)
    extract(archive, unpacked)
    replace(target, unpacked)
    print(f"unpacked {archive} as {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
