"""Start a server in the background until it answers HTTP, or stop it.

Sent to the worker by the ``functional`` subfactory and run there with the
worker's Python: standard library only.

A Buildbot step ends when its command's output pipes close, so a server
started by a plain step would either hold the step forever or die with it.
``start`` runs the server in a session of its own, with its output going to a
file, records its process id in a pid file, and returns once the server
answers an HTTP request (any HTTP status counts: the server is listening and
speaking HTTP), or fails -- stopping the server -- when it exits or stays
silent for ``--wait`` seconds.  ``stop`` terminates the server's whole
process group (SIGTERM, then SIGKILL after ``--grace`` seconds) and is a
no-op when there is nothing to stop, so it can run as a clean-up whatever
happened.

Usage::

    python3 odoo_server.py start --pidfile FILE --output FILE --url URL [--wait S] -- CMD...
    python3 odoo_server.py stop --pidfile FILE [--grace S]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

POLL_SECONDS = 0.5
TAIL_BYTES = 4000


def answers(url: str) -> bool:
    """True when something speaks HTTP at ``url`` (whatever the status)."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def tail(path: str) -> str:
    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            stream.seek(max(0, stream.tell() - TAIL_BYTES))
            return stream.read().decode("utf-8", "replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(pidfile: str) -> int | None:
    try:
        with open(pidfile, encoding="ascii") as stream:
            return int(stream.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def start(pidfile: str, output: str, url: str, wait: float, command: list[str]) -> int:
    previous = read_pid(pidfile)
    if previous is not None and alive(previous):
        stop(pidfile, grace=10)  # a server left by an interrupted build
    with open(output, "wb") as out:  # this run's output only
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    with open(pidfile, "w", encoding="ascii") as stream:
        stream.write(f"{process.pid}\n")
    print(f"started {command[0]} (pid {process.pid}), waiting for {url}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"the server exited with status {process.returncode} before answering;"
                  f" end of its output:\n{tail(output)}", file=sys.stderr)
            os.unlink(pidfile)
            return 1
        if answers(url):
            print(f"the server answers at {url}")
            return 0
        time.sleep(POLL_SECONDS)
    print(f"the server did not answer at {url} within {wait:g}s; end of its output:\n"
          f"{tail(output)}", file=sys.stderr)
    stop_child(process, grace=10)
    os.unlink(pidfile)
    return 1


def stop_child(process: subprocess.Popen, grace: float) -> None:
    """Stop a server this process started (and must reap), with its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stop(pidfile: str, grace: float) -> int:
    pid = read_pid(pidfile)
    if pid is None:
        print("no server to stop")
        return 0
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        print(f"server pid {pid} already gone")
        os.unlink(pidfile)
        return 0
    if group != pid:  # not the session leader we started: the pid was reused
        print(f"pid {pid} is not the server's process group leader any more: left alone")
        os.unlink(pidfile)
        return 0
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        print(f"server pid {pid} ignored SIGTERM for {grace:g}s: killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    else:
        print(f"server pid {pid} stopped")
    os.unlink(pidfile)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    starting = sub.add_parser("start")
    starting.add_argument("--pidfile", required=True)
    starting.add_argument("--output", required=True)
    starting.add_argument("--url", required=True)
    starting.add_argument("--wait", type=float, default=60)
    starting.add_argument("command", nargs=argparse.REMAINDER)
    stopping = sub.add_parser("stop")
    stopping.add_argument("--pidfile", required=True)
    stopping.add_argument("--grace", type=float, default=20)
    args = parser.parse_args(argv)
    if args.action == "stop":
        return stop(args.pidfile, args.grace)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("start needs the server command after --")
    return start(args.pidfile, args.output, args.url, args.wait, command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
