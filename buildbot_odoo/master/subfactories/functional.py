"""``functional``: tests against a running Odoo, on the build's reserved HTTP port.

0. ``functional-parts``: the buildout parts named by ``functional.parts``, when
   the test tools come from parts a plain ``bin/buildout`` does not install;
1. ``download-odoo-server``: the worker script ``odoo_server.py``;
2. ``start-odoo-server``: ``bin/start_<part> -d DB --http-port=PORT
   --http-interface=127.0.0.1 ARGS`` in the background (its own session, output
   to ``odoo-server.log`` in the buildout directory), until it answers HTTP at
   ``functional.path``, for at most ``functional.wait`` seconds;
3. ``functional-tests``: the ``functional.command``, in the buildout
   directory; ``{url}``, ``{port}`` and ``{db}`` in its words are replaced,
   and ``ODOO_URL``, ``ODOO_HTTP_PORT``, ``ODOO_DB`` are in its environment.
   With ``functional.junit-xml`` the command's JUnit report gives the test
   results (as with ``pytest``), otherwise its exit code decides;
4. ``stop-odoo-server``: stops the server and reads its log:
   ERROR/CRITICAL records make the step WARNINGS, or FAILURE with
   ``functional.fail-on-server-errors = true``.

The port is always reserved (``needs_http_port``, see
:mod:`~buildbot_odoo.master.subfactories.ports`), ``odoo.use-port`` or not:
a server on a fixed port is what makes builds of a shared worker collide.
The final clean-up ``stop-odoo-server-cleanup`` (``alwaysRun``) stops the
server of a build that stopped before step 4 -- halted, interrupted -- and
does nothing when no server is running.

The modules must be installed first: ``post-buildout-steps = install-modules
functional``.
"""

from __future__ import annotations

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process.results import SUCCESS, WARNINGS
from zope.interface import implementer

from ..steps.junit import JUnitStep
from ..steps.odoo_tests import OdooTestStep
from .base import BuildOptions
from .bootstrap import uses_postgresql
from .buildout_parts import install_parts_steps
from .database import testing_db
from .manifest_values import (
    accepts,
    arguments,
    boolean,
    config_error,
    integer,
    relative_path,
    seconds_option,
    text,
)
from .ports import HTTP_PORT_PROPERTY, http_port, http_port_argument
from .worker_side import (
    WORKER_SCRIPTS_DIR,
    extend_environ,
    in_build_dir,
    in_builder_dir,
    send_script,
    worker_python,
)

SCRIPT = "odoo_server.py"
SERVER_LOG = "odoo-server.log"
PID_FILE = "odoo-server.pid"
DEFAULT_WAIT = 60
#: the longest wait for the server to answer: a day
MAX_WAIT = 24 * 3600
DEFAULT_PATH = "/web/login"
PLACEHOLDERS = ("{url}", "{port}", "{db}")


@implementer(IRenderable)
class ServerUrl:
    """``http://127.0.0.1:<reserved port>``, rendered at build time."""

    def getRenderingFor(self, props):
        port = props.getProperty(HTTP_PORT_PROPERTY)
        if port is None:
            raise ValueError(f"the {HTTP_PORT_PROPERTY!r} property is not set: no port reserved")
        return f"http://127.0.0.1:{port}"


@implementer(IRenderable)
class WithPlaceholders:
    """A word of ``functional.command`` with ``{url}``, ``{port}``, ``{db}`` replaced."""

    def __init__(self, word: str):
        self.word = word

    def getRenderingFor(self, props):
        values = {"{url}": ServerUrl().getRenderingFor(props),
                  "{port}": str(props.getProperty(HTTP_PORT_PROPERTY)),
                  "{db}": str(props.getProperty("testing_db") or "")}
        word = self.word
        for placeholder, value in values.items():
            word = word.replace(placeholder, value)
        return word


def test_command(options: BuildOptions) -> list:
    words = arguments(options, "functional.command")
    if not words:
        config_error(options, "functional.command",
                     "the functional subfactory needs the command running the tests")
    return [WithPlaceholders(w) if any(p in w for p in PLACEHOLDERS) else w for w in words]


