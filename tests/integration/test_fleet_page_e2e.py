"""The Fleet page in a real browser, inside Buildbot's own web UI, on a real fleet.

A master made like a user's (``populate`` turns the page on), two
``buildbot-worker`` processes and two PostgreSQL majors:

* ``w1`` has both majors; OLD asks for a password over TCP, given by a
  Buildbot secret (``password-secret``, ``SecretInAFile``), and w1's own
  password is a secret too (``secret:NAME``);
* ``spare`` is reserved for selenium builds (there are none): it connects
  once, then stops, so the page must show it disconnected and idle.

The build ``standin`` runs an addon whose test checks the server it runs on
and fails on the NEW major (a module not ported yet): one builder green, the
other red.  Debian's ``chromium`` (``scripts/bootstrap.sh`` installs it),
driven by Playwright, opens ``#/fleet`` in the UI; the test reads the cells,
their colours and links, follows a link, and searches the page's HTML and
every request, response and WebSocket frame the page made for the secrets.
The screenshot of the page goes to the module's temporary directory
(``scripts/fleet_page_screenshot.sh`` copies it to docs/fleet-page.png).

Then ``buildbot reconfig`` with a new build: the page shows the new plan.  A
second master with authentication checks that the page follows the UI's
authorization (anonymous users get what Buildbot's authz lets them read).
"""

from __future__ import annotations

import base64
import getpass
import http.cookiejar
import re
import secrets
import shutil
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.buildbot_processes import STANDIN_SOURCES_DIR, MasterProcess, Site, wait_for
from tests.support.postgres import PgInstall, PgServer, one_install_per_major
from tests.support.standin import build_buildout, copy_standin_source

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
#: headless Chromium as root, without the background services that try the network
#: (Playwright's launch() gives each browser a fresh temporary --user-data-dir itself)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOT = "fleet-page.png"
PG_SECRET = "pg-old-ci"
WORKER_SECRET = "worker-w1"
ROLE = "ci"
SUCCESS_RGB, FAILURE_RGB = "rgb(136, 221, 68)", "rgb(238, 136, 136)"  # the UI's #8d4, #e88

MASTER_CFG = """\
import os

from buildbot.plugins import secrets

from buildbot_odoo import BuildoutsConfigurator

c["title"] = "Odoo CI"
c["secretsProviders"] = [secrets.SecretInAFile(dirname=os.path.join(basedir, "secrets"))]
BuildoutsConfigurator(basedir).populate(c)
"""

MANIFEST = """\
[standin]
buildout = standalone standin.cfg
build-for = postgresql >= {old}
odoo-addons = server_check

[partial]
buildout = standalone standin.cfg
build-for = postgresql >= {old}
build-exclude = postgresql == {new}
odoo-addons = server_check

[queue]
buildout = standalone standin.cfg
build-for = postgresql
build-requires = rabbitmq
"""

#: an Odoo-style addon whose test fails on a PostgreSQL newer than the one it was written for
ADDON_TEST = '''\
"""Fails on PostgreSQL > {old}: the module is not ported to newer servers yet."""

import subprocess
import unittest


class TestServer(unittest.TestCase):
    def test_server_is_supported(self):
        shown = subprocess.run(["psql", "-X", "-A", "-t", "-d", "template1", "-c",
                                "SHOW server_version_num"], capture_output=True, text=True,
                               check=True).stdout
        self.assertLessEqual(int(shown) // 10000, {old}, "not ported to this PostgreSQL yet")
'''


def write_secret(directory: Path, name: str, value: str) -> Path:
    """A secret file as SecretInAFile wants it: not readable by others."""
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / name
    path.write_text(value)
    path.chmod(0o600)
    return path


def write_addon(addons: Path, old: str) -> None:
    addon = addons / "server_check"
    (addon / "tests").mkdir(parents=True)
    (addon / "__manifest__.py").write_text(
        '{"name": "Server check", "version": "17.0.1.0.0", "depends": ["base"], '
        '"installable": True}\n')
    (addon / "__init__.py").write_text("")
    (addon / "tests" / "__init__.py").write_text("from . import test_server  # noqa: F401\n")
    (addon / "tests" / "test_server.py").write_text(ADDON_TEST.format(old=old))


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    """Random values: any occurrence of one anywhere is a leak, never a coincidence."""
    return {PG_SECRET: secrets.token_urlsafe(24), WORKER_SECRET: secrets.token_urlsafe(24),
            "spare": secrets.token_urlsafe(24)}


