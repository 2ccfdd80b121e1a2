"""Which Buildbot REST writer :mod:`buildbot_odoo.master.rest_writes` replaces (issue 9, point 20).

The replacement itself is proven on a real master
(``tests/integration/test_rest_responses.py``).
"""

from __future__ import annotations

import inspect

import buildbot
from buildbot.www import rest
from packaging.version import Version

from buildbot_odoo.master import rest_writes


class Affected:
    """Buildbot 4.2.0 to 4.3.0: a static method writing from the pool thread."""

    @staticmethod
    def _write_json_data(request, encoder, data):
        request.write(b"")


class FixedUpstream:
    """The upstream fix: a method of the resource, which reaches its reactor."""

    def _write_json_data(self, request, encoder, data):
        request.write(b"")


class Before42:
    """Before 4.2.0 the JSON was written by ``renderRest`` itself."""


class Replaced:
    _write_json_data = staticmethod(rest_writes.write_json_data)


def test_only_the_threaded_static_writer_is_replaced() -> None:
    assert rest_writes.has_threaded_writer(Affected)
    assert not rest_writes.has_threaded_writer(FixedUpstream)
    assert not rest_writes.has_threaded_writer(Before42)
    assert not rest_writes.has_threaded_writer(Replaced)


def test_install_is_idempotent_and_leaves_our_writer_in_place() -> None:
    rest_writes.install()
    assert rest_writes.install() is False
    assert not rest_writes.has_threaded_writer()
    writer = inspect.getattr_static(rest.V2RootResource, "_write_json_data", None)
    replaced = isinstance(writer, staticmethod) and writer.__func__ is rest_writes.write_json_data
    # the releases with the threaded writer: replaced; any other: left as Buildbot made it
    assert replaced == (Version("4.2.0") <= Version(buildbot.version) <= Version("4.3.0"))
