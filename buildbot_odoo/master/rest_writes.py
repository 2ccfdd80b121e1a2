"""REST responses cut short by Buildbot 4.2.0 to 4.3.0: their body is written on the reactor thread.

Buildbot 4.2.0 encodes the JSON of a REST response in a thread of the
reactor's pool, so that a large response does not stall the master (its
commit "www: defer rest response json encoding to thread").  That thread
also calls ``request.write`` for every piece of JSON, and Twisted transports
are not thread-safe: ``FileDescriptor.write`` appends to a list that the
reactor thread's ``doWrite`` joins into its send buffer and then resets.  A
piece appended between the join and the reset is lost, and the client reads
fewer bytes than the Content-Length Buildbot announced
(``http.client.IncompleteRead``, ``curl: (18) transfer closed``).  The
window is a few bytecodes, so it takes the reactor thread being given the
GIL in the middle of a response: rare on an idle master, regular when the
CPUs are busy (the reactor thread's GIL request times out more often while
the encoding thread is preempted) or the responses are large.  Buildbot's
issue 9065; fixed upstream after 4.3.0 by writing on the reactor thread.

Every buildbot-odoo user reads builds through this API (the web UI, the
Fleet page, scripts), so on an affected Buildbot :func:`install` replaces the
one function: the JSON is still encoded in the pool thread, whole, and the
reactor thread writes it, once, with its length.  A Buildbot that does not
have the threaded writer (before 4.2.0, or fixed) is left alone.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from buildbot.www import rest
from twisted.internet import threads
from twisted.python import log
from twisted.web import server

#: what the affected Buildbots have: a static method writing from the pool thread
_AFFECTED_PARAMETERS = ["request", "encoder", "data"]


def has_threaded_writer(resource: type = rest.V2RootResource) -> bool:
    """Whether ``resource`` is Buildbot's REST root that writes from a pool thread.

    The affected releases (4.2.0 to 4.3.0) define ``_write_json_data`` as a
    static method of ``(request, encoder, data)``; the upstream fix made it a
    method of the resource, which reaches its master's reactor.
    """
    writer = inspect.getattr_static(resource, "_write_json_data", None)
    if not isinstance(writer, staticmethod) or writer.__func__ is write_json_data:
        return False
    return list(inspect.signature(writer.__func__).parameters) == _AFFECTED_PARAMETERS


def _finished(request: server.Request) -> bool:
    """The client went away (or the response ended): nothing more to write."""
    return bool(request.finished) or request.channel is None


def _send(request: server.Request, body: bytes) -> None:
    """On the reactor thread: the body, with its length."""
    if _finished(request):
        return
    request.setHeader(b"content-length", str(len(body)).encode())
    if request.method != b"HEAD":
        request.write(body)


def write_json_data(request: server.Request, encoder: json.JSONEncoder, data: Any) -> None:
    """Runs in a pool thread (as Buildbot calls it): encode here, write on the reactor thread.

    Encoding stops early when the client has gone, as Buildbot's own does.
    """
    from twisted.internet import reactor  # the master's: Buildbot runs on the global reactor

    pieces = []
    for chunk in encoder.iterencode(data):
        if _finished(request):
            return
        pieces.append(chunk.encode("utf-8"))
    threads.blockingCallFromThread(reactor, _send, request, b"".join(pieces))


def install() -> bool:
    """Write REST bodies on the reactor thread if this Buildbot does not; True when it did now.

    Idempotent: called at every (re)configuration of a master.
    """
    if not has_threaded_writer():
        return False
    rest.V2RootResource._write_json_data = staticmethod(write_json_data)
    log.msg("buildbot-odoo: REST responses are written on the reactor thread "
            "(Buildbot issue 9065: a pool thread's writes could cut them short)")
    return True
