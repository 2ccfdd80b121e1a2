"""The one way configuration files are read: regular files of a sane size, UTF-8.

workers.cfg, the manifests, the standalone buildouts they name, the
auto-watch files workers upload and master.cfg are all named by a user (or a
worker), and may be anything a path can be.  A FIFO would block the reader
until something writes to it; ``/dev/zero`` would be read until the memory
is full; a 10 GB file the same.  So the file is opened without blocking,
checked to be a regular file of at most a given size *on the descriptor*
(no race with a file swapped between a check and the read), and read no
further than that size.  A UTF-8 byte order mark (written by some Windows
editors) is accepted and dropped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: the largest workers.cfg, manifest or standalone buildout read (a manifest of ten
#: thousand builds is about 3 MiB)
MAX_CONFIG_BYTES = 16 << 20
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0))


class UnreadableFile(ValueError):
    """Why a file cannot be read; the caller adds which file."""


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return f"not a regular file ({kind})"


def _check(st: os.stat_result, limit: int) -> None:
    problem = _not_regular(st.st_mode)
    if problem:
        raise UnreadableFile(problem)
    if st.st_size > limit:
        raise UnreadableFile(f"larger than {limit} bytes ({st.st_size})")


def read_bytes(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The content of a regular file of at most ``limit`` bytes (symbolic links followed)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    try:
        _check(os.fstat(fd), limit)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if size > limit:  # it grew while being read
        raise UnreadableFile(f"larger than {limit} bytes")
    return b"".join(chunks)


def read_text(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """UTF-8 text of a regular file of at most ``limit`` bytes, a leading BOM dropped."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text: {exc}") from None


def check_regular_file(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> None:
    """For a file others read (Buildbot sends a standalone buildout): the same rule, unread."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    _check(st, limit)
