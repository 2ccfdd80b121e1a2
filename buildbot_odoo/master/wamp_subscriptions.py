"""Schedulers deafened by a reconfig in a cluster: the WAMP queue waits for its subscriptions.

Issue 19 of this project, seen with Buildbot 4.3.0, autobahn 26.11 and
crossbar 26.10 (docs/scale-out.md has the whole story and a reproduction):

1. Buildbot's ``WampMQ.startConsuming`` starts the router subscription and
   returns at once, before the router has acknowledged it;
2. a scheduler that is reconfigured stops consuming changes (autobahn drops
   its handler at once) and starts again (a new SUBSCRIBE, not waited for);
3. all the schedulers of a master listen to one topic (``changes.*.new``),
   which autobahn keeps as one router subscription holding every handler.
   Reconfigured one after the other without waiting, the last one removes
   the last handler while the others' new SUBSCRIBEs are still in flight:
   autobahn sends UNSUBSCRIBE for the subscription.  The router answers the
   SUBSCRIBEs with the same subscription id (the session still has it), then
   the UNSUBSCRIBE; when autobahn receives UNSUBSCRIBED it forgets every
   handler of that id -- the ones just added by the SUBSCRIBED answers too.
   Only the scheduler whose SUBSCRIBE went after the UNSUBSCRIBE still hears
   of changes: one of them, a different one each time.

Waiting for each subscription to be acknowledged before ``startConsuming``
returns (what the simple, in-process queue does by nature) keeps at least one
live handler on the subscription while the next scheduler changes its own,
so no UNSUBSCRIBE goes out under a pending SUBSCRIBE.  It waits only once the
master has joined the router: while it starts, its services subscribe before
the WAMP session exists (Buildbot queues those until it does, and nothing
unsubscribes then), and waiting there would never end.  :func:`install`
replaces that one method, only on a Buildbot whose ``startConsuming`` does not
wait (4.x up to at least 4.3.0; a fixed one is left alone).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.python import log

#: the names the affected ``startConsuming`` uses: it calls ``_startConsuming``
#: and returns ``defer.succeed(qr)`` without waiting for it
_AFFECTED_NAMES = {"_startConsuming", "succeed"}


def _wamp_mq() -> type | None:
    try:
        from buildbot.mq.wamp import WampMQ
    except ImportError:  # no autobahn: no WAMP queue to fix
        return None
    return WampMQ


def subscribes_without_waiting(mq_class: type | None = None) -> bool:
    """Whether ``WampMQ.startConsuming`` returns before its subscription exists.

    The affected method is a plain function (neither a coroutine nor an
    ``inlineCallbacks`` generator) that calls ``_startConsuming`` and returns
    an already fired Deferred.
    """
    mq_class = mq_class if mq_class is not None else _wamp_mq()
    if mq_class is None:
        return False
    method = mq_class.__dict__.get("startConsuming")
    code = getattr(method, "__code__", None)
    if code is None or method is start_consuming:
        return False
    generator_or_coroutine = code.co_flags & (0x20 | 0x80 | 0x100 | 0x200)
    return not generator_or_coroutine and set(code.co_names) >= _AFFECTED_NAMES


#: Buildbot's own method, used while the master has not joined the router yet
_ORIGINAL: dict[str, Any] = {}


def start_consuming(self: Any, callback: Any, _filter: tuple,
                    persistent_name: str | None = None) -> defer.Deferred:
    """Buildbot's ``WampMQ.startConsuming``, returning once the router has the subscription."""
    if getattr(self.master.wamp, "service", None) is None:  # starting: see the module's doc
        return _ORIGINAL["startConsuming"](self, callback, _filter, persistent_name)
    return defer.ensureDeferred(_subscribed(self, callback, _filter, persistent_name))


async def _subscribed(mq: Any, callback: Any, _filter: tuple, persistent_name: str | None):
    from buildbot.mq.wamp import QueueRef

    if persistent_name is not None:  # as Buildbot says it
        log.err(f"wampmq: persistent queues are not persisted: {persistent_name} {_filter}")
    queue_ref = QueueRef(mq, callback)
    await defer.ensureDeferred(mq._startConsuming(queue_ref, callback, _filter))
    return queue_ref


def install() -> bool:
    """Make ``WampMQ.startConsuming`` wait if this Buildbot's does not; True when it did now.

    Idempotent: called at every (re)configuration of a master.
    """
    mq_class = _wamp_mq()
    if mq_class is None or not subscribes_without_waiting(mq_class):
        return False
    _ORIGINAL["startConsuming"] = mq_class.startConsuming
    mq_class.startConsuming = start_consuming
    log.msg("buildbot-odoo: the WAMP message queue waits for each subscription "
            "(a reconfig could otherwise leave schedulers deaf: docs/scale-out.md)")
    return True
