"""Auto-watch steps: report the buildout's VCS branches to the master (SPEC 5, 6 step 5).

Right after ``bin/buildout``, a build with ``auto-watch = true``

1. receives ``worker_scripts/dump_watch.py`` in ``<builder dir>/autowatch/``;
2. runs it with the buildout's Python: zc.buildout resolves the configuration
   with the same assignments ``bin/buildout`` got, and the script writes the
   branches the Odoo part's ``version`` and ``addons`` lines follow as JSON;
3. uploads that file to ``<master>/watch/<build name>`` (``watch/`` being the
   configurator's ``watch_directory``) -- a path made on the master from the
   validated build name, nothing from the worker.

The master reads the file at its next reconfig (:mod:`buildbot_odoo.watching.files`).
Introspection is a by-product of the build: when it fails the build is marked
with warnings and nothing is uploaded; the previous data stays in use.
"""

from __future__ import annotations

import posixpath

from buildbot.plugins import steps, util
from buildbot.process.results import SUCCESS

from ...watching.files import MAX_SIZE, WATCH_DIR, watch_file
from ..subfactories.base import BuildOptions
from ..subfactories.bootstrap import DEFAULT_PYTHON, buildout_command, venv_path
from ..subfactories.retrieval import worker_script

AUTO_WATCH_DIR = "autowatch"
SCRIPT = "dump_watch.py"
OUTPUT = "watch.json"
DUMP_STEP = "auto-watch-introspect"
#: a failure here marks the build with warnings, never fails or stops it
BY_PRODUCT = {"haltOnFailure": False, "flunkOnFailure": False, "warnOnFailure": True}


def in_builder_dir(name: str) -> util.Interpolate:
    """An absolute path in ``<builder dir>/autowatch``: right even when ``build`` is a link."""
    return util.Interpolate(f"%(prop:builddir)s/{AUTO_WATCH_DIR}/{name}")


def buildout_python(options: BuildOptions):
    """The Python that ran the buildout, which can import zc.buildout."""
    if options.build.virtualenv:
        return venv_path("bin", "python")
    return options.build.bootstrap.get("python", DEFAULT_PYTHON)


def dump_succeeded(step) -> bool:
    """``doStepIf`` of the upload: only fresh data from this build goes to the master."""
    for done in step.build.executedSteps:
        if done.name == DUMP_STEP:
            return done.results == SUCCESS
    return False


def dump_command(options: BuildOptions, buildout_path: str) -> list:
    build = options.build
    assignments = buildout_command(options, buildout_path)[3:]
    return [buildout_python(options), in_builder_dir(SCRIPT),
            "--build", build.name, "--buildout", build.options.get("buildout", ""),
            "--part", build.buildout_part, "--output", in_builder_dir(OUTPUT),
            "-c", buildout_path, *assignments]


def auto_watch_steps(configurator, options: BuildOptions, buildout_path: str,
                     environ) -> list:
    """Download the script, introspect, upload; nothing when ``watch =`` turns watching off."""
    build = options.build
    if build.watch == []:
        return []  # the plan warns that auto-watch is ignored here
    target = watch_file(configurator.basedir, build.name,
                        getattr(configurator, "watch_directory", WATCH_DIR)).resolve()
    return [
        steps.FileDownload(mastersrc=worker_script(SCRIPT),
                           workerdest=posixpath.join(AUTO_WATCH_DIR, SCRIPT), workdir=".",
                           name="download-auto-watch-script", **BY_PRODUCT),
        steps.ShellCommand(command=dump_command(options, buildout_path), env=environ,
                           name=DUMP_STEP, descriptionDone="auto-watch introspection",
                           **BY_PRODUCT),
        # the master reads no more than MAX_SIZE bytes: the worker cannot send more
        steps.FileUpload(workersrc=posixpath.join(AUTO_WATCH_DIR, OUTPUT), workdir=".",
                         masterdest=str(target), mode=0o644, maxsize=MAX_SIZE,
                         doStepIf=dump_succeeded,
                         name="upload-auto-watch", **BY_PRODUCT),
    ]
