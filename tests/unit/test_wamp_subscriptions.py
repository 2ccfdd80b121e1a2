"""The WAMP queue's subscriptions: which Buildbots need the fix of issue 19 (docs/scale-out.md)."""

from __future__ import annotations

from buildbot.mq.wamp import WampMQ
from twisted.internet import defer

from buildbot_odoo.master import wamp_subscriptions
from buildbot_odoo.master.wamp_subscriptions import start_consuming, subscribes_without_waiting


class Waiting:
    """A queue whose startConsuming waits for the subscription (a fixed Buildbot)."""

    @defer.inlineCallbacks
    def startConsuming(self, callback, _filter, persistent_name=None):
        queue_ref = yield self._startConsuming(None, callback, _filter)
        return queue_ref


class Awaiting:
    async def startConsuming(self, callback, _filter, persistent_name=None):
        return await self._startConsuming(None, callback, _filter)


class Patched:
    startConsuming = start_consuming


def test_this_buildbot_returns_before_the_subscription_exists():
    # Buildbot 4.3.0's: `self._startConsuming(...)` then `return defer.succeed(qr)`
    original = wamp_subscriptions._ORIGINAL.get("startConsuming", WampMQ.startConsuming)
    assert subscribes_without_waiting(type("Affected", (), {"startConsuming": original}))


def test_a_queue_that_waits_or_is_already_fixed_is_left_alone():
    assert not subscribes_without_waiting(Waiting)
    assert not subscribes_without_waiting(Awaiting)
    assert not subscribes_without_waiting(Patched)
    assert not subscribes_without_waiting(type("NoMethod", (), {}))


def test_install_replaces_the_method_once():
    wamp_subscriptions.install()
    assert WampMQ.startConsuming is start_consuming
    assert wamp_subscriptions.install() is False
