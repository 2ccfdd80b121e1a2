"""The Fleet page inside Buildbot's web UI, through the ``buildbot-wsgi-dashboards`` plugin.

``buildbot-wsgi-dashboards`` is Buildbot's supported way to add a page: a WSGI
application, given in ``c['www']['plugins']['wsgi_dashboards']``, served under
``/plugins/wsgi_dashboards/<name>/`` and shown by the UI's menu at ``#/<name>``
(the UI fetches ``index.html`` from the application and places the fragment
in its own page).  The plugin runs the application in the reactor's thread
pool and hands it ``buildbot_api``, whose ``master`` is the running master.

This module is the thin edge of :mod:`buildbot_odoo.fleetpage`:

* the application holds its :class:`~buildbot_odoo.master.configurator.BuildoutsConfigurator`,
  whose ``plan`` is the one the master was configured from; ``buildbot
  reconfig`` runs master.cfg again, making a new configurator and a new
  application, which the plugin mounts in place of the old one, so the page
  always shows the configuration the master runs;
* on each request, one call into the reactor (``blockingCallFromThread``)
  checks the user's rights and reads the live state from Buildbot's data API
  (workers, builders, last builds: no second database); the page model and its
  HTML are made in the WSGI thread, off the reactor;
* it follows the web UI's authorization: the user is read from Buildbot's own
  session cookie, exactly as the REST API does, and must be allowed to ``get``
  each data API collection the page shows (``workers``, ``builders``,
  ``builds``), by ``c['www']['authz']``; otherwise the page says which reads
  were refused (HTTP 403) and shows nothing else;
* it is read-only: GET and HEAD only.
"""

from __future__ import annotations

import http.cookies
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

from buildbot.interfaces import IConfigured
from zope.interface import implementer

from ..fleetpage.model import LastBuild, LiveState, WorkerState, build_page
from ..fleetpage.render import render_denied, render_page

if TYPE_CHECKING:
    from ..errors import Problems
    from .configurator import BuildoutsConfigurator

__all__ = ["PLUGIN", "READS", "FleetPageApp", "add_dashboard", "add_fleet_page",
           "check_fleet_page", "dashboard_entry", "existing_dashboards", "plugin_installed",
           "read_live_state", "refused_reads"]

#: the Buildbot www plugin (entry point of group ``buildbot.www``) that serves the page
PLUGIN = "wsgi_dashboards"
DEFAULT_NAME = "fleet"
#: the data API collections the page shows: a user must be allowed to read each one
READS = (("workers",), ("builders",), ("builds",))
#: builds read at once, newest first, before asking builders one by one for their last
RECENT_BUILDS_PER_BUILDER = 3
_BUILD_FIELDS = ["buildid", "builderid", "number", "results", "complete", "state_string"]

StartResponse = Callable[..., Any]


def plugin_installed() -> bool:
    """Whether Buildbot's www can load the plugin (``buildbot-odoo[www]`` installs it)."""
    return any(ep.name == PLUGIN for ep in metadata.entry_points(group="buildbot.www"))


@implementer(IConfigured)
class FleetPageApp:
    """The WSGI application of the page; one per configurator, replaced on reconfig."""

    def __init__(self, configurator: BuildoutsConfigurator, name: str = DEFAULT_NAME,
                 title: str = "Fleet"):
        self.configurator = configurator
        self.name = name
        self.title = title
        #: set by buildbot-wsgi-dashboards when it mounts the application
        self.buildbot_api: Any = None

    def getConfigDict(self) -> dict:
        """What the web UI's ``/config`` tells the browser about the app: its name only."""
        return {"name": self.name}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") not in ("", "/", "/index.html"):
            return _respond(environ, start_response, "404 Not Found", "<p>Not found.</p>")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _respond(environ, start_response, "405 Method Not Allowed",
                            "<p>The Fleet page is read-only.</p>", [("Allow", "GET, HEAD")])
        plan = self.configurator.plan
        if self.buildbot_api is None or plan is None:
            return _respond(environ, start_response, "503 Service Unavailable",
                            "<p>The master is not configured yet.</p>")
        from twisted.internet import defer, reactor
        from twisted.internet.threads import blockingCallFromThread

        master = self.buildbot_api.master
        names = [b.name for b in plan.dispatch.builders]
        refused, live = blockingCallFromThread(
            reactor, lambda: defer.ensureDeferred(_checked_read(master, environ, names)))
        if refused:
            return _respond(environ, start_response, "403 Forbidden",
                            render_denied(refused, self.title))
        return _respond(environ, start_response, "200 OK",
                        render_page(build_page(plan, live), self.title))


