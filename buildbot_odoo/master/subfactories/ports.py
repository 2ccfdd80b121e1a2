"""``odoo.use-port``: a free HTTP port reserved for the build on its worker.

Several builds run at once on a worker (``max_builds``), and every Odoo that
serves HTTP must have a port of its own.  When the build says ``odoo.use-port
= true`` -- or uses a subfactory that needs a server port (``functional``) --
the assembly adds, before the post-buildout subfactories:

* ``download-reserve-port``: the worker script ``reserve_port.py``;
* ``reserve-http-port``: the script claims the first free port of
  ``range(odoo.http-port-min, odoo.http-port-max + 1, odoo.http-port-step)``
  (an ``O_EXCL`` claim file, then a bind check; stale claims reclaimed, see
  the script) under the per-worker exclusive lock ``odoo http ports``, and
  the port becomes the build property ``odoo_http_port``;

and, among the final clean-ups, ``release-http-port`` (``alwaysRun``).  Odoo
commands get ``--http-port=<port>``.  Claims live in ``port-claims/`` of the
worker's base directory, or in the directory named by the worker property
``port_claims_dir`` (workers.cfg): give several workers of one host the same
one so that they share the claims.
"""

from __future__ import annotations

import posixpath

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from twisted.internet import defer
from zope.interface import implementer

from .base import BuildOptions
from .worker_side import WORKER_SCRIPTS_DIR, send_script, worker_python

HTTP_PORT_PROPERTY = "odoo_http_port"
CLAIMS_DIR = "port-claims"
#: worker property (workers.cfg) naming a claims directory shared by a host's workers
CLAIMS_DIR_PROPERTY = "port_claims_dir"
PORTS_LOCK = util.WorkerLock("odoo http ports", maxCount=1)
SCRIPT = "reserve_port.py"
#: who holds a claim: the builder's directory (one build at a time per builder and worker)
OWNER = util.Interpolate("%(prop:builddir)s")


@implementer(IRenderable)
class ClaimsDir:
    """``port_claims_dir`` of the worker, or ``<worker basedir>/port-claims``."""

    def getRenderingFor(self, props):
        shared = props.getProperty(CLAIMS_DIR_PROPERTY)
        if shared:
            return str(shared)
        builddir = props.getProperty("builddir")
        if not builddir:
            raise ValueError("the 'builddir' property is not set: is the build on a worker?")
        return posixpath.join(posixpath.dirname(str(builddir).rstrip("/")), CLAIMS_DIR)


def needs_http_port(subfactory) -> bool:
    """A subfactory declares ``needs_http_port = True`` when it serves HTTP itself."""
    return bool(getattr(subfactory, "needs_http_port", False))


def reserves_port(configurator, options: BuildOptions) -> bool:
    """Whether the build reserves a port: ``odoo.use-port``, or a subfactory needs one."""
    if options.build.use_port:
        return True
    registry = configurator.post_buildout_steps
    return any(needs_http_port(registry.get(name)) for name in options.build.post_buildout_steps)


def http_port() -> util.Interpolate:
    """The reserved port as text (command words and environment values must be text)."""
    return util.Interpolate(f"%(prop:{HTTP_PORT_PROPERTY})s")


def http_port_argument() -> util.Interpolate:
    """Odoo's ``--http-port`` for the reserved port."""
    return util.Interpolate(f"--http-port=%(prop:{HTTP_PORT_PROPERTY})s")


def _port_from_output(rc: int, stdout: str, stderr: str) -> dict:
    text = stdout.strip()
    return {HTTP_PORT_PROPERTY: int(text)} if rc == 0 and text.isdigit() else {}


class ReserveHttpPort(steps.SetPropertyFromCommand):
    """Run the claim; the port it prints becomes the ``odoo_http_port`` property."""

    name = "reserve-http-port"

    def __init__(self, **kwargs):
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(extract_fn=_port_from_output, **kwargs)

    @defer.inlineCallbacks
    def run(self):
        result = yield super().run()
        if result == SUCCESS and self.getProperty(HTTP_PORT_PROPERTY) is None:
            return FAILURE  # the script said nothing usable
        return result

    def getResultSummary(self):
        port = self.getProperty(HTTP_PORT_PROPERTY)
        if self.results == SUCCESS and port is not None:
            return {"step": f"HTTP port {port}"}
        return {"step": "no free HTTP port"}


def port_range(options: BuildOptions) -> list[str]:
    build = options.build
    return ["--min", str(build.http_port_min), "--max", str(build.http_port_max),
            "--step", str(build.http_port_step)]


def reserve_http_port(configurator, options: BuildOptions, buildout_path: str,
                      environ) -> list:
    """The claim, under the worker's ``odoo http ports`` lock."""
    send, script = send_script(SCRIPT)
    claim = ReserveHttpPort(
        command=[worker_python(options), script, "claim", "--dir", ClaimsDir(),
                 "--owner", OWNER, *port_range(options), "--note",
                 util.Interpolate("%(prop:buildername)s #%(prop:buildnumber)s")],
        workdir=".", env=environ, locks=[PORTS_LOCK.access("exclusive")])
    return [send, claim]


def release_http_port(configurator, options: BuildOptions, environ) -> list:
    """Final clean-up: give the port back, whatever happened (a failure only warns)."""
    return [steps.ShellCommand(
        command=[worker_python(options), posixpath.join(WORKER_SCRIPTS_DIR, SCRIPT), "release",
                 "--dir", ClaimsDir(), "--owner", OWNER,
                 "--port", http_port()],
        name="release-http-port", descriptionDone="HTTP port released", workdir=".",
        env=environ, locks=[PORTS_LOCK.access("exclusive")], alwaysRun=True,
        haltOnFailure=False, flunkOnFailure=False, warnOnFailure=True,
        decodeRC={0: SUCCESS, 1: WARNINGS},
        doStepIf=lambda step: step.getProperty(HTTP_PORT_PROPERTY) is not None)]


reserve_http_port.final_cleanup_steps = release_http_port  # type: ignore[attr-defined]