@pytest.fixture(scope="module")
def servers(pg_installations: list[PgInstall], pg_servers: dict[int, PgServer],
            tmp_path_factory, passwords):
    """OLD (passwords over TCP, role ``ci``) and NEW (the session's server, trust)."""
    majors = one_install_per_major(pg_installations)
    assert len(majors) >= 2, f"two PostgreSQL majors are needed, found {sorted(majors)}"
    new = pg_servers[max(majors)]
    new.create_role(getpass.getuser(), createdb=True)
    with PgServer(majors[min(majors)], tmp_path_factory.mktemp("pg-old"),
                  auth_host="scram-sha-256") as old:
        old.create_role(ROLE, createdb=True, password=passwords[PG_SECRET])
        yield old, new


@pytest.fixture(scope="module")
def site(tmp_path_factory, servers, passwords):
    old, new = servers
    root = tmp_path_factory.mktemp("fleet-page")
    write_addon(root / "addons", old.install.major_version)
    standin = copy_standin_source(root / STANDIN_SOURCES_DIR)
    old_line = (f"postgresql {old.install.major_version} port={old.port} host=127.0.0.1 "
                f"bin={old.bin_dir} lib={old.lib_dir} user={ROLE} password-secret={PG_SECRET}")
    new_line = (f"postgresql {new.install.major_version} "
                + " ".join(f"{k}={v}" for k, v in new.capability_options().items()))
    made = Site(root)
    made.master.create(MASTER_CFG, {
        "workers.cfg": textwrap.dedent(f"""\
            [w1]
            password = secret:{WORKER_SECRET}
            capability = {old_line}
                         {new_line}

            [spare]
            password = {passwords["spare"]}
            capability = postgresql {old.install.major_version}
                         selenium-server 4
            build-only-if-requires = selenium-server
            """),
        "buildouts/MANIFEST.cfg": MANIFEST.format(old=old.install.major_version,
                                                  new=new.install.major_version),
        "buildouts/standin.cfg": build_buildout(standin, addons_dir=root / "addons"),
    })
    for name in (PG_SECRET, WORKER_SECRET):
        write_secret(made.master.directory / "secrets", name, passwords[name])
    made.add_worker("w1", passwords[WORKER_SECRET], root / "w1")
    spare = made.add_worker("spare", passwords["spare"], root / "spare")
    with made:
        spare.stop()
        wait_for(lambda: not spare.connected(made.api), "spare to disconnect", 60)
        yield made


@pytest.fixture(scope="module")
def builds(site: Site, servers) -> dict[str, dict]:
    """``standin`` on both majors, built at once: OLD passes, NEW fails."""
    old, new = (s.install.major_version for s in servers)
    names = [f"standin-pg{old}", f"standin-pg{new}"]
    requests = {name: site.api.force(name, "fleet page e2e") for name in names}
    done = {name: site.api.finished_build(brid) for name, brid in requests.items()}
    assert done[names[0]].result == 0, done[names[0]].explain()
    assert done[names[1]].result == 2, done[names[1]].explain()
    return {name: build.data for name, build in done.items()}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is needed: ./scripts/bootstrap.sh installs it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Recorder:
    """Everything a page sends and receives: requests, responses, WebSocket frames."""

    def __init__(self, page):
        self.requests: list = []
        self.responses: list = []
        self.frames: list[str] = []
        # Playwright wants Python functions as handlers, not a list's builtin append
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", lambda response: self.responses.append(response))
        page.on("websocket", self._websocket)

    def _websocket(self, ws) -> None:
        self.frames.append(ws.url)
        ws.on("framesent", lambda payload: self.frames.append(str(payload)))
        ws.on("framereceived", lambda payload: self.frames.append(str(payload)))

    def texts(self) -> list[tuple[str, str]]:
        """(what, text) of every request and response the page made so far."""
        found = []
        for request in self.requests:
            found.append((f"request {request.url}",
                          f"{request.url}\n{request.headers}\n{request.post_data or ''}"))
        for response in self.responses:
            try:
                body = response.body().decode("utf-8", "replace")
            except Exception:  # a redirect or an aborted request has no body
                body = ""
            found.append((f"response {response.url}", f"{response.headers}\n{body}"))
        found.extend(("websocket frame", frame) for frame in self.frames)
        return found


