"""Builds stopped for RETRY (``buildbot stop``) end RETRY: which Buildbots need it, what it does.

The whole story runs with real processes in
tests/integration/test_cluster_e2e.py (master a stopped mid-build, the
request built again on master b); here, Buildbot's own ``Build`` methods on a
build object holding what they read.
"""

from __future__ import annotations

from buildbot.process.build import Build
from buildbot.process.results import CANCELLED, RETRY, SUCCESS, ResultComputingConfigMixin
from twisted.internet import defer
from twisted.python.failure import Failure

from buildbot_odoo.master import stop_retry
from buildbot_odoo.master.stop_retry import lets_a_cancelled_step_win


class Step(ResultComputingConfigMixin):
    name = "hold"

    def getBuildResultSummary(self):
        return defer.succeed({})


def original(name: str):
    return stop_retry._ORIGINAL.get(name, Build.__dict__[name])


def unpatched_build_class() -> type:
    """A Build whose stopBuild and stepDone are Buildbot's own, installed or not."""
    return type("Unpatched", (Build,), {"stepDone": original("stepDone"),
                                       "stopBuild": original("stopBuild")})


class Builder:
    name = "held"


def stopping_build(build_class: type) -> Build:
    build = build_class.__new__(build_class)
    build.builder, build.number = Builder(), 1
    build.results, build.conn, build.text = SUCCESS, object(), []
    build.finished, build.stopped, build.currentStep = False, False, None
    build._acquiringLock, build._is_substantiating = None, False
    return build


def run(deferred: defer.Deferred):
    outcome = []
    deferred.addBoth(outcome.append)
    assert outcome, "the Deferred should have fired"
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return outcome[0]


def test_this_buildbot_lets_the_interrupted_step_turn_retry_into_cancelled():
    assert lets_a_cancelled_step_win(unpatched_build_class())
    # what the master's shutdown does, step by step, with Buildbot's own methods
    build = stopping_build(unpatched_build_class())
    run(build.stopBuild("Master Shutdown", RETRY))
    assert build.results == RETRY
    run(build.stepDone(CANCELLED, Step()))  # the interrupted command ends CANCELLED
    assert build.results == CANCELLED  # and so would the build: its request completed


def test_installed_a_build_stopped_for_retry_stays_retry():
    stop_retry.install()
    assert not lets_a_cancelled_step_win(Build)  # ours: nothing more to install
    assert stop_retry.install() is False
    build = stopping_build(Build)
    run(build.stopBuild("Master Shutdown", RETRY))
    assert run(build.stepDone(CANCELLED, Step())) is True  # the build goes no further
    assert build.results == RETRY
    run(build.stepDone(SUCCESS, Step()))  # a clean-up step that always runs
    assert build.results == RETRY


def test_installed_a_build_stopped_otherwise_ends_as_buildbot_says():
    stop_retry.install()
    build = stopping_build(Build)
    run(build.stopBuild("stopped from the web UI"))  # CANCELLED, Buildbot's default
    run(build.stepDone(CANCELLED, Step()))
    assert build.results == CANCELLED
    running = stopping_build(Build)
    run(running.stepDone(SUCCESS, Step()))
    assert running.results == SUCCESS


def test_a_method_of_another_shape_is_left_alone():
    class Other(Build):
        def stepDone(self, results, step):
            raise AttributeError("another Buildbot")

    assert not lets_a_cancelled_step_win(Other)
    assert not lets_a_cancelled_step_win(type("NoMethod", (), {}))
