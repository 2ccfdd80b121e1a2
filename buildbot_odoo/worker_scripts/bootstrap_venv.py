"""Make, or reuse, a builder's virtualenv with zc.buildout: the bootstrap of a build.

Sent to the worker by the ``bootstrap`` step on its standard input (``python3 -
ARGS``: no download step) and run with the worker's Python: standard library
only, Python >= 3.7.

1. The cache directories (``--make-dir``) are created.
2. The interpreter is the *system* one: ``--python`` (a name) is looked up on
   PATH without the virtualenvs' ``bin`` directories (:func:`is_virtualenv_bin`), and an
   interpreter that belongs to a virtualenv all the same (only found there,
   or given as a path) is replaced by its base interpreter.  Every program
   started here runs without ``VIRTUAL_ENV``, ``PYTHONHOME``, ``PYTHONPATH``,
   ``PIP_USER`` and those ``bin`` directories: a worker started from an
   activated virtualenv builds like any other (worker-setup.rst's trap).
3. The virtualenv ``--venv`` is reused when its stamp (``buildbot-odoo.json``
   in it) was written for the same interpreter (real path and version), the
   same requirements and the same package locations, and it is intact: its
   ``bin/python`` and ``bin/buildout`` exist and its ``site-packages`` holds
   exactly what the bootstrap installed.  Otherwise it is made again
   (``python -m venv --clear``, then ``pip install``) and stamped last, so that
   an interrupted bootstrap is never reused; pip holds the worker's pip cache
   (an ``flock``) while it installs.  ``--no-reuse`` always makes it.

The last line says what happened, after ``bootstrap: `` (the step's summary).

Usage::

    python3 - --venv=DIR --python=NAME --pip-cache=DIR [--make-dir=DIR ...]
        [--index-url=URL] [--find-links=LOC ...] [--no-reuse] -- REQUIREMENT...
    python3 - --make-dir=DIR ... --no-virtualenv

Exit status: 0; 1 when making the virtualenv failed; 2 for a bad command line
or an interpreter that cannot be found or run.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys

STAMP = "buildbot-odoo.json"
#: in the pip cache directory: held while pip fills it (:func:`cache_lock`)
LOCK_NAME = ".lock"
#: bump when the stamp's meaning changes: older stamps are then rebuilt
STAMP_FORMAT = 1
DROPPED_VARIABLES = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PIP_USER")
PROBE = (
    "import json, os, sys\n"
    "base = getattr(sys, '_base_executable', '') or sys.executable\n"
    "prefix, base_prefix = sys.prefix, getattr(sys, 'base_prefix', sys.prefix)\n"
    "if prefix != base_prefix and os.path.dirname(os.path.abspath(base)).startswith(prefix):\n"
    "    name = 'python%d.%d' % sys.version_info[:2]\n"
    "    base = os.path.join(base_prefix, 'bin', name)\n"
    "try:\n"
    "    import venv, ensurepip\n"
    "    has_venv = True\n"
    "except ImportError:\n"
    "    has_venv = False\n"
    "print(json.dumps({'executable': sys.executable, 'base': base, 'in_venv': prefix != "
    "base_prefix, 'version': sys.version.split()[0], 'has_venv': has_venv}))\n"
)


class BootstrapError(Exception):
    """Stops the bootstrap; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def is_virtualenv_bin(directory: str) -> bool:
    """A virtualenv's ``bin``: venv and virtualenv >= 20 leave ``pyvenv.cfg`` above it,
    older virtualenvs ``lib/pythonX.Y/orig-prefix.txt``.  (Not an ``activate``
    script: pyenv-virtualenv's shims directory has one.)"""
    top = os.path.dirname(os.path.abspath(directory))
    return (os.path.isfile(os.path.join(top, "pyvenv.cfg"))
            or bool(glob.glob(os.path.join(glob.escape(top), "lib", "python*",
                                           "orig-prefix.txt"))))


def clean_environment(environ: dict) -> tuple[dict, list[str]]:
    """The environment for the programs started here, and the PATH entries left out."""
    env = {k: v for k, v in environ.items() if k not in DROPPED_VARIABLES}
    kept, dropped = [], []
    active = environ.get("VIRTUAL_ENV")
    for entry in environ.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        if (active and os.path.abspath(entry) == os.path.join(os.path.abspath(active), "bin")) \
                or is_virtualenv_bin(entry):
            dropped.append(entry)
        else:
            kept.append(entry)
    env["PATH"] = os.pathsep.join(kept)
    return env, dropped


