"""``buildbot-odoo init``: a ready master directory, or nothing at all.

Every obstacle (the target or a directory of it being a file, a broken
symbolic link where a file or ``secrets`` goes, a file of the template
already there without ``--force``) is found before anything is written, and
reported all at once.  Files are then written beside their destination and
renamed into place, so a failure half-way (a full disk) leaves the directory
as it was: what was made is removed again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

#: the worker the sample declares; its password goes to secrets/<name>
SAMPLE_WORKER = "local-worker"
SECRETS_DIR = "secrets"
NOTHING_WRITTEN = "nothing was written"


class InitRefused(Exception):
    """The directory cannot be made; ``lines`` say why, one obstacle each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class Scaffold:
    """What ``init`` will do, decided before doing any of it."""

    target: Path
    directories: list[Path] = field(default_factory=list)  # to make, parents first
    files: list[tuple[Path, Path]] = field(default_factory=list)  # (template, destination)
    secret: Path | None = None  # the sample worker's password, to make (None: kept)
    secret_dir: Path | None = None


def _kind(path: Path) -> str:
    """``missing``, ``directory``, ``file``, ``broken link`` or ``special``."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "broken link" if path.is_symlink() else "missing"
    except NotADirectoryError:  # a parent is a file: reported for the parent
        return "missing"
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else "special"


_NOT_A_DIRECTORY = {"file": "is a file, not a directory",
                    "broken link": "is a broken symbolic link",
                    "special": "is not a directory"}
_NOT_A_FILE = {"directory": "is a directory, not a file",
               "broken link": "is a broken symbolic link",
               "special": "is not a regular file"}


def plan(source: Path, target: Path, force: bool) -> Scaffold:
    """Check everything ``init`` needs; raise :class:`InitRefused` listing every obstacle."""
    planner = _Planner(Scaffold(target))
    planner.directory(target, ancestors=True)
    existing: list[str] = []
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            planner.directory(destination)
        elif planner.file(destination) == "file" and not force:
            existing.append(str(destination))
        elif not planner.blocked(destination):
            planner.scaffold.files.append((path, destination))
    secret_dir = planner.scaffold.secret_dir = target / SECRETS_DIR
    planner.directory(secret_dir)
    secret = secret_dir / SAMPLE_WORKER
    planner.scaffold.secret = secret if planner.file(secret) == "missing" else None
    obstacles = [f"{path}: {why}" for path, why in planner.obstacles]
    if existing:
        obstacles.append(f"already there: {', '.join(existing)}; use --force to overwrite")
    if not obstacles:
        obstacles = _unwritable(planner.scaffold)
    if obstacles:
        raise InitRefused([*obstacles, NOTHING_WRITTEN])
    return planner.scaffold


class _Planner:
    """Fills a :class:`Scaffold`, collecting the obstacles (a path each) on the way."""

    def __init__(self, scaffold: Scaffold):
        self.scaffold = scaffold
        self.obstacles: list[tuple[Path, str]] = []

    def blocked(self, path: Path) -> bool:
        """Whether ``path`` is at or under a path already reported."""
        return any(path.is_relative_to(p) for p, _ in self.obstacles)

    def file(self, path: Path) -> str:
        """Where a file goes: report what is no file; return the kind found."""
        kind = _kind(path)
        if kind in _NOT_A_FILE and not self.blocked(path):
            self.obstacles.append((path, _NOT_A_FILE[kind]))
        return kind

    def directory(self, path: Path, ancestors: bool = False) -> None:
        """``path`` must be a directory or be made one (with its missing ``ancestors``)."""
        if self.blocked(path):
            return
        kind = _kind(path)
        if kind == "directory":
            return
        if kind != "missing":
            self.obstacles.append((path, _NOT_A_DIRECTORY[kind]))
            return
        missing = [path]
        if ancestors:
            parent = path.parent
            while _kind(parent) == "missing" and parent != parent.parent:
                missing.append(parent)
                parent = parent.parent
            kind = _kind(parent)
            if kind != "directory":
                self.obstacles.append((parent, _NOT_A_DIRECTORY.get(kind, "is not a directory")))
                return
        self.scaffold.directories += reversed(missing)


def _unwritable(scaffold: Scaffold) -> list[str]:
    """Existing directories where something is to be made, and files to replace,
    that this user may not write."""
    made = set(scaffold.directories)
    places = {p.parent for p in scaffold.directories} | {d.parent for _, d in scaffold.files}
    if scaffold.secret is not None:
        places.add(scaffold.secret.parent)
    return [f"{place}: is not writable" for place in sorted(places - made)
            if not os.access(place, os.W_OK | os.X_OK)]


def make(scaffold: Scaffold) -> Path:
    """Write what :func:`plan` decided; on failure, undo it and raise :class:`InitRefused`."""
    made_dirs: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for directory in scaffold.directories:
            directory.mkdir(mode=0o700 if directory == scaffold.secret_dir else 0o777)
            made_dirs.append(directory)
        for template, destination in scaffold.files:
            temporary = destination.with_name(f".{destination.name}.init")
            shutil.copyfile(template, temporary)
            staged.append((temporary, destination))
        if scaffold.secret is not None:
            temporary = scaffold.secret.with_name(f".{scaffold.secret.name}.init")
            _write_password(temporary)
            staged.append((temporary, scaffold.secret))
        assert scaffold.secret_dir is not None
        os.chmod(scaffold.secret_dir, 0o700)
        for temporary, destination in staged:
            os.replace(temporary, destination)
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for directory in reversed(made_dirs):
            shutil.rmtree(directory, ignore_errors=True)
        where = f"{exc.filename}: " if exc.filename else ""
        raise InitRefused([f"{where}{exc.strerror or exc}", NOTHING_WRITTEN]) from None
    return scaffold.secret_dir / SAMPLE_WORKER


def _write_password(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(secrets.token_urlsafe(24))


def write_secret(directory: Path, name: str) -> Path:
    """A random password, readable by the master's user only; kept if it exists."""
    directory.mkdir(mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / name
    if not path.exists():
        _write_password(path)
    return path
