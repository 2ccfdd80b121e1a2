"""Claim, or release, a free TCP port for one build on this host.

Sent to the worker by builds with ``odoo.use-port`` (or a subfactory that
needs a server port) and run there with the worker's Python: standard library
only.

A claim is a file ``<claims dir>/<port>.claim`` created with ``O_CREAT |
O_EXCL``, so that two processes can never both create it, holding who made
it (JSON).  A port is taken only when, besides the claim, nothing on the host
is listening on it (a bind check, the way a server would bind, with
``SO_REUSEADDR``).  Scanning and reclaiming happen under an exclusive
``flock`` on ``<claims dir>/.lock``, so several workers sharing one claims
directory (one host) cannot both judge a claim stale and take the port.

A claim is stale, and reclaimed, when it was made for the same owner (the
builder's directory: that builder's previous build ended without its
clean-up, and a builder runs one build at a time on a worker), or when it is
older than ``--max-age`` seconds and its port is free.

Usage::

    python3 reserve_port.py claim --dir DIR --owner OWNER --min N --max N --step N
        [--note TEXT] [--max-age SECONDS]      -> prints the port on stdout
    python3 reserve_port.py release --dir DIR --owner OWNER --port N

Exit status: 0, or 1 when no port is free in the range (claim) or a claim
cannot be read, 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time

LOCK_NAME = ".lock"
SUFFIX = ".claim"
DEFAULT_MAX_AGE = 24 * 3600


def claim_path(directory: str, port: int) -> str:
    return os.path.join(directory, f"{port}{SUFFIX}")


@contextlib.contextmanager
def locked(directory: str):
    """Exclusive, host-wide, while scanning or releasing claims."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, LOCK_NAME), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def port_is_free(port: int) -> bool:
    """True when a server could listen on ``port`` on every interface right now."""
    families = [(socket.AF_INET, "0.0.0.0")]
    if socket.has_ipv6:
        families.append((socket.AF_INET6, "::"))
    for family, address in families:
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no such address family on this host
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                continue  # IPv6 disabled: nothing can listen there either
            return False
        finally:
            sock.close()
    return True


def read_claim(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable or half-written: judged by its age only
    return data if isinstance(data, dict) else {}


def is_stale(path: str, port: int, owner: str, max_age: float) -> bool:
    claim = read_claim(path)
    if claim is None:
        return True
    if claim.get("owner") == owner:
        return True
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return True
    return age > max_age and port_is_free(port)


def create_claim(path: str, owner: str, note: str) -> bool:
    """Create the claim file atomically; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump({"owner": owner, "note": note, "pid": os.getpid(), "time": time.time()},
                  stream)
    return True


def claim(directory: str, owner: str, ports: range, note: str, max_age: float) -> int | None:
    with locked(directory):
        for port in ports:
            path = claim_path(directory, port)
            if os.path.exists(path):
                if not is_stale(path, port, owner, max_age):
                    continue
                print(f"reclaiming stale claim {path}: {read_claim(path)}", file=sys.stderr)
                os.unlink(path)
            if not create_claim(path, owner, note):
                continue
            if port_is_free(port):
                return port
            print(f"port {port} is in use by a process outside the claims", file=sys.stderr)
            os.unlink(path)
    return None


def release(directory: str, owner: str, port: int) -> None:
    path = claim_path(directory, port)
    with locked(directory):
        found = read_claim(path)
        if found is None:
            print(f"port {port} was not claimed (already released)")
        elif found.get("owner") != owner:
            print(f"port {port} is now claimed by {found.get('owner')!r}: left alone")
        else:
            os.unlink(path)
            print(f"released port {port}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    for name in ("claim", "release"):
        action = sub.add_parser(name)
        action.add_argument("--dir", required=True, help="the claims directory")
        action.add_argument("--owner", required=True, help="who claims: the builder's directory")
    claiming = sub.choices["claim"]
    claiming.add_argument("--min", type=int, required=True)
    claiming.add_argument("--max", type=int, required=True)
    claiming.add_argument("--step", type=int, default=1)
    claiming.add_argument("--note", default="")
    claiming.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE)
    sub.choices["release"].add_argument("--port", type=int, required=True)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.action == "release":
        release(args.dir, args.owner, args.port)
        return 0
    if not 0 < args.min <= args.max < 65536 or args.step < 1:
        print(f"bad port range: {args.min}-{args.max} step {args.step}", file=sys.stderr)
        return 2
    port = claim(args.dir, args.owner, range(args.min, args.max + 1, args.step), args.note,
                 args.max_age)
    if port is None:
        print(f"no free port between {args.min} and {args.max} (step {args.step})",
              file=sys.stderr)
        return 1
    print(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