def _respond(environ: dict, start_response: StartResponse, status: str, body: str,
             headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store"),
                            ("X-Content-Type-Options", "nosniff"), *(headers or [])])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]


# --------------------------------------------------------------------------
# in the reactor


async def _checked_read(master: Any, environ: dict,
                        builder_names: Iterable[str]) -> tuple[list[tuple[str, str]], LiveState]:
    refused = await refused_reads(master, user_info(master, environ))
    if refused:
        return refused, LiveState()
    return [], await read_live_state(master, builder_names)


def user_info(master: Any, environ: dict) -> dict:
    """The web UI's user of this request, from Buildbot's session cookie (anonymous without).

    The REST API gets it from ``request.getSession()``: Twisted reads the
    cookie ``TWISTED_SESSION`` (``TWISTED_SECURE_SESSION`` over HTTPS) and
    Buildbot's site decodes its JWT with the session secret.  A WSGI
    application sees the headers only, so it does the same from them.
    """
    from buildbot.www import auth

    anonymous = auth.build_anonymous_user_info()
    site = getattr(getattr(master, "www", None), "site", None)
    secret = getattr(site, "session_secret", None)
    if not secret:
        return anonymous
    name = auth.build_cookie_name(environ.get("wsgi.url_scheme") == "https", []).decode()
    try:
        morsel = http.cookies.SimpleCookie(environ.get("HTTP_COOKIE", "")).get(name)
    except http.cookies.CookieError:
        return anonymous
    if morsel is None:
        return anonymous
    try:
        return auth.parse_user_info_from_token(morsel.value, secret)
    except KeyError:  # expired or forged: Buildbot makes such a request anonymous too
        return anonymous


async def refused_reads(master: Any, user: dict) -> list[tuple[str, str]]:
    """The collections of :data:`READS` the user may not ``get``, with Buildbot's reason."""
    from buildbot.util import bytes2unicode
    from buildbot.www.authz import Forbidden

    authz = getattr(master.www, "authz", None)
    if authz is None:
        return []
    refused = []
    for path in READS:
        try:
            await authz.assertUserAllowed(path, "get", {}, user)
        except Forbidden as exc:
            refused.append(("/".join(path), bytes2unicode(exc.message)))
    return refused


async def read_live_state(master: Any, builder_names: Iterable[str]) -> LiveState:
    """Workers, our builders' ids and each one's last build, from the data API.

    The newest builds come first in one read; a builder not among them is
    asked for its own last build (its own, indexed query).
    """
    from twisted.internet import defer

    live = LiveState()
    for worker in await master.data.get(("workers",)):
        live.workers[worker["name"]] = WorkerState(bool(worker.get("connected_to")),
                                                   bool(worker.get("paused")))
    wanted = set(builder_names)
    for builder in await master.data.get(("builders",)):
        if builder["name"] in wanted:
            live.builder_ids[builder["name"]] = builder["builderid"]
    if not live.builder_ids:
        return live
    names = {builderid: name for name, builderid in live.builder_ids.items()}
    recent = await master.data.get(("builds",), order=("-buildid",), fields=_BUILD_FIELDS,
                                   limit=RECENT_BUILDS_PER_BUILDER * len(names))
    for build in recent:
        name = names.get(build["builderid"])
        if name is not None and name not in live.last_builds:
            live.last_builds[name] = _last_build(build)
    missing = [(name, builderid) for name, builderid in live.builder_ids.items()
               if name not in live.last_builds]
    found = await defer.gatherResults(
        [master.data.get(("builders", builderid, "builds"), order=("-number",), limit=1,
                         fields=_BUILD_FIELDS) for _, builderid in missing], consumeErrors=True)
    for (name, _), builds in zip(missing, found, strict=True):
        if builds:
            live.last_builds[name] = _last_build(builds[0])
    return live


