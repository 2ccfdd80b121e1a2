"""Make a ``.tar.bz2`` of chosen paths of a buildout, with its ``.md5`` beside it.

Sent to the worker by the ``packaging`` subfactory and run there with the
worker's Python: standard library only.  The archive is what the ``archive``
buildout retriever (``unpack_archive.py``) reads back: one top directory
named like the archive, the chosen paths inside it, and ``NAME.tar.bz2.md5``
in ``md5sum`` format.

Every path must be relative to ``--source`` without ``..`` and must exist: a
package missing a part it was asked to hold is a failed build, not a
surprise at deployment time.  Directories are taken whole, except for
members matching an ``--exclude`` pattern (``fnmatch`` on the member's name,
e.g. ``*.pyc``, ``__pycache__``).  Symbolic links are stored as links.  The
archive is written under a temporary name and renamed when complete.

Usage::

    python3 make_package.py --source DIR --output DIST/NAME.tar.bz2 [--exclude PAT]... PATH...
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import sys
import tarfile

SUFFIX = ".tar.bz2"


def md5_of(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_path(source: str, path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    if os.path.isabs(path) or ".." in parts:
        raise SystemExit(f"refusing {path!r}: paths must be relative to the buildout, "
                         f"without '..'")
    full = os.path.join(source, path)
    if not os.path.lexists(full):
        raise SystemExit(f"{path!r} does not exist in {source!r}: nothing to package")
    return os.path.normpath(path)


def excluded(name: str, patterns: list[str]) -> bool:
    base = os.path.basename(name)
    return any(fnmatch.fnmatch(base, p) or fnmatch.fnmatch(name, p) for p in patterns)


def members(source: str, path: str, patterns: list[str]):
    """``path`` and, for a directory, everything below it not excluded, parents first.

    ``os.walk`` does not follow links: a linked directory is one (link) member.
    """
    full = os.path.join(source, path)
    yield path
    if os.path.islink(full) or not os.path.isdir(full):
        return
    for root, dirs, files in os.walk(full):
        dirs[:] = sorted(d for d in dirs if not excluded(d, patterns))
        relative_root = os.path.relpath(root, source)
        for name in dirs + sorted(f for f in files if not excluded(f, patterns)):
            yield os.path.join(relative_root, name)


def make(source: str, output: str, paths: list[str], patterns: list[str]) -> int:
    if not output.endswith(SUFFIX):
        raise SystemExit(f"the output must end with {SUFFIX}: {output!r}")
    top = os.path.basename(output)[: -len(SUFFIX)]
    checked = [check_path(source, p) for p in paths]
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    partial = output + ".partial"
    count = 0
    seen: set[str] = set()
    with tarfile.open(partial, "w:bz2") as tar:
        for path in checked:
            for name in members(source, path, patterns):
                if name in seen:
                    continue
                seen.add(name)
                tar.add(os.path.join(source, name), arcname=f"{top}/{name}", recursive=False)
                count += 1
    os.replace(partial, output)
    digest = md5_of(output)
    with open(output + ".md5", "w", encoding="utf-8") as stream:
        stream.write(f"{digest}  {os.path.basename(output)}\n")
    size = os.path.getsize(output)
    print(f"{output}: {count} members, {size} bytes, md5 {digest}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="the buildout directory")
    parser.add_argument("--output", required=True, help="the archive to write (.tar.bz2)")
    parser.add_argument("--exclude", action="append", default=[], help="fnmatch pattern")
    parser.add_argument("paths", nargs="+", help="paths relative to --source")
    args = parser.parse_args(argv)
    return make(args.source, args.output, args.paths, args.exclude)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
