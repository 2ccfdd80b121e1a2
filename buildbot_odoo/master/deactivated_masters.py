"""A master of a cluster that dies: the others free what it held, and build its builds again.

A master that stops with ``buildbot stop`` ends its running builds itself
(:mod:`.stop_retry`).  One that dies -- a crash, SIGKILL, its host lost --
leaves its builds "running" in the shared database, their build requests
claimed by it, its workers recorded as connected to it.  Buildbot's remedy is
to **deactivate** it: every master, on its heartbeat, deactivates the masters
silent for too long (``Masters.expireMasters``: 10 minutes; see
:mod:`.heartbeat` for a shorter time), and a master that starts deactivates
itself first, in case it died before.  Deactivating a master
(``Master._masterDeactivatedHousekeeping``) finishes its running steps and
builds with RETRY and unclaims its build requests, so that another master
builds them.

With Buildbot 4.3.0 (and its master branch at the time of writing) only a
master deactivating *itself* gets there:

1. the requests are unclaimed with the database layer's
   ``unclaimBuildRequests``, which deletes the claims *of the master calling
   it* only (``buildrequest_claims.masterid == self.db.master.masterid``).
   When the survivor deactivates the dead master, the dead master's claims
   stay: its requests are never built again, by anyone;
2. the database layer sends no ``unclaimed`` event either (the data API's
   update would), so even the requests a restarted master frees for itself
   wait until something else makes the other masters look for work -- the
   worker reached them through the proxy minutes before;
3. its workers stay recorded as connected to it (only their configuration on
   it is removed), so the REST API and the Fleet page show a worker that went
   away with its master as connected, to a master that no longer runs.

:func:`install` wraps that housekeeping, on a Buildbot whose housekeeping
calls the master-bound ``unclaimBuildRequests`` (:func:`leaves_claims_behind`):
after Buildbot's own, the requests the deactivated master held are unclaimed
on its behalf and announced with the data API's ``unclaimed`` event (every
master's build request distributor listens to it), and its workers are
disconnected from it with the data API's ``workerDisconnected``.
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any

from twisted.internet import defer
from twisted.python import log

#: Buildbot's own housekeeping, wrapped
_ORIGINAL: dict[str, Any] = {}
#: as Buildbot batches its own deletes: parameter lists stay short
BATCH = 100


def _masters_resource() -> type:
    from buildbot.data.masters import Master

    return Master


def _source(function: Any) -> str:
    try:
        return inspect.getsource(inspect.unwrap(function))
    except (OSError, TypeError):
        return ""


def leaves_claims_behind(resource_type: type | None = None,
                         connector: type | None = None) -> bool:
    """Whether deactivating another master leaves its build requests claimed by it.

    Buildbot 4.3's ``Master._masterDeactivatedHousekeeping`` unclaims with
    ``db.buildrequests.unclaimBuildRequests``, which is bound to the calling
    master's id.  A method that is not there, or whose source cannot be read,
    is another Buildbot: left alone.
    """
    if resource_type is None:
        resource_type = _masters_resource()
    if connector is None:
        from buildbot.db.buildrequests import BuildRequestsConnectorComponent as connector
    housekeeping = resource_type.__dict__.get("_masterDeactivatedHousekeeping")
    if housekeeping is None or housekeeping is _housekeeping:
        return False
    unclaim = _source(getattr(connector, "unclaimBuildRequests", None))
    return ("db.buildrequests.unclaimBuildRequests(" in _source(housekeeping)
            and "master.masterid" in unclaim)


def _housekeeping(self: Any, masterid: int, name: str) -> defer.Deferred:
    """Buildbot's housekeeping of a deactivated master, then what it leaves (module doc)."""
    return defer.ensureDeferred(_deactivate(self, masterid, name))


async def _deactivate(resource: Any, masterid: int, name: str) -> None:
    master = resource.master
    held = await master.db.buildrequests.getBuildRequests(complete=False, claimed=masterid)
    workers = await master.db.workers.getWorkers()
    await _ORIGINAL["_masterDeactivatedHousekeeping"](resource, masterid, name)
    brids = [request.buildrequestid for request in held]
    if brids:
        await master.db.pool.do_with_transaction(_delete_claims, master.db.model, brids,
                                                 masterid)
        log.msg(f"buildbot-odoo: build requests {brids} of deactivated master {name} "
                "unclaimed: any master may build them")
        await master.data.rtypes.buildrequest.generateEvent(brids, "unclaimed")
    for worker in workers:
        if masterid in worker.connected_to:
            await master.data.updates.workerDisconnected(workerid=worker.id, masterid=masterid)


def _delete_claims(conn: Any, model: Any, brids: list[int], masterid: int) -> None:
    claims = model.buildrequest_claims
    iterator = iter(brids)
    while batch := list(itertools.islice(iterator, BATCH)):
        conn.execute(claims.delete().where(claims.c.brid.in_(batch),
                                           claims.c.masterid == masterid))


def install() -> bool:
    """Free what a deactivated master holds, if this Buildbot does not; True when it did now.

    Idempotent: called at every (re)configuration of a master.
    """
    resource_type = _masters_resource()
    if not leaves_claims_behind(resource_type):
        return False
    _ORIGINAL["_masterDeactivatedHousekeeping"] = resource_type._masterDeactivatedHousekeeping
    resource_type._masterDeactivatedHousekeeping = _housekeeping
    log.msg("buildbot-odoo: the build requests and workers of a deactivated master are freed "
            "for the other masters (docs/scale-out.md)")
    return True
