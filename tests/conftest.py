"""Shared pytest helpers: small writers for configuration files, Odoo's data directory."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest

# Importing ``buildbot.test`` (TestBuildStepMixin...) turns every later warning into
# an error, expecting modules with deprecation warnings to be loaded first.  Buildbot
# 4.3's ``buildbot.util.ssl`` (imported by its Git poller) touches an attribute that
# Twisted 26 deprecates: load it now, so that whichever test imports a poller first,
# the run does not depend on test order.  Likewise autobahn's WAMP authentication,
# which imports passlib, which imports the deprecated ``crypt`` module when passlib is
# installed (the cluster extra's crossbar brings it).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import autobahn.wamp.auth  # noqa: F401
    import buildbot.util.ssl  # noqa: F401

DATA = Path(__file__).parent / "data"


@pytest.fixture
def write(tmp_path: Path):
    """Write dedented text to a file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return _write


@pytest.fixture(scope="session", autouse=True)
def odoo_data_home(tmp_path_factory: pytest.TempPathFactory):
    """``XDG_DATA_HOME`` for the whole session, inherited by every process a test starts.

    Odoo (and the stand-in, tests/fixtures/README.md) keeps each database's
    filestore in ``data_dir``, by default ``$XDG_DATA_HOME/Odoo`` or
    ``~/.local/share/Odoo``: the tests' Odoo runs, through buildouts and
    Buildbot workers alike, write there, never into the home directory.
    """
    home = tmp_path_factory.mktemp("xdg-data-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home))
        yield home
