"""``static-analysis``: ruff or flake8 from the buildout, on the addons under test.

::

    bin/flake8 --format=default ARGS PATHS
    bin/ruff check --no-fix --output-format=concise ARGS PATHS

in the buildout directory, after installing the buildout parts named by
``static-analysis.parts`` (where the tool may come from).  ``PATHS`` are
``static-analysis.paths`` (relative to the buildout directory), or by default
the directories of the addons the build names in ``odoo-addons``, located in
the ``addons_path`` of the part's Odoo configuration file by the worker
script ``locate_addons.py`` (step ``locate-addons``; the property
``static_analysis_paths`` keeps them).  With ``odoo-addons = all`` the paths
must be given: linting Odoo itself is not the point.

The issues are counted by code in the summary and stored as Buildbot
``code_issue`` test results (:class:`~buildbot_odoo.master.steps.static_analysis.LintStep`).
They make the step WARNINGS; ``static-analysis.max-issues = N`` makes more
than N issues a FAILURE (``0``: any issue fails).  The tool failing to run is
always a FAILURE.
"""

from __future__ import annotations

from buildbot.plugins import steps, util

from ..steps.static_analysis import LintStep
from .base import BuildOptions
from .buildout_parts import install_parts_steps
from .manifest_values import (
    accepts,
    arguments,
    config_error,
    executable,
    integer,
    relative_paths,
    seconds_option,
    text,
)
from .worker_side import WORKER_SCRIPTS_DIR, in_builder_dir, send_script, worker_python

TOOLS = ("flake8", "ruff")
DEFAULT_TOOL = "flake8"
PATHS_PROPERTY = "static_analysis_paths"
#: the largest ``max-issues`` (a threshold above it is no threshold)
MAX_ISSUES = 1_000_000
SCRIPT = "locate_addons.py"


def tool_command(tool: str, executable_path: str, extra: list[str]) -> list[str]:
    """The linter's command without paths, forcing the one-line-per-issue format."""
    if tool == "ruff":
        return [executable_path, "check", "--no-fix", "--output-format=concise", *extra]
    return [executable_path, "--format=default", *extra]


def _paths_from_lines(rc: int, stdout: str, stderr: str) -> dict:
    paths = [line.strip() for line in stdout.splitlines() if line.strip()]
    return {PATHS_PROPERTY: paths} if rc == 0 and paths else {}


def locate_addons_steps(options: BuildOptions, environ) -> list:
    """Find the directories of ``odoo-addons`` once the buildout wrote the config."""
    addons = options.build.odoo_addons
    if "all" in addons:
        config_error(options, "static-analysis.paths",
                     "odoo-addons = all: say which paths to analyse (static-analysis.paths)")
    send, _ = send_script(SCRIPT)
    config = f"etc/{options.build.buildout_part}.cfg"
    locate = steps.SetPropertyFromCommand(
        command=[worker_python(options), in_builder_dir(WORKER_SCRIPTS_DIR, SCRIPT), config,
                 *addons],
        extract_fn=_paths_from_lines, name="locate-addons", env=environ, haltOnFailure=True)
    return [send, locate]


@accepts("tool", "executable", "paths", "arguments", "max-issues", "timeout", "parts")
def static_analysis(configurator, options: BuildOptions, buildout_path: str,
                    environ) -> list:
    """The linter on the chosen paths, issues counted, failure policy applied."""
    tool = text(options, "static-analysis.tool", DEFAULT_TOOL)
    if tool not in TOOLS:
        config_error(options, "static-analysis.tool",
                     f"{tool!r} is not one of {', '.join(TOOLS)}")
    command = tool_command(tool, executable(options, "static-analysis.executable",
                                            f"bin/{tool}"),
                           arguments(options, "static-analysis.arguments"))
    paths: list = relative_paths(options, "static-analysis.paths", root_ok=True)
    made = install_parts_steps(options, buildout_path, "static-analysis", environ)
    if not paths:
        made += locate_addons_steps(options, environ)
    timeout = seconds_option(options, "static-analysis.timeout", None)
    made.append(LintStep(
        tool=tool, max_issues=integer(options, "static-analysis.max-issues", None,
                           maximum=MAX_ISSUES),
        # '--': the paths located on the worker are data, never the linter's options
        command=[*command, "--", *(paths or [util.Property(PATHS_PROPERTY)])],
        env=environ, name="static-analysis", **({} if timeout is None else {"timeout": timeout})))
    return made
