"""``conf.master_expiry``: its checks, when populate adds the heartbeat, and what it does.

The heartbeat runs Buildbot's own updates on an in-memory database
(``buildbot.test``'s fake master, fake reactor); a dead master expired this
way in a real cluster: tests/integration/test_cluster_e2e.py.
"""

from __future__ import annotations

import math

import pytest
from buildbot.data import masters
from buildbot.test import fakedb
from buildbot.test.fake import fakemaster
from buildbot.test.reactor import TestReactorMixin
from twisted.application import service
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo import BuildoutsConfigurator
from buildbot_odoo.errors import ConfigError, Problems
from buildbot_odoo.master.heartbeat import (
    BUILDBOT_EXPIRE_MINUTES,
    SERVICE_NAME,
    MasterHeartbeat,
    check_master_expiry,
    heartbeat_services,
)

SILENT = 13
CLUSTER = {"multiMaster": True,
           "mq": {"type": "wamp", "router_url": "ws://mq.example.org:8080/ws"}}


@pytest.mark.parametrize("value", [None, 30, 60.5, 600])
def test_a_number_of_seconds_or_none_is_an_expiry(value):
    assert check_master_expiry(value) == (None if value is None else float(value))


@pytest.mark.parametrize("value", [29, 0, -60, True, "60", math.nan, math.inf])
def test_anything_else_is_refused_with_the_value(value):
    with pytest.raises(ValueError, match=r"is not a number of seconds of at least 30"):
        check_master_expiry(value)


def configured(tmp_path, config: dict, **settings) -> dict:
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "workers.cfg").write_text("[w1]\npassword = x\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text("[b]\nbuildout = standalone b.cfg\n")
    (tmp_path / "buildouts" / "b.cfg").write_text("[buildout]\n")
    conf = BuildoutsConfigurator(tmp_path)
    for name, value in settings.items():
        setattr(conf, name, value)
    conf.populate(config)
    return config


def heartbeats(config: dict) -> list:
    return [s for s in config.get("services", []) if s.name == SERVICE_NAME]


def test_a_master_of_a_cluster_with_master_expiry_gets_the_heartbeat(tmp_path):
    [beat] = heartbeats(configured(tmp_path, dict(CLUSTER), master_expiry=90))
    assert beat._config_kwargs == {"expiry": 90.0}


def test_no_heartbeat_without_master_expiry_or_outside_a_cluster(tmp_path):
    assert heartbeats(configured(tmp_path, dict(CLUSTER))) == []
    assert heartbeats(configured(tmp_path, {}, master_expiry=90)) == []


def test_one_heartbeat_for_two_configurators_and_the_users_services_kept(tmp_path):
    mine = service.Service()
    config = configured(tmp_path, {**CLUSTER, "services": [mine]}, master_expiry=90)
    assert config["services"][0] is mine
    second = BuildoutsConfigurator(tmp_path)
    second.master_expiry = 90
    assert heartbeat_services(second, config, Problems()) == []


def test_a_bad_expiry_is_a_located_error(tmp_path):
    with pytest.raises(ConfigError, match=r"master.cfg: master_expiry: 10 is not a number"):
        configured(tmp_path, dict(CLUSTER), master_expiry=10)


class Running(service.Service):
    """Stands for Buildbot's own heartbeat service, which runs once the master is active."""


class Beats(TestReactorMixin, unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.setup_test_reactor()
        # master 1: the id buildbot.test's data API expects of its own master
        self.master = yield fakemaster.make_master(self, wantMq=True, wantDb=True, wantData=True,
                                                   master_id=1)
        self.master.masterHeartbeatService = Running()
        self.master.masterHeartbeatService.startService()
        self.master.botmaster.shuttingDown = False
        yield self.master.db.insert_test_data([
            fakedb.Master(id=SILENT, name="silent", active=1, last_active=0),
            fakedb.Master(id=self.master.masterid, name=self.master.name, active=1,
                          last_active=0),
        ])
        self.beat = MasterHeartbeat(expiry=60)
        yield self.beat.setServiceParent(self.master)
        yield self.beat.startService()
        self.addCleanup(lambda: self.beat.running and self.beat.stopService())

    @defer.inlineCallbacks
    def state(self, masterid):
        model = yield self.master.db.masters.getMaster(masterid)
        return model.active, int(model.last_active.timestamp())

    @defer.inlineCallbacks
    def test_a_master_silent_for_the_expiry_is_deactivated_and_this_one_says_it_lives(self):
        self.assertEqual(masters.EXPIRE_MINUTES, 1)
        self.reactor.advance(60)  # six beats: silent for 60 s, not more
        self.assertEqual((yield self.state(SILENT)), (True, 0))
        self.assertEqual((yield self.state(self.master.masterid)), (True, 60))
        self.reactor.advance(10)
        self.assertEqual((yield self.state(SILENT)), (False, 0))

    @defer.inlineCallbacks
    def test_a_stopping_master_does_not_beat_and_buildbots_expiry_comes_back(self):
        self.master.botmaster.shuttingDown = True
        self.reactor.advance(120)
        self.assertEqual((yield self.state(self.master.masterid)), (True, 0))
        self.assertEqual((yield self.state(SILENT)), (True, 0))
        yield self.beat.stopService()
        self.assertEqual(masters.EXPIRE_MINUTES, BUILDBOT_EXPIRE_MINUTES)
