"""The subfactory registries of the configurator, and what the manifest makes of them."""

from __future__ import annotations

import textwrap

import pytest
from buildbot.steps.shell import ShellCommand

from buildbot_odoo import BuildoutsConfigurator, ConfigError
from buildbot_odoo.config.manifest import BUILTIN_POST_BUILDOUT_STEPS, POST_DL_STEPS
from buildbot_odoo.master.subfactories.registry import (
    POST_BUILDOUT_SUBFACTORIES,
    POST_DL_SUBFACTORIES,
)


@pytest.fixture
def master(tmp_path):
    def write(manifest: str):
        (tmp_path / "buildouts").mkdir(exist_ok=True)
        (tmp_path / "buildouts" / "odoo.cfg").write_text("[buildout]\nparts =\n")
        (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest))
        (tmp_path / "workers.cfg").write_text(
            "[w1]\npassword = x\ncapability = postgresql 16 port=5433\n")
        return BuildoutsConfigurator(tmp_path)
    return write


def step_names(config: dict) -> list[str]:
    return [f.kwargs.get("name") or f.step_class.name
            for f in config["builders"][0].factory.steps]


def test_every_builtin_is_registered_and_declares_its_options():
    conf = BuildoutsConfigurator("/srv/master")
    assert set(conf.post_buildout_steps) == set(BUILTIN_POST_BUILDOUT_STEPS)
    assert set(conf.post_dl_steps) == set(POST_DL_STEPS)
    for name, subfactory in {**POST_BUILDOUT_SUBFACTORIES, **POST_DL_SUBFACTORIES}.items():
        assert isinstance(subfactory.options, tuple) and subfactory.options, name
        assert all(isinstance(o, str) and "." not in o for o in subfactory.options), name
    assert conf.post_dl_steps["packaging"].options == conf.post_buildout_steps["packaging"].options


def test_unknown_subfactory_options_are_warned_about_with_the_closest_name(master):
    conf = master("""\
        [sale]
        buildout = standalone odoo.cfg
        post-buildout-steps = install-modules pytest doc
        pytest.argumentz = -x
        doc.upload-dir = public
        install-modules.timeout = 7200
        """)
    warnings = [str(p) for p in conf.load().problems]
    assert warnings == ["buildouts/MANIFEST.cfg:4: sale: pytest.argumentz: warning: unknown "
                        "option 'pytest.argumentz' is ignored (did you mean 'pytest.arguments'?)"]


def test_a_user_subfactory_is_used_by_name_with_its_own_options(master):
    conf = master("""\
        [sale]
        buildout = standalone odoo.cfg
        post-buildout-steps = install-modules smoke
        smoke.url = /web/health
        smoke.retries = 3
        """)

    def smoke(configurator, options, buildout_path, environ):
        return [ShellCommand(command=["bin/smoke", options["smoke.url"]], name="smoke")]

    smoke.options = ("url",)
    conf.post_buildout_steps["smoke"] = smoke
    problems = [str(p) for p in conf.load().problems]
    assert problems == ["buildouts/MANIFEST.cfg:5: sale: smoke.retries: warning: unknown option "
                        "'smoke.retries' is ignored (did you mean 'smoke.url'?)"]
    config: dict = {}
    conf.populate(config)
    names = step_names(config)
    assert names.index("install-modules") < names.index("smoke")
    smoke_step = config["builders"][0].factory.steps[names.index("smoke")]
    assert smoke_step.kwargs["command"] == ["bin/smoke", "/web/health"]


def test_a_bad_subfactory_value_stops_the_configuration_located(master):
    conf = master("""\
        [sale]
        buildout = standalone odoo.cfg

        post-buildout-steps = static-analysis
        static-analysis.tool = pylint
        """)
    with pytest.raises(ConfigError) as caught:
        conf.populate({})
    assert str(caught.value) == ("buildouts/MANIFEST.cfg:5: sale: static-analysis.tool: "
                                 "'pylint' is not one of flake8, ruff")


def test_every_builtin_assembles_in_one_build(master):
    conf = master("""\
        [all]
        buildout = standalone odoo.cfg
        post-dl-steps = packaging
        post-buildout-steps = install-modules update-modules install-modules-test pytest
                              functional static-analysis doc packaging
        odoo-addons = sale_x
        functional.command = bin/check {url}
        packaging.root-dir = packages
        """)
    config: dict = {}
    conf.populate(config)
    names = step_names(config)
    for name in ("remove-package-leftovers", "reserve-http-port", "install-modules",
                 "update-modules", "odoo-tests", "pytest", "start-odoo-server",
                 "functional-tests", "stop-odoo-server", "static-analysis", "sphinx",
                 "upload-doc", "make-package", "upload-package-checksum"):
        assert name in names, name
    assert names[-4:] == ["remove-package", "stop-odoo-server-cleanup", "release-http-port",
                          "drop-testing-database"]
