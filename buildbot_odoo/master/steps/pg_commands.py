"""PostgreSQL client commands whose summary names the server they could not reach.

``createdb``, ``dropdb``, ``psql`` or a copy script failing on an unreachable
server end with "exit code 2" in Buildbot's summary; libpq said which host and
port and why, in the step's log.  :class:`PgCommand` is Buildbot's
``ShellCommand`` with a log observer feeding
:class:`~buildbot_odoo.reports.pg_connection.PgConnectionWatcher`: when it
fails after such a message, its summary is libpq's, with the host and port.
"""

from __future__ import annotations

from collections.abc import Generator

from buildbot.process import logobserver
from buildbot.process.results import SKIPPED, SUCCESS
from buildbot.steps.shell import ShellCommand

from ...reports.pg_connection import PgConnectionWatcher

STDIO = "stdio"


def watch_connections(step, logname: str = STDIO) -> PgConnectionWatcher:
    """A watcher fed every output line of ``step``'s log ``logname`` (not its header)."""
    watcher = PgConnectionWatcher()

    def consume() -> Generator[None, tuple[str, str], None]:
        try:
            while True:
                stream, line = yield
                if stream != "h":
                    watcher.feed_line(line)
        finally:
            watcher.close()

    step.addLogObserver(logname, logobserver.LineConsumerLogObserver(consume))
    return watcher


class PgCommand(ShellCommand):
    """``ShellCommand`` whose failure summary names an unreachable PostgreSQL server."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pg_connection = watch_connections(self)

    def connection_failure(self) -> str | None:
        """libpq's reason, with the server, when the step failed after one."""
        if self.results in (None, SUCCESS, SKIPPED):
            return None
        self.pg_connection.close()
        failure = self.pg_connection.failure
        return None if failure is None else str(failure)

    def getResultSummary(self):
        failure = self.connection_failure()
        if failure is not None:
            return {"step": f"{self.name}: {failure}"}
        return super().getResultSummary()
