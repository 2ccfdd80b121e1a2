"""``buildbot-odoo check`` on a master.cfg meant for a cluster (docs/scale-out.md)."""

from __future__ import annotations

import textwrap

import pytest

from buildbot_odoo.cli import main

WORKERS = "[w1]\npassword = x\n"
MANIFEST = """\
[auto]
buildout = standalone b.cfg
auto-watch = true
"""
PLAIN_MANIFEST = "[plain]\nbuildout = standalone b.cfg\n"

SQLITE = 'c["db"] = {"db_url": "sqlite:///state.sqlite"}\n'
POSTGRES = 'c["db"] = {"db_url": "postgresql://bb@db.example.org/buildbot"}\n'
WAMP = 'c["mq"] = {"type": "wamp", "router_url": "ws://mq.example.org:8080/ws"}\n'
SIMPLE = 'c["mq"] = {"type": "simple"}\n'
MULTI = 'c["multiMaster"] = True\n'


def master(tmp_path, settings: str, watch: str | None = None, manifest: str = MANIFEST):
    directory = tmp_path / "master"
    (directory / "buildouts").mkdir(parents=True)
    (directory / "workers.cfg").write_text(WORKERS)
    (directory / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (directory / "buildouts" / "b.cfg").write_text("[buildout]\n")
    lines = ["from buildbot_odoo import BuildoutsConfigurator",
             "c = BuildmasterConfig = {}", settings,
             "conf = BuildoutsConfigurator(basedir)"]
    if watch is not None:
        lines.append(f"conf.watch_directory = {watch!r}")
    lines.append("conf.populate(c)")
    (directory / "master.cfg").write_text("\n".join(lines) + "\n")
    return directory


def warnings_of(capsys, directory) -> list[str]:
    assert main(["check", str(directory)]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if "warning:" in line]


def test_a_single_master_is_not_told_about_clusters(tmp_path, capsys):
    assert warnings_of(capsys, master(tmp_path, SQLITE)) == []


def test_a_cluster_master_with_sqlite_and_the_simple_queue_is_warned_twice(tmp_path, capsys):
    found = warnings_of(capsys, master(tmp_path, MULTI + SQLITE + SIMPLE, watch="/srv/shared"))
    assert len(found) == 2
    assert found[0].startswith("master.cfg: db: warning: a master of a cluster needs the "
                               "database every master shares, not SQLite")
    assert found[1].startswith("master.cfg: mq: warning: a master of a cluster needs the WAMP "
                               "message queue")


def test_the_wamp_queue_alone_says_cluster_and_no_database_means_sqlite(tmp_path, capsys):
    found = warnings_of(capsys, master(tmp_path, WAMP, watch="/srv/shared"))
    assert [line.split(": warning:")[0] for line in found] == ["master.cfg: db"]


@pytest.mark.parametrize("watch", [None, "watch", "./sub/../watch"])
def test_watch_files_inside_the_master_directory_are_not_shared(tmp_path, capsys, watch):
    directory = master(tmp_path, MULTI + POSTGRES + WAMP, watch=watch)
    [found] = warnings_of(capsys, directory)
    assert found == textwrap.dedent(f"""\
        master.cfg: watch_directory: warning: auto-watch files go to {directory / 'watch'}, \
inside this master's directory, where the other masters of the cluster never read them: set \
conf.watch_directory to a directory every master mounts""")


def test_a_shared_watch_directory_or_no_auto_watch_is_fine(tmp_path, capsys):
    shared = tmp_path / "shared"
    assert warnings_of(capsys, master(tmp_path / "a", MULTI + POSTGRES + WAMP,
                                      watch=str(shared))) == []
    assert warnings_of(capsys, master(tmp_path / "b", MULTI + POSTGRES + WAMP,
                                      manifest=PLAIN_MANIFEST)) == []


def test_a_watch_directory_that_is_no_path_is_an_error(tmp_path, capsys):
    directory = master(tmp_path, "", watch="")
    assert main(["check", str(directory)]) == 1
    assert ("master.cfg: watch_directory: '' is not a directory (a path, relative to the "
            "master directory or absolute)") in capsys.readouterr().out.splitlines()


def test_master_expiry_on_a_single_master_changes_nothing_and_is_said(tmp_path, capsys):
    directory = master(tmp_path, SQLITE, manifest=PLAIN_MANIFEST)
    text = (directory / "master.cfg").read_text()
    (directory / "master.cfg").write_text(text.replace("conf.populate(c)",
                                                       "conf.master_expiry = 60\nconf.populate(c)"))
    [found] = warnings_of(capsys, directory)
    assert found.startswith("master.cfg: master_expiry: warning: only a master of a cluster "
                            "expires other masters")


def test_a_bad_master_expiry_is_an_error_of_check(tmp_path, capsys):
    directory = master(tmp_path, MULTI + POSTGRES + WAMP, manifest=PLAIN_MANIFEST)
    text = (directory / "master.cfg").read_text()
    (directory / "master.cfg").write_text(text.replace("conf.populate(c)",
                                                       "conf.master_expiry = 5\nconf.populate(c)"))
    assert main(["check", str(directory)]) != 0
    assert "master.cfg: master_expiry: 5 is not a number of seconds of at least 30" in \
        capsys.readouterr().out
