"""The auto-watch steps: script download, introspection command, upload to watch/<build>."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.shell import ShellCommand
from buildbot.steps.transfer import FileDownload, FileUpload

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.config.manifest import WatchSpec
from buildbot_odoo.master.steps.autowatch import DUMP_STEP, auto_watch_steps, dump_succeeded
from buildbot_odoo.master.subfactories.retrieval import WORKER_SCRIPTS
from buildbot_odoo.watching.files import MAX_SIZE

from .test_retrieval import options_for

ENV = {"PGPORT": "5433"}
BUILDOUT = "git https://example.org/deploy.git 17.0 buildout.cfg"


class Configurator:
    basedir = Path("/srv/master")


def made(**fields):
    options = options_for(name="sale", raw={"buildout": BUILDOUT}, auto_watch=True, **fields)
    return auto_watch_steps(Configurator(), options, "buildout.cfg", ENV)


def render(value, **props):
    return Properties(builddir="/w/sale-pg15", testing_db="ci-sale", **props).render(
        value).result


def test_download_introspect_upload_to_the_build_watch_file():
    download, dump, upload = made()
    assert isinstance(download, FileDownload) and isinstance(dump, ShellCommand)
    assert isinstance(upload, FileUpload)
    assert download.mastersrc == str(WORKER_SCRIPTS / "dump_watch.py")
    assert (download.workerdest, download.workdir) == ("autowatch/dump_watch.py", ".")
    assert (upload.workersrc, upload.workdir) == ("autowatch/watch.json", ".")
    assert upload.masterdest == "/srv/master/watch/sale"
    assert upload.maxsize == MAX_SIZE  # a worker cannot fill the master's disk
    assert upload.doStepIf is dump_succeeded
    assert dump.name == DUMP_STEP and dump.env is ENV
    for step in (download, dump, upload):
        assert not step.flunkOnFailure and step.warnOnFailure and not step.haltOnFailure


def test_introspection_runs_with_the_buildout_python_and_the_buildout_arguments():
    _, dump, _ = made()
    assert render(dump.command) == [
        "/w/sale-pg15/venv/bin/python", "/w/sale-pg15/autowatch/dump_watch.py",
        "--build", "sale", "--buildout", BUILDOUT, "--part", "odoo",
        "--output", "/w/sale-pg15/autowatch/watch.json", "-c", "buildout.cfg",
        "buildout:eggs-directory=/w/buildout-caches/eggs",
        "buildout:download-cache=/w/buildout-caches/downloads",
        "odoo:vcs-clear-locks=true", "odoo:vcs-clear-retry=true", "odoo:clean=true",
        "odoo:vcs-revert=on-merge", "buildout:unzip=true",
        "buildout:odoo-downloads-directory=/w/buildout-caches/odoo-downloads",
        "buildout:openerp-downloads-directory=/w/buildout-caches/odoo-downloads",
        "odoo:options.db_name=ci-sale", "odoo:options.db_port=False",
        "odoo:options.db_host=False", "odoo:options.db_user=False",
        "odoo:options.smtp_server=127.0.0.1", "odoo:options.smtp_port=1",
        "odoo:options.data_dir=/w/sale-pg15/odoo-data"]


def test_without_virtualenv_the_bootstrap_python_runs_it():
    _, dump, _ = made(virtualenv=False, bootstrap={"python": "/usr/bin/python3.11"},
                      buildout_part="erp")
    command = render(dump.command)
    assert command[0] == "/usr/bin/python3.11"
    assert command[command.index("--part") + 1] == "erp"


def test_empty_watch_makes_no_auto_watch_step():
    assert made(watch=[]) == []
    assert made(watch=[WatchSpec("git", "https://x", "main")]) != []


def fake_step(*done):
    steps = [SimpleNamespace(name=name, results=result) for name, result in done]
    return SimpleNamespace(build=SimpleNamespace(executedSteps=steps))


def test_upload_only_after_a_successful_introspection():
    assert dump_succeeded(fake_step(("buildout", SUCCESS), (DUMP_STEP, SUCCESS)))
    assert not dump_succeeded(fake_step(("buildout", SUCCESS), (DUMP_STEP, FAILURE)))
    assert not dump_succeeded(fake_step(("buildout", SUCCESS)))


def test_auto_watch_steps_come_right_after_the_buildout(tmp_path):
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(
        "[auto]\nbuildout = standalone b.cfg\nauto-watch = true\nbuild-for = postgresql == 15\n"
        "[plain]\nbuildout = standalone b.cfg\nbuild-for = postgresql == 15\n")
    (tmp_path / "workers.cfg").write_text("[w]\npassword = x\ncapability = postgresql 15\n")
    config: dict = {}
    BuildoutsConfigurator(tmp_path).populate(config)
    names = {b.name: [s.kwargs.get("name") for s in b.factory.steps] for b in config["builders"]}
    auto = names["auto-pg15"]
    at = auto.index("buildout")
    assert auto[at + 1:at + 5] == ["download-auto-watch-script", DUMP_STEP,
                                   "upload-auto-watch", "dropdb"]
    assert DUMP_STEP not in names["plain-pg15"]
    upload = next(s for s in config["builders"][0].factory.steps
                  if s.kwargs.get("name") == "upload-auto-watch")
    assert upload.kwargs["masterdest"] == str((tmp_path / "watch" / "auto").resolve())