def probe(executable: str, env: dict) -> dict:
    """What ``executable`` is: its base interpreter, version, whether it has venv."""
    try:
        done = subprocess.run([executable, "-I", "-c", PROBE], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BootstrapError(f"cannot run {executable}: {exc}") from None
    if done.returncode != 0:
        raise BootstrapError(f"{executable} is not a Python 3 interpreter that can run "
                             f"this check:\n{done.stdout}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fingerprint(path: str) -> list[int] | None:
    """Tells a file replaced (a Python upgrade installs a new binary) from the same one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def find_interpreter(name: str, env: dict, dropped: list[str],
                     known: dict | None = None) -> tuple[str, str, list[str]]:
    """(base interpreter's real path, its version, notes for the log).

    ``known`` is what the stamp says of the interpreter it was made for: when
    ``name`` leads to that very binary, untouched since, its version is known
    and the interpreter is not run (a warm build's bootstrap stays in this
    process).  A shim, a copy in a virtualenv, anything else is run and asked.
    """
    notes = []
    if os.sep in name:
        found = os.path.abspath(name)
    else:
        found = shutil.which(name, path=env["PATH"])
        if found is None:
            found = shutil.which(name, path=os.pathsep.join(dropped)) if dropped else None
            if found is None:
                raise BootstrapError(f"bootstrap-python {name!r} is not on this worker's "
                                     f"PATH: {env['PATH'] or '(empty)'}")
            notes.append(f"{name} is only in a virtualenv's bin directory: {found}")
    real = os.path.realpath(found)
    if known and known.get("python") == real and known.get("fingerprint") is not None \
            and known["fingerprint"] == fingerprint(real):
        return real, known["python_version"], notes
    info = probe(found, env)
    base = os.path.realpath(info["base"])
    if info["in_venv"]:
        notes.append(f"{found} belongs to a virtualenv: using its base interpreter {base}")
        info = probe(base, env)
    if not info["has_venv"]:
        raise BootstrapError(f"{base} has no venv/ensurepip module: install it (Debian: "
                             f"apt-get install python3-venv)")
    return base, info["version"], notes


def site_packages(venv: str) -> str | None:
    lib = os.path.join(venv, "lib")
    if not os.path.isdir(lib):
        return None
    for name in sorted(os.listdir(lib)):
        candidate = os.path.join(lib, name, "site-packages")
        if name.startswith("python") and os.path.isdir(candidate):
            return candidate
    return None


def installed(venv: str) -> list[str]:
    """The top-level entries of the virtualenv's site-packages (byte code aside)."""
    directory = site_packages(venv)
    if directory is None:
        return []
    return sorted(n for n in os.listdir(directory) if n != "__pycache__")


def read_stamp(venv: str) -> dict | None:
    try:
        with open(os.path.join(venv, STAMP)) as stream:
            stamp = json.load(stream)
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def known_interpreter(venv: str) -> dict | None:
    """What the stamp says of the interpreter the virtualenv was made from."""
    stamp = read_stamp(venv) or {}
    key = stamp.get("key")
    if not isinstance(key, dict):
        return None
    return {"python": key.get("python"), "python_version": key.get("python_version"),
            "fingerprint": stamp.get("python_fingerprint")}


def why_not_reuse(venv: str, key: dict, reuse: bool) -> str | None:
    """None when the virtualenv can be reused, else why it is made again."""
    if not reuse:
        return "bootstrap-reuse = false"
    stamp = read_stamp(venv)
    if stamp is None:
        return "no virtualenv yet" if not os.path.exists(venv) else "no stamp: unfinished " \
                                                                    "or older virtualenv"
    old = stamp.get("key", {})
    for field, what in (("format", "made by another buildbot-odoo version"),
                        ("python", "interpreter changed"),
                        ("python_version", "Python version changed"),
                        ("requirements", "requirements changed"),
                        ("index_url", "package index changed"),
                        ("find_links", "find-links changed")):
        if old.get(field) != key[field]:
            return f"{what}: {_show(old.get(field))} -> {_show(key[field])}"
    for program in ("python", "buildout"):
        if not os.path.exists(os.path.join(venv, "bin", program)):
            return f"broken: bin/{program} is missing"
    now, then = installed(venv), stamp.get("installed")
    if now != then:
        added = sorted(set(now) - set(then or []))
        removed = sorted(set(then or []) - set(now))
        return f"site-packages changed since it was made (added {added}, removed {removed})"
    return None


def _show(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or "(none)"
    return str(value)


def run(command: list[str], env: dict) -> None:
    print("$ " + " ".join(command))
    done = subprocess.run(command, env=env)
    if done.returncode != 0:
        raise BootstrapError(f"{command[0]} exited with {done.returncode}", code=1)


@contextlib.contextmanager
def cache_lock(directory: str):
    """Exclusive use of the worker's pip cache (``flock`` on ``<cache>/.lock``).

    Only pip uses that cache (buildout's own pip runs use pip's default one),
    and only while a virtualenv is made: taken here, around pip, rather than
    by a Buildbot lock on the step, a reused virtualenv waits for nothing and
    two builders making theirs create them side by side.
    """
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, LOCK_NAME), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for {directory}: another build's pip is using it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def make(venv: str, python: str, key: dict, args: argparse.Namespace, env: dict) -> None:
    stamp_path = os.path.join(venv, STAMP)
    if os.path.exists(stamp_path):
        os.remove(stamp_path)  # a failure below must not leave a stamp behind
    run([python, "-m", "venv", "--clear", venv], env)
    pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install",
           "--disable-pip-version-check", "--cache-dir", args.pip_cache]
    if args.index_url:
        pip += ["--index-url", args.index_url]
    for location in args.find_links:
        pip += ["--find-links", location]
    with cache_lock(args.pip_cache):
        run([*pip, *args.requirements], env)
    if not os.path.exists(os.path.join(venv, "bin", "buildout")):
        raise BootstrapError("pip installed no bin/buildout in the virtualenv", code=1)
    partial = stamp_path + ".new"
    with open(partial, "w") as stream:
        json.dump({"key": key, "installed": installed(venv),
                   "python_fingerprint": fingerprint(python)}, stream, indent=1)
    os.replace(partial, stamp_path)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bootstrap_venv.py", description=__doc__.split("\n")[0])
    parser.add_argument("--venv")
    parser.add_argument("--python", default="python3")
    parser.add_argument("--pip-cache")
    parser.add_argument("--make-dir", action="append", default=[])
    parser.add_argument("--index-url")
    parser.add_argument("--find-links", action="append", default=[])
    parser.add_argument("--no-reuse", dest="reuse", action="store_false")
    parser.add_argument("--no-virtualenv", dest="virtualenv", action="store_false")
    parser.add_argument("requirements", nargs="*")
    args = parser.parse_args(argv)
    if args.virtualenv and not (args.venv and args.pip_cache and args.requirements):
        parser.error("--venv, --pip-cache and requirements are needed for a virtualenv")
    return args


def bootstrap(args: argparse.Namespace, environ: dict) -> str:
    """Do it; the one-line summary."""
    for directory in args.make_dir:
        os.makedirs(directory, exist_ok=True)
    if not args.virtualenv:
        return "caches ready; no virtualenv: the worker's buildout runs"
    env, dropped = clean_environment(environ)
    if dropped:
        print("left out of PATH (virtualenv bin directories): " + ", ".join(dropped))
    python, version, notes = find_interpreter(args.python, env, dropped,
                                              known_interpreter(args.venv))
    for note in notes:
        print(note)
    print(f"interpreter: {python} (Python {version})")
    key = {"format": STAMP_FORMAT, "python": python, "python_version": version,
           "requirements": args.requirements, "index_url": args.index_url,
           "find_links": args.find_links}
    reason = why_not_reuse(args.venv, key, args.reuse)
    if reason is None:
        print(f"{args.venv} was made for {python} (Python {version}) with "
              f"{' '.join(args.requirements)}: reused")
        return "virtualenv reused"
    print(f"making {args.venv}: {reason}")
    make(args.venv, python, key, args, env)
    return f"virtualenv made ({reason})"


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # in order with the programs' output
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        summary = bootstrap(args, dict(os.environ))
    except BootstrapError as exc:
        print(f"bootstrap: failed: {exc}")
        return exc.code
    print(f"bootstrap: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
