"""Master-side areas: where builds write on the master (or read from it for workers).

``doc.upload-dir`` (published documentation), ``packaging.root-dir`` and
``packaging.upload-dir`` (archives uploaded by workers), ``archive.root-dir``
(archives sent to workers): each is the build's own area, never the master's
base directory, one of its ancestors, nor the master's own files (secrets,
auto-watch data, pollers, configuration, database, logs).
"""

from __future__ import annotations

import textwrap

import pytest

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.config.manifest import BuildoutSource
from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.subfactories import retrieval
from buildbot_odoo.master.subfactories.doc import doc
from buildbot_odoo.master.subfactories.packaging import packaging

from .subfactory_support import ENV, by_name, render
from .test_retrieval import options_for

OWN = ["secrets", "watch", "pollers", "master.cfg", "state.sqlite", "twistd.log",
       "workers.cfg", "buildouts", "buildouts/MANIFEST.cfg", "secrets/x/y", "./secrets//"]


@pytest.fixture
def master(tmp_path):
    """A master directory as ``buildbot-odoo init`` and Buildbot make it."""
    base = tmp_path / "master"
    for name in ("secrets", "watch", "pollers", "buildouts", "docs"):
        (base / name).mkdir(parents=True)
    for name in ("master.cfg", "workers.cfg", "state.sqlite", "twistd.log",
                 "buildouts/MANIFEST.cfg", "secrets/local-worker"):
        (base / name).write_text("x\n")
    return base


def doc_steps(master, upload_dir: str, builder: str = "sale-pg15"):
    options = options_for(raw={"doc.upload-dir": upload_dir}, builder=builder)
    return by_name(doc(BuildoutsConfigurator(master), options, "b.cfg", ENV))


@pytest.mark.parametrize("upload_dir", [".", "./", *OWN])
def test_doc_upload_dir_cannot_be_the_master_directory_or_its_own_files(master, upload_dir):
    with pytest.raises(ConfigError) as caught:
        doc_steps(master, upload_dir)
    (problem,) = caught.value.problems
    assert problem.option == "doc.upload-dir" and problem.section == "sale"


def test_a_build_named_secrets_cannot_replace_the_master_secrets(master):
    with pytest.raises(ConfigError) as caught:
        doc_steps(master, ".", builder="secrets")
    assert "doc.upload-dir: '.': the master's base directory itself" in str(caught.value)


@pytest.mark.parametrize("where", ["base", "parent", "root", "secrets"])
def test_absolute_doc_upload_dirs_are_checked_too(master, where):
    path = {"base": master, "parent": master.parent, "root": master.anchor,
            "secrets": master / "secrets"}[where]
    with pytest.raises(ConfigError):
        doc_steps(master, str(path))


def test_a_symbolic_link_cannot_lead_an_area_into_the_master_files(master):
    (master / "published").symlink_to(master / "secrets")
    with pytest.raises(ConfigError) as caught:
        doc_steps(master, "published")
    assert "'secrets'" in str(caught.value)


def test_areas_of_their_own_are_fine(master, tmp_path):
    assert render(doc_steps(master, "docs")["publish-doc"].published) == str(
        master / "docs" / "sale-pg15")
    assert render(doc_steps(master, "public/doc//")["publish-doc"].published) == str(
        master / "public" / "doc" / "sale-pg15")
    assert render(doc_steps(master, str(tmp_path / "www"))["publish-doc"].published) == str(
        tmp_path / "www" / "sale-pg15")


@pytest.mark.parametrize(("raw", "option"), [
    ({"packaging.root-dir": "."}, "packaging.root-dir"),
    ({"packaging.root-dir": "secrets"}, "packaging.root-dir"),
    ({"packaging.root-dir": "{master}"}, "packaging.root-dir"),
    ({"packaging.root-dir": "packages", "packaging.upload-dir": "."}, "packaging.upload-dir"),
])
def test_packaging_areas(master, raw, option):
    raw = {k: v.format(master=master) for k, v in raw.items()}
    options = options_for(raw=raw, post_buildout_steps=["packaging"])
    with pytest.raises(ConfigError) as caught:
        packaging(BuildoutsConfigurator(master), options, "b.cfg", ENV)
    assert caught.value.problems[0].option == option


@pytest.mark.parametrize("root", [".", "secrets", "watch/.."])
def test_archive_root_cannot_send_the_master_files_to_workers(master, root):
    source = BuildoutSource("archive", "b.cfg", subdir_prop="d", archive_prop="n")
    options = options_for(source, raw={"archive.root-dir": root})
    with pytest.raises(ConfigError) as caught:
        retrieval.archive(BuildoutsConfigurator(master), options)
    assert caught.value.problems[0].option == "archive.root-dir"


def test_check_refuses_a_doc_build_named_secrets_over_the_master(master):
    (master / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (master / "workers.cfg").write_text("[w]\npassword = x\ncapability = postgresql 15\n")
    (master / "buildouts" / "MANIFEST.cfg").write_text(
        "[secrets]\nbuildout = standalone b.cfg\nbuild-for = postgresql not-used\n"
        "post-buildout-steps = doc\ndoc.upload-dir = .\n")
    plan = BuildoutsConfigurator(master).check()
    assert [str(p) for p in plan.problems.errors] == [
        "buildouts/MANIFEST.cfg:5: secrets: doc.upload-dir: '.': the master's base directory "
        "itself: builds may only write in an area of their own (a subdirectory such as "
        "'docs', or a directory outside the master's)"]


def check_manifest(master, manifest: str) -> list[str]:
    (master / "buildouts" / "b.cfg").write_text("[buildout]\n")
    (master / "workers.cfg").write_text("[w]\npassword = x\ncapability = postgresql 15\n")
    (master / "buildouts" / "MANIFEST.cfg").write_text(textwrap.dedent(manifest))
    return [str(p) for p in BuildoutsConfigurator(master).check().problems.errors]


def test_a_doc_area_cannot_be_a_packaging_area(master):
    # the doc build 'sale' would publish docs/sale over the packages of build 'sale'
    errors = check_manifest(master, """
        [DEFAULT]
        buildout = standalone b.cfg
        build-for = postgresql not-used
        [sale]
        post-dl-steps = packaging
        post-buildout-steps = packaging
        packaging.root-dir = shared
        [sale-doc]
        post-buildout-steps = doc
        doc.upload-dir = shared/.
        """)
    assert errors == [
        f"buildouts/MANIFEST.cfg:11: sale-doc: doc.upload-dir: {master / 'shared'} is also "
        f"where packages go (packaging.root-dir of sale, buildouts/MANIFEST.cfg:8): "
        "documentation and packages need directories of their own"]


def test_nested_doc_areas_are_refused_and_shared_package_areas_are_fine(master):
    errors = check_manifest(master, """
        [DEFAULT]
        buildout = standalone b.cfg
        build-for = postgresql not-used
        post-buildout-steps = doc
        [a]
        doc.upload-dir = docs
        [b]
        doc.upload-dir = docs/a
        [c]
        doc.upload-dir = docs
        """)
    assert errors == [
        f"buildouts/MANIFEST.cfg:9: b: doc.upload-dir: {master / 'docs' / 'a'} is inside "
        f"{master / 'docs'}, where documentation also goes (doc.upload-dir of a, "
        "buildouts/MANIFEST.cfg:7): documentation areas cannot nest"]