def _last_build(build: dict) -> LastBuild:
    return LastBuild(build["number"], build.get("results"), bool(build.get("complete")),
                     build.get("state_string") or "")


# --------------------------------------------------------------------------
# configuration


def dashboard_entry(app: FleetPageApp) -> dict:
    """The ``wsgi_dashboards`` entry of the page (name, menu caption, icon, order)."""
    return {"name": app.name, "caption": app.title, "app": app, "order": 5,
            "icon": "FaServer"}


def existing_dashboards(config: MutableMapping) -> list:
    """The dashboards master.cfg already has in ``c['www']``, without changing anything.

    Raises ValueError when ``c['www']`` holds what Buildbot would not accept.
    """
    www = config.get("www")
    if www is None:
        return []
    if not isinstance(www, MutableMapping):
        raise ValueError(f"c['www'] is a {type(www).__name__}, not a dict")
    plugins = www.get("plugins", {})
    if not isinstance(plugins, MutableMapping):
        raise ValueError(f"c['www']['plugins'] is a {type(plugins).__name__}, not a dict")
    dashboards = plugins.get(PLUGIN, [])
    if not isinstance(dashboards, (list, tuple)):
        raise ValueError(f"c['www']['plugins']['{PLUGIN}'] is a {type(dashboards).__name__}, "
                         "not a list of dashboards")
    return list(dashboards)


def add_dashboard(config: MutableMapping, entry: dict) -> None:
    """Append ``entry`` to ``c['www']['plugins']['wsgi_dashboards']``, keeping the rest.

    Checked first with :func:`existing_dashboards`; ``c['www']`` must exist.
    """
    plugins = config["www"].setdefault("plugins", {})
    dashboards = plugins.get(PLUGIN)
    if dashboards is None:
        plugins[PLUGIN] = [entry]
    elif isinstance(dashboards, tuple):
        plugins[PLUGIN] = [*dashboards, entry]
    else:
        dashboards.append(entry)


def check_fleet_page(configurator: BuildoutsConfigurator, config: Mapping,
                     problems: Problems) -> bool:
    """Whether ``populate`` adds the page; what stops it goes to ``problems`` first.

    Called before the config is touched: an error (a dashboard of the same
    name, a ``c['www']`` Buildbot would refuse) leaves it untouched.  A master
    without ``c['www']`` has no web UI to add a page to; one without the plugin
    installed gets a warning.
    """
    if not configurator.fleet_page:
        return False
    name = configurator.fleet_page_name
    how_off = "set conf.fleet_page = False to go without it"
    if not isinstance(name, str) or not name or not name.replace("-", "").replace(
            "_", "").isalnum():
        problems.error(f"conf.fleet_page_name {name!r} is not a name for a URL (letters, "
                       "digits, '-', '_')", file="master.cfg")
        return False
    if config.get("www") is None:  # no web UI (or set after populate(): docs/fleet-page.md)
        return False
    if not plugin_installed():
        problems.warning("the Fleet page needs buildbot-wsgi-dashboards (pip install "
                         f"'buildbot-odoo[www]'); {how_off}", file="master.cfg")
        return False
    try:
        dashboards = existing_dashboards(config)
    except ValueError as exc:
        problems.error(str(exc), file="master.cfg")
        return False
    if any(isinstance(d, Mapping) and d.get("name") == name for d in dashboards):
        problems.error(f"c['www'] already has a dashboard named {name!r}: set "
                       "conf.fleet_page_name to another name, or conf.fleet_page = False",
                       file="master.cfg")
        return False
    return True


def add_fleet_page(configurator: BuildoutsConfigurator, config: MutableMapping) -> None:
    """Append the page's dashboard to the config (after :func:`check_fleet_page`)."""
    name = configurator.fleet_page_name
    title = "Fleet" if name == DEFAULT_NAME else f"Fleet ({name})"
    add_dashboard(config, dashboard_entry(FleetPageApp(configurator, name, title)))
