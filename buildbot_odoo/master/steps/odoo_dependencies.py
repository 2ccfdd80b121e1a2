"""The steps that run the worker script ``odoo_dependencies.py`` (the addons' dependencies,
installed once per builder in a template database, copied for each build).

The script travels on the command's standard input (``python3 - COMMAND``), as
the bootstrap's does, and ends with one line ``odoo-dependencies: {json}``:
what it found and did.  :class:`OdooDependenciesStep` reads that line, sets
the build properties later steps render (:data:`PROPERTIES`), and, when the
script had Odoo install the dependencies, judges Odoo's log like the tests'
step does: a dependency that failed to install is named, with the first
error Odoo logged, apart from the addons' own test results.
"""

from __future__ import annotations

import json
from typing import Any

from buildbot.plugins import util
from buildbot.process import buildstep, logobserver
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS, worst_status
from twisted.internet import defer

from ...reports.addons_install import first_error_message
from .logs import finish_logs
from .odoo_tests import STDIO, OdooTestStep
from .pg_commands import watch_connections

#: the script's own lines start so; its last one carries the JSON outcome
PREFIX = "odoo-dependencies: "
#: outcome key -> build property
PROPERTIES = {
    "odoo_major": "odoo_major",
    "addons_path": "odoo_addons_path",
    "data_dir": "odoo_data_dir",
    "dependencies": "odoo_dependencies",
    "key": "odoo_dependencies_key",
    "template": "odoo_dependencies_template",
}
#: modules named in a summary before "+N more"
SHOWN = 4


class _OutcomeReader:
    """Keeps the script's outcome (the JSON of its last ``odoo-dependencies:`` line)."""

    def __init__(self) -> None:
        self.outcome: dict = {}

    def consume(self):
        while True:
            stream, line = yield
            if stream == "o" and line.startswith(PREFIX):
                try:
                    value = json.loads(line[len(PREFIX):])
                except ValueError:
                    continue
                if isinstance(value, dict):
                    self.outcome = value


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" +{len(names) - SHOWN} more" if len(names) > SHOWN else "")


class _InstallingDependencies(OdooTestStep):
    """An Odoo run installing the build's dependencies, judged as theirs, not the build's.

    The warnings Odoo logs while installing them do not count; an error record
    only warns when every dependency got installed; a failure names the module
    Odoo was installing and its first error.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fail_on_log_errors", False)
        super().__init__(store_test_results=False, **kwargs)

    def _log_result(self) -> int:
        result = super()._log_result()
        return SUCCESS if result == WARNINGS and not self.analyzer.error_records else result

    def failure_text(self, not_installed: dict[str, str]) -> str:
        first = self.analyzer.first_error
        if first is not None:
            module = f" {first[1]}" if first[1] else ""
            return (f"dependency{module} failed to install: "
                    f"{first_error_message(self.analyzer)}")
        if not_installed:
            return "dependencies not installed: " + ", ".join(
                f"{name} ({state})" for name, state in sorted(not_installed.items()))
        return ""


class DependenciesInstallStep(_InstallingDependencies):
    """``-i DEPENDENCIES`` into the testing database itself (no template)."""

    name = "install-dependencies"
    description = "installing dependencies"
    descriptionDone = "dependencies installed"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(addons=util.Property("odoo_dependencies"),
                         states_command=kwargs.pop("states_command", None), **kwargs)

    def getResultSummary(self) -> dict[str, str]:
        if self.results in (SUCCESS, WARNINGS) or self._early_end is not None:
            return super().getResultSummary()
        problems = {p.addon: p.reason for p in self._not_installed}
        return {"step": self.failure_text(problems) or super().getResultSummary()["step"]}


class OdooDependenciesStep(_InstallingDependencies):
    """``plan`` or ``prepare``: what the addons depend on, and the template made or reused.

    ``script`` is the text of ``odoo_dependencies.py``; ``command`` reads it from
    stdin.
    """

    name = "odoo-dependencies"
    description = "dependencies"
    descriptionDone = "dependencies"
    ignored_prefix = PREFIX

    def __init__(self, script: str, **kwargs: Any) -> None:
        super().__init__(initialStdin=script, **kwargs)
        self._reader = _OutcomeReader()
        self.addLogObserver(STDIO, logobserver.LineConsumerLogObserver(self._reader.consume))

    @property
    def outcome(self) -> dict:
        return self._reader.outcome

    @defer.inlineCallbacks
    def run(self):
        result = yield super().run()
        for key, prop in PROPERTIES.items():
            if key in self.outcome:
                self.setProperty(prop, self.outcome[key], self.name)
        if self.outcome.get("error") or self.outcome.get("template") == "failed":
            return FAILURE
        return result

    def getResultSummary(self) -> dict[str, str]:
        outcome = self.outcome
        if outcome.get("error"):
            return {"step": f"dependencies: {self.connection_failure() or outcome['error']}"}
        if not outcome or self._early_end is not None:  # Odoo died before it logged
            return super().getResultSummary()
        if outcome.get("template") == "failed":
            return {"step": self._failure()}
        text = self._done()
        if self.analyzer.error_records:
            text += f"; errors in the log: {first_error_message(self.analyzer)}"
        return {"step": text}

    def connection_failure(self) -> str | None:
        failure = next((w.failure for w in self._pg_connection if w.failure), None)
        return None if failure is None else str(failure)

    def _done(self) -> str:
        outcome = self.outcome
        modules = outcome.get("dependencies") or []
        what = f"{len(modules)} modules ({_names(modules)})" if modules else "no module"
        state = outcome.get("template")
        if state == "reused":
            text = f"template reused: {what}"
        elif state in ("made", "made again"):
            changed = outcome.get("changed") or []
            why = f" ({_names(changed)} changed)" if changed else ""
            text = f"template {state}{why}: {what} in {outcome.get('seconds', '?')} s"
        else:
            text = f"to install first: {what}" if modules else "no dependency to install"
        if outcome.get("odoo_major") is not None and outcome["odoo_major"] < 12:
            text += f"; Odoo {outcome['odoo_major']} has no --test-tags"
        return text

    def _failure(self) -> str:
        outcome = self.outcome
        return (self.failure_text(outcome.get("not_installed") or {})
                or f"dependencies failed to install (exit code {outcome.get('exit_code')})")


class DependenciesScriptStep(buildstep.ShellMixin, buildstep.BuildStep):
    """``copy`` or ``discard``: database work of the script, summed up in one line.

    ``done`` is the summary on success; on failure, ``failed`` (what could not
    be done, as the plain database steps say it) then the script's error, or
    the server that could not be reached.
    """

    renderables = ("done", "failed")

    def __init__(self, script: str, done: Any, failed: Any = None, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin({**kwargs, "initialStdin": script})
        super().__init__(**kwargs)
        self.done = done
        self.failed = failed
        self._reader = _OutcomeReader()
        self.addLogObserver(STDIO, logobserver.LineConsumerLogObserver(self._reader.consume))
        self.pg_connection = watch_connections(self)

    @defer.inlineCallbacks
    def run(self):
        cmd = yield self.makeRemoteShellCommand()
        yield self.runCommand(cmd)
        yield finish_logs(self)
        return worst_status(cmd.results(), SUCCESS)

    def getResultSummary(self) -> dict[str, str]:
        error = self._reader.outcome.get("error")
        if error:
            self.pg_connection.close()
            why = self.pg_connection.failure or str(error)
            return {"step": f"{self.failed or self.name}: {why}"}
        if self.results == SUCCESS:
            return {"step": self.done}
        return super().getResultSummary()
