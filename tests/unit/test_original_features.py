"""Features of anybox.buildbot.odoo that had no equivalent yet: gittag release builds,
buildout parts installed for the test tools, the package's link on the build page."""

from __future__ import annotations

import textwrap

import pytest
from buildbot.process.properties import Properties

from buildbot_odoo import BuildoutsConfigurator, ConfigError
from buildbot_odoo.config.manifest import BuildoutSource
from buildbot_odoo.master.scheduling import FORCE_SCHEDULER
from buildbot_odoo.master.steps.buildout import BuildoutStep
from buildbot_odoo.master.subfactories.functional import functional
from buildbot_odoo.master.subfactories.packaging import packaging
from buildbot_odoo.master.subfactories.static_analysis import static_analysis

from .subfactory_support import ENV, by_name, configurator, render
from .test_retrieval import options_for

GITTAG = BuildoutSource("gittag", "release.cfg", url="https://git.example.org/acme/deploy.git")
PACKAGING = {"packaging.root-dir": "packages", "packaging.upload-dir": "acme"}


def made(subfactory, raw: dict[str, str], buildout: BuildoutSource | None = None,
         steps: tuple[str, ...] = ()) -> dict:
    options = options_for(buildout, raw=raw, post_buildout_steps=list(steps))
    return by_name(subfactory(configurator(), options, "odoo.cfg", ENV))


def test_a_gittag_release_is_named_after_its_tag_and_can_be_forced(tmp_path):
    steps = made(packaging, PACKAGING, buildout=GITTAG, steps=("packaging",))
    assert steps["package-name"].version_property == "buildout-tag"
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent("""
        [release]
        buildout = gittag https://git.example.org/acme/deploy.git release.cfg
        """))
    (tmp_path / "workers.cfg").write_text("[w]\npassword = x\n")
    config: dict = {}
    BuildoutsConfigurator(tmp_path).populate(config)
    (force,) = [s for s in config["schedulers"] if s.name == FORCE_SCHEDULER]
    assert [p.name for p in force._config_kwargs["properties"]] == ["buildout-tag"]
    assert config["change_source"] == []  # a tag is not watched


def test_packaging_base_url_links_the_uploaded_files():
    steps = made(packaging, {**PACKAGING, "packaging.base-url": "https://pkg.example.org/"},
                 steps=("packaging",))
    props = {"packaging_name": "acme-1.2"}
    assert render(steps["upload-package"].url, **props) == \
        "https://pkg.example.org/acme/acme-1.2.tar.bz2"
    assert render(steps["upload-package-checksum"].url, **props) == \
        "https://pkg.example.org/acme/acme-1.2.tar.bz2.md5"
    assert made(packaging, PACKAGING, steps=("packaging",))["upload-package"].url is None


@pytest.mark.parametrize(("subfactory", "prefix", "raw"), [
    (functional, "functional", {"functional.command": "tests/run.sh {port} {db}"}),
    (static_analysis, "static-analysis", {"static-analysis.paths": "src"}),
])
def test_buildout_parts_for_the_tools_are_installed_first(subfactory, prefix, raw):
    steps = list(made(subfactory, {**raw, f"{prefix}.parts": "selenium robot"}).values())
    install = steps[0]
    assert isinstance(install, BuildoutStep) and install.name == f"{prefix}-parts"
    command = Properties(builddir="/w/b", testing_db="db").render(install.command).result
    assert command[:3] == ["/w/b/venv/bin/buildout", "-c", "odoo.cfg"]
    assert command[-3:] == ["install", "selenium", "robot"]
    assert "buildout:eggs-directory=/w/buildout-caches/eggs" in command
    assert install.haltOnFailure and install.locks
    assert not any(s.name == f"{prefix}-parts" for s in made(subfactory, raw).values())


def test_a_bad_part_name_is_a_located_error():
    with pytest.raises(ConfigError) as raised:
        made(functional, {"functional.command": "x", "functional.parts": "ok ../escape"})
    assert "functional.parts: '../escape' is not a buildout part name" in str(raised.value)