def server_command(options: BuildOptions) -> list:
    command: list = [options.build.start_command]
    if uses_postgresql(options):
        command += ["-d", testing_db()]
    return [*command, http_port_argument(), "--http-interface=127.0.0.1",
            *arguments(options, "functional.server-arguments")]


def _script(options: BuildOptions) -> list:
    """The script's command prefix, usable from any workdir (absolute path)."""
    return [worker_python(options), in_builder_dir(WORKER_SCRIPTS_DIR, SCRIPT)]


def _stop_command(options: BuildOptions) -> list:
    return [*_script(options), "stop", "--pidfile", in_builder_dir(PID_FILE)]


def _url_path(options: BuildOptions) -> str:
    path = text(options, "functional.path", DEFAULT_PATH)
    if not path.startswith("/") or any(c.isspace() for c in path):
        config_error(options, "functional.path", f"{path!r} is not a URL path (/...)")
    return path


@accepts("command", "wait", "path", "junit-xml", "server-arguments",
         "fail-on-server-errors", "timeout", "parts")
def functional(configurator, options: BuildOptions, buildout_path: str, environ) -> list:
    """Start the server, run the functional tests, stop the server."""
    command = test_command(options)
    wait = integer(options, "functional.wait", DEFAULT_WAIT, minimum=1,
                   maximum=MAX_WAIT)
    path = _url_path(options)
    url = util.Transform(lambda base: base + path, ServerUrl())
    send, _ = send_script(SCRIPT)
    start = steps.ShellCommand(
        command=[*_script(options), "start", "--pidfile", in_builder_dir(PID_FILE),
                 "--output", in_build_dir(SERVER_LOG), "--url", url, "--wait", str(wait),
                 "--", *server_command(options)],
        name="start-odoo-server", descriptionDone="Odoo server started", env=environ,
        haltOnFailure=True)
    env = extend_environ(environ, ODOO_URL=ServerUrl(),
                         ODOO_HTTP_PORT=http_port(),
                         ODOO_DB=util.Property("testing_db", default=""))
    stop = OdooTestStep(
        command=_stop_command(options), odoo_logfile=in_build_dir(SERVER_LOG),
        follow_logfile=False, store_test_results=False,
        fail_on_log_errors=boolean(options, "functional.fail-on-server-errors", False),
        empty_summary="no error in the server log", name="stop-odoo-server",
        description="stopping the server", descriptionDone="server stopped", env=environ)
    parts = install_parts_steps(options, buildout_path, "functional", environ)
    return [*parts, send, start, *_tests_steps(options, command, env), stop]


def _tests_steps(options: BuildOptions, command: list, env) -> list:
    """The tests, judged by their exit code or by their JUnit report (removed first)."""
    timeout = seconds_option(options, "functional.timeout", None)
    kwargs = {"name": "functional-tests", "description": "functional tests",
              "descriptionDone": "functional tests", "env": env,
              **({} if timeout is None else {"timeout": timeout})}
    report = relative_path(options, "functional.junit-xml")
    if not report:
        return [steps.ShellCommand(command=command, **kwargs)]
    return [steps.ShellCommand(command=["rm", "-f", report],
                               name="remove-old-functional-report", haltOnFailure=True),
            JUnitStep(command=command, junit_xml=report, results_set="functional tests",
                      **kwargs)]


def stop_server_cleanup(configurator, options: BuildOptions, environ) -> list:
    """Final clean-up: no server may survive its build (a no-op when none runs)."""
    return [steps.ShellCommand(
        command=_stop_command(options), name="stop-odoo-server-cleanup",
        descriptionDone="no Odoo server left", workdir=".", env=environ, alwaysRun=True,
        haltOnFailure=False, flunkOnFailure=False, warnOnFailure=True,
        decodeRC={0: SUCCESS, 1: WARNINGS},
        doStepIf=lambda step: step.getProperty(HTTP_PORT_PROPERTY) is not None)]


functional.final_cleanup_steps = stop_server_cleanup  # type: ignore[attr-defined]
functional.needs_http_port = True  # type: ignore[attr-defined]