@pytest.fixture(scope="module")
def fleet_page(site: Site, builds, browser):
    """The page as the UI shows it at ``#/fleet``, its recorder, and the screenshot's path."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    recorder = Recorder(page)
    page.goto(site.master.url + "#/fleet")
    page.wait_for_selector('.bb-wsgi-dashboard-view .bbo-fleet td[data-build="standin"]')
    page.wait_for_load_state("networkidle")
    screenshot = site.root / SCREENSHOT
    page.screenshot(path=str(screenshot), full_page=True)
    yield page, recorder, screenshot
    page.close()


def test_the_page_is_in_the_uis_menu_and_view(fleet_page, site: Site):
    page, _, screenshot = fleet_page
    # the UI's own frame around it: its menu has the page (the current item), its
    # dashboard view holds the fragment
    item = page.locator('li.sidebar-list.current a.bb-sidebar-item[href="#/fleet"]')
    assert item.inner_text().strip() == "Fleet"
    assert page.locator(".bb-wsgi-dashboard-view .bbo-fleet h2").inner_text() == "Fleet"
    assert screenshot.stat().st_size > 10_000


def test_the_matrix_shows_each_versions_last_result(fleet_page, site: Site, builds, servers):
    page, _, _ = fleet_page
    old, new = (s.install.major_version for s in servers)
    ids = {b["name"]: b["builderid"] for b in site.api.builders()}
    for version, result, colour in ((old, "SUCCESS", SUCCESS_RGB),
                                    (new, "FAILURE", FAILURE_RGB)):
        name = f"standin-pg{version}"
        cell = page.locator(f'td[data-build="standin"][data-combo="postgresql {version}"]')
        assert cell.get_attribute("data-result") == result
        assert cell.get_attribute("data-builder") == name
        assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == colour
        assert cell.locator("a").get_attribute("href") == \
            f"#/builders/{ids[name]}/builds/{builds[name]['number']}"
    # a builder never built, a combination build-exclude removed, one no worker may take
    partial = page.locator(f'td[data-build="partial"][data-combo="postgresql {old}"]')
    assert partial.get_attribute("data-result") == "NONE"
    excluded = page.locator(f'td[data-build="partial"][data-combo="postgresql {new}"]')
    assert excluded.get_attribute("data-kind") == "excluded"
    assert excluded.get_attribute("title") == \
        f"excluded by build-exclude: postgresql == {new}"
    queue = page.locator(f'td[data-build="queue"][data-combo="postgresql {old}"]')
    assert queue.get_attribute("data-kind") == "no-worker"
    assert "w1 has no rabbitmq" in queue.inner_text()
    assert "no worker has rabbitmq" in page.locator('#bbo-unassigned li[data-build="queue"]') \
        .inner_text()


def test_a_cell_links_to_its_build_in_the_ui(fleet_page, builds, servers):
    page, _, _ = fleet_page
    old = servers[0].install.major_version
    page.locator(f'td[data-build="standin"][data-combo="postgresql {old}"] a').click()
    page.wait_for_url(re.compile(r"#/builders/\d+/builds/\d+$"))
    page.get_by_text(f"standin-pg{old}").first.wait_for()
    page.go_back()
    page.wait_for_selector('.bbo-fleet td[data-build="standin"]')


def test_workers_show_their_state_capabilities_and_reservation(fleet_page, servers):
    page, _, _ = fleet_page
    old, new = (s.install.major_version for s in servers)
    assert page.locator('tr[data-worker="w1"] td[data-state]').inner_text() == "connected"
    spare = page.locator('tr[data-worker="spare"]')
    assert spare.locator("td[data-state]").inner_text() == "disconnected"
    assert spare.locator("td[data-state]").evaluate(
        "e => getComputedStyle(e).backgroundColor") == FAILURE_RGB
    assert "selenium-server" in spare.inner_text()
    w1 = page.locator('tr[data-worker="w1"]').inner_text()
    assert f"postgresql {old}" in w1 and f"postgresql {new}" in w1
    assert "password-secret=(hidden)" in w1 and f"user={ROLE}" in w1
    idle = page.locator('#bbo-idle li[data-worker="spare"]').inner_text()
    assert "reserved (build-only-if-requires selenium-server)" in idle


def test_no_secret_in_the_page_nor_in_anything_it_exchanged(fleet_page, site: Site,
                                                             passwords):
    page, recorder, _ = fleet_page
    secret_dir = site.master.directory / "secrets"
    forbidden = [*passwords.values(), str(secret_dir / PG_SECRET),
                 str(secret_dir / WORKER_SECRET)]
    exchanged = recorder.texts()
    assert any("plugins/wsgi_dashboards/fleet/index.html" in what for what, _ in exchanged)
    assert len(exchanged) > 10  # the UI's scripts, its config, its API calls, the fragment
    leaks = [(what, secret) for what, text in [("page HTML", page.content()), *exchanged]
             for secret in forbidden if secret in text]
    assert leaks == []


def test_the_page_shows_the_new_plan_after_a_reconfig(fleet_page, site: Site, servers):
    old = servers[0].install.major_version
    manifest = site.master.directory / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + textwrap.dedent(f"""
        [late]
        buildout = standalone standin.cfg
        build-for = postgresql == {old}
        """))
    site.master.reconfig()
    page = wait_for(lambda: (text := fetch(site.master.url)) and 'data-build="late"' in text
                    and text, "the page to show the reconfigured plan", 60)
    assert re.search(rf'data-build="late" data-combo="postgresql {old}" data-kind="builder" '
                     rf'data-result="NONE" data-builder="late-pg{old}"', page)
    # and the results of the builds before the reconfig are still there
    assert f'data-result="SUCCESS" data-builder="standin-pg{old}"' in page


def fetch(base: str, path: str = "plugins/wsgi_dashboards/fleet/index.html",
          opener: urllib.request.OpenerDirector | None = None,
          headers: dict | None = None) -> str:
    request = urllib.request.Request(base + path, headers=headers or {})
    with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
        return response.read().decode()


# --------------------------------------------------------------------------
# authorization


AUTH_MASTER_CFG = """\
from buildbot.plugins import util

