"""Configuration files are read only when they are regular files of a sane size (SPEC 9).

A FIFO would block the reader forever and ``/dev/zero`` would fill the memory:
those cases run the real command in a child process, bounded in time and
memory, so that a regression fails the test instead of hanging the suite or
the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap

import pytest

from buildbot_odoo.config.textfile import MAX_CONFIG_BYTES
from buildbot_odoo.config.workers import load_workers
from buildbot_odoo.errors import Problems

BOM = "\ufeff"
WORKERS = "[w]\npassword = x\ncapability = postgresql 15\n"
MANIFEST = "[b]\nbuildout = standalone b.cfg\nbuild-for = postgresql\n"


def master(tmp_path):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST)
    (tmp_path / "workers.cfg").write_text(WORKERS)
    return tmp_path


def check(directory, *extra):
    """``buildbot-odoo check`` in a child: at most 60 s and 1 GiB of memory."""
    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    run = subprocess.run([sys.executable, "-m", "buildbot_odoo.cli", "check", str(directory),
                          *extra], capture_output=True, text=True, timeout=60,
                         preexec_fn=limit_memory)
    return run.returncode, run.stdout.splitlines(), run.stderr


def test_a_utf8_bom_is_accepted(tmp_path):
    directory = master(tmp_path)
    (directory / "workers.cfg").write_text(BOM + WORKERS, encoding="utf-8")
    (directory / "buildouts" / "MANIFEST.cfg").write_text(BOM + MANIFEST, encoding="utf-8")
    problems = Problems()
    (worker,) = load_workers(directory / "workers.cfg", problems, "workers.cfg")
    assert worker.name == "w" and not list(problems)
    code, out, err = check(directory)
    assert (code, err) == (0, ""), out
    assert out == ["1 workers, 1 builds, 1 builders: 0 errors, 0 warnings"]


@pytest.mark.parametrize("name", ["workers.cfg", "buildouts/MANIFEST.cfg"])
def test_a_fifo_is_refused_without_blocking(tmp_path, name):
    directory = master(tmp_path)
    (directory / name).unlink()
    os.mkfifo(directory / name)
    code, out, err = check(directory)
    assert code == 1, err
    assert f"{name}: cannot read file: not a regular file (a FIFO)" in out


@pytest.mark.parametrize("name", ["workers.cfg", "buildouts/MANIFEST.cfg"])
def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path, name):
    directory = master(tmp_path)
    (directory / name).unlink()
    (directory / name).symlink_to("/dev/zero")
    code, out, err = check(directory)
    assert code == 1, err
    assert f"{name}: cannot read file: not a regular file (a character device)" in out


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path):
    directory = master(tmp_path)
    with open(directory / "workers.cfg", "ab") as stream:  # sparse: nothing is written
        stream.truncate(MAX_CONFIG_BYTES + 1)
    code, out, _ = check(directory)
    assert code == 1
    assert (f"workers.cfg: cannot read file: larger than {MAX_CONFIG_BYTES} bytes "
            f"({MAX_CONFIG_BYTES + 1})") in out


@pytest.mark.parametrize(("make", "why"), [
    (lambda path: os.mkfifo(path), "not a regular file (a FIFO)"),
    # outside the manifest's directory: refused by that rule first (issue 9.2)
    (lambda path: path.symlink_to("/dev/zero"), "a symbolic link takes it to '/dev/zero'"),
])
def test_a_standalone_buildout_must_be_a_regular_file(tmp_path, make, why):
    directory = master(tmp_path)
    (directory / "buildouts" / "b.cfg").unlink()
    make(directory / "buildouts" / "b.cfg")
    code, out, _ = check(directory)
    assert code == 1
    assert any(line.startswith("buildouts/MANIFEST.cfg:2: b: buildout: 'standalone b.cfg': ")
               and line.endswith(why) for line in out), out


@pytest.mark.parametrize(("make", "why"), [
    (lambda path: os.mkfifo(path), "not a regular file (a FIFO)"),
    (lambda path: path.symlink_to("/dev/zero"), "not a regular file (a character device)"),
    (lambda path: path.write_text(BOM + json.dumps({"format": 1})), None),
])
def test_an_auto_watch_file_is_read_the_same_way(tmp_path, make, why):
    directory = master(tmp_path)
    (directory / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST + "auto-watch = true\n")
    (directory / "watch").mkdir()
    make(directory / "watch" / "b")
    code, out, _ = check(directory)
    assert code == 0
    (warning,) = [line for line in out if line.startswith("watch/b")]
    if why:
        assert warning.endswith(f"unusable auto-watch data, skipped: {why}"), warning
    else:  # the BOM is no problem: the JSON is read (and found incomplete)
        assert "JSON" not in warning and "BOM" not in warning, warning


def test_master_cfg_that_is_not_a_regular_file_is_an_error(tmp_path):
    directory = master(tmp_path)
    os.mkfifo(directory / "master.cfg")
    code, out, _ = check(directory)
    assert code == 1
    assert "master.cfg: cannot read file: not a regular file (a FIFO)" in out


def test_the_reader_itself(tmp_path):
    from buildbot_odoo.config.textfile import UnreadableFile, read_text

    path = tmp_path / "f.cfg"
    path.write_bytes(BOM.encode() + "é\n".encode())
    assert read_text(path) == "é\n"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(UnreadableFile, match="not UTF-8 text"):
        read_text(path)
    with pytest.raises(UnreadableFile, match="No such file or directory"):
        read_text(tmp_path / "missing")
    with pytest.raises(UnreadableFile, match=r"not a regular file \(a directory\)"):
        read_text(tmp_path)
    path.write_text(textwrap.dedent("x" * 11))
    with pytest.raises(UnreadableFile, match=r"larger than 10 bytes \(11\)"):
        read_text(path, limit=10)
