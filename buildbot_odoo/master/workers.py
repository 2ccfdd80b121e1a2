"""WorkerSpec -> ``buildbot.worker.Worker``: the thin edge of workers.cfg."""

from __future__ import annotations

from buildbot.process.properties import Secret
from buildbot.worker import Worker

from ..config.workers import SECRET_PREFIX, WorkerSpec


def worker_password(spec: WorkerSpec) -> object:
    """``secret:NAME`` takes the password from Buildbot's secrets providers."""
    if spec.password.startswith(SECRET_PREFIX):
        return Secret(spec.password[len(SECRET_PREFIX):])
    return spec.password


def make_worker(spec: WorkerSpec) -> Worker:
    """The password goes to Buildbot's authentication only, never to properties."""
    properties = dict(spec.properties)
    properties["capability"] = spec.capability_property()
    properties["db_prefix"] = spec.db_prefix
    properties["worker_priority"] = spec.worker_priority
    if spec.build_only_if_requires:  # a property too, as in anybox.buildbot.odoo
        properties["build-only-if-requires"] = " ".join(sorted(spec.build_only_if_requires))
    kwargs: dict = {"properties": properties}
    if spec.max_builds is not None:
        kwargs["max_builds"] = spec.max_builds
    if spec.notify_on_missing:
        kwargs["notify_on_missing"] = list(spec.notify_on_missing)
    return Worker(spec.name, worker_password(spec), **kwargs)