from buildbot_odoo import BuildoutsConfigurator

c["www"]["auth"] = util.UserPasswordAuth({"alice": "alice-password"})
c["www"]["authz"] = util.Authz(
    allowRules=[util.AnyEndpointMatcher(role="admins")],
    roleMatchers=[util.RolesFromUsername(roles=["admins"], usernames=["alice"])])
BuildoutsConfigurator(basedir).populate(c)
"""


@pytest.fixture(scope="module")
def auth_master(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet-page-auth")
    (root / "buildouts").mkdir()
    master = MasterProcess(root / "master")
    master.create(AUTH_MASTER_CFG, {
        "workers.cfg": "[hidden-worker]\npassword = x\ncapability = postgresql 15\n",
        "buildouts/MANIFEST.cfg": "[hidden-build]\nbuildout = standalone b.cfg\n"
                                  "build-for = postgresql\n",
        "buildouts/b.cfg": "[buildout]\n",
    })
    master.start()
    try:
        yield master
    finally:
        master.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_anonymous_users_see_what_buildbots_authz_lets_them(auth_master: MasterProcess):
    for path in ("api/v2/workers", "plugins/wsgi_dashboards/fleet/index.html"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(auth_master.url, path)
        assert refused.value.code == 403, path
    body = refused.value.read().decode()
    assert "<code>workers</code>: you need to have role &#x27;admins&#x27;" in body
    assert "hidden-worker" not in body and "hidden-build" not in body
    # a forged session is no session: anonymous again
    with pytest.raises(urllib.error.HTTPError) as forged:
        fetch(auth_master.url, headers={"Cookie": "TWISTED_SESSION=eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert forged.value.code == 403


def test_a_logged_in_user_with_the_role_sees_the_page(auth_master: MasterProcess):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = base64.b64encode(b"alice:alice-password").decode()
    fetch(auth_master.url, "auth/login", opener, {"Authorization": f"Basic {login}"})
    assert any(cookie.name == "TWISTED_SESSION" for cookie in jar)
    page = fetch(auth_master.url, opener=opener)
    assert '<tr data-worker="hidden-worker">' in page
    assert 'data-builder="hidden-build-pg15"' in page
    # read-only: the page accepts no other method
    request = urllib.request.Request(
        auth_master.url + "plugins/wsgi_dashboards/fleet/index.html", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as posted:
        opener.open(request, timeout=30)
    assert posted.value.code == 405
