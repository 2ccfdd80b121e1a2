"""A master deactivated by another: what Buildbot leaves of it, and what buildbot-odoo frees.

Buildbot's own data API and database code on an in-memory database
(``buildbot.test``'s fake master: real connectors, fake reactor and queue).
The whole story runs with real processes in tests/integration/test_cluster_e2e.py
(the master of a running build killed, the request built again on the other).
"""

from __future__ import annotations

from buildbot.data.masters import Master
from buildbot.test import fakedb
from buildbot.test.fake import fakemaster
from buildbot.test.reactor import TestReactorMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.master import deactivated_masters
from buildbot_odoo.master.deactivated_masters import leaves_claims_behind

DEAD = 13
REQUEST = 44
WORKER = 5


def buildbot_housekeeping():
    return deactivated_masters._ORIGINAL.get("_masterDeactivatedHousekeeping",
                                             Master.__dict__["_masterDeactivatedHousekeeping"])


class DeadMaster(TestReactorMixin, unittest.TestCase):
    """Master 13 died holding a build request and a worker; this master deactivates it."""

    @defer.inlineCallbacks
    def setUp(self):
        self.setup_test_reactor()
        self.master = yield fakemaster.make_master(self, wantMq=True, wantDb=True, wantData=True)
        yield self.master.db.insert_test_data([
            fakedb.Master(id=DEAD, name="dead", active=0, last_active=0),
            fakedb.Master(id=self.master.masterid, name="alive"),
            fakedb.Builder(id=77, name="held"),
            fakedb.SourceStamp(id=234),
            fakedb.Buildset(id=8822),
            fakedb.BuildsetSourceStamp(buildsetid=8822, sourcestampid=234),
            fakedb.BuildRequest(id=REQUEST, buildsetid=8822, builderid=77),
            fakedb.BuildRequestClaim(brid=REQUEST, masterid=DEAD, claimed_at=1),
            fakedb.Worker(id=WORKER, name="wa"),
            fakedb.ConnectedWorker(workerid=WORKER, masterid=DEAD),
            fakedb.ConnectedWorker(workerid=WORKER, masterid=self.master.masterid),
        ])
        self.rtype = self.master.data.rtypes.master

    @defer.inlineCallbacks
    def claimed_by(self, masterid):
        requests = yield self.master.db.buildrequests.getBuildRequests(claimed=masterid)
        return [r.buildrequestid for r in requests]

    @defer.inlineCallbacks
    def connected_to(self):
        worker = yield self.master.db.workers.getWorker(WORKER)
        return sorted(worker.connected_to)

    def unclaimed_events(self):
        return [key for key, _ in self.master.mq.productions
                if key[0] == "buildrequests" and key[-1] == "unclaimed"]

    @defer.inlineCallbacks
    def test_buildbot_alone_leaves_the_dead_masters_claim_and_connection(self):
        assert leaves_claims_behind(type("Buildbot", (Master,), {
            "_masterDeactivatedHousekeeping": buildbot_housekeeping()}))
        yield buildbot_housekeeping()(self.rtype, DEAD, "dead")
        self.assertEqual((yield self.claimed_by(DEAD)), [REQUEST])  # never built again
        self.assertEqual(self.unclaimed_events(), [])
        self.assertEqual((yield self.connected_to()), sorted([DEAD, self.master.masterid]))

    @defer.inlineCallbacks
    def test_installed_the_request_is_free_and_announced_and_the_worker_disconnected(self):
        deactivated_masters.install()
        assert not leaves_claims_behind()  # ours: nothing more to install
        assert deactivated_masters.install() is False
        yield self.rtype._masterDeactivatedHousekeeping(DEAD, "dead")
        self.assertEqual((yield self.claimed_by(DEAD)), [])
        self.assertEqual((yield self.claimed_by(False)), [REQUEST])
        self.assertEqual(self.unclaimed_events(), [("buildrequests", str(REQUEST), "unclaimed")])
        self.assertEqual((yield self.connected_to()), [self.master.masterid])

    @defer.inlineCallbacks
    def test_installed_a_claim_of_a_living_master_is_left_alone(self):
        deactivated_masters.install()
        yield self.master.db.insert_test_data([
            fakedb.BuildRequest(id=45, buildsetid=8822, builderid=77),
            fakedb.BuildRequestClaim(brid=45, masterid=self.master.masterid, claimed_at=2),
        ])
        yield self.rtype._masterDeactivatedHousekeeping(DEAD, "dead")
        self.assertEqual((yield self.claimed_by(self.master.masterid)), [45])


def test_another_housekeeping_is_left_alone():
    class UsesTheDataApi(Master):
        def _masterDeactivatedHousekeeping(self, masterid, name):
            return self.master.data.updates.unclaimBuildRequests([])

    assert not leaves_claims_behind(UsesTheDataApi)
    assert not leaves_claims_behind(type("NoHousekeeping", (), {}))
