"""TEST FIXTURES, not product code: pytest fixtures for the stand-in Odoo buildout.

Load them with ``pytest_plugins = ["tests.support.standin_fixtures"]``.  Both are
session-scoped: making a virtualenv with zc.buildout takes a few seconds, and
every test builds its own buildout directory from them anyway.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .standin import copy_standin_source, make_buildout_venv


@pytest.fixture(scope="session")
def buildout_executable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bin/buildout`` of a virtualenv made for this test session."""
    return make_buildout_venv(tmp_path_factory.mktemp("buildout-venv") / "venv")


@pytest.fixture(scope="session")
def standin_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session copies of the stand-in Odoo tree and recipe (:func:`copy_standin_source`)."""
    return copy_standin_source(tmp_path_factory.mktemp("standin"))
