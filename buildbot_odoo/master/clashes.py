"""Names our objects share with what the user's BuildmasterConfig already holds.

Buildbot refuses a configuration with two workers, builders, schedulers or
change sources of one name, or two builders with one directory, but its
message names neither file nor line.  ``populate`` appends to the user's
lists, so it checks first and locates the clash on our side: the workers.cfg
or manifest section to rename, or master.cfg.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import Problem
from ..planning import Plan, builder_directory
from ..watching.plan import MASTER_CFG

#: config key -> what one of its items is called in messages
KINDS = {"workers": "worker", "builders": "builder", "schedulers": "scheduler",
         "change_source": "change source"}
SECOND_CONFIGURATOR = ("a second configurator? give one configurator every manifest: "
                       "manifest_paths takes several")


def _name(key: str, item: object) -> str | None:
    if isinstance(item, Mapping):  # Buildbot accepts builders as dicts
        name = item.get("name")
    else:
        name = getattr(item, "workername" if key == "workers" else "name", None)
    return name if isinstance(name, str) else None


def _builddir(item: object) -> str | None:
    name = _name("builders", item)
    builddir = item.get("builddir") if isinstance(item, Mapping) else getattr(
        item, "builddir", None)
    if isinstance(builddir, str):
        return builddir
    return builder_directory(name) if name else None


def _existing(config: Mapping, key: str) -> list:
    value = config.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def clashes(config: Mapping, made: Mapping[str, Iterable], plan: Plan) -> list[Problem]:
    """Problems for each object of ``made`` whose name (or builder directory) is taken."""
    problems: list[Problem] = []
    for key, objects in made.items():
        taken = {n for n in (_name(key, item) for item in _existing(config, key)) if n}
        directories = _directories(config) if key == "builders" else {}
        for item in objects:
            name = _name(key, item)
            if name in taken:
                problems.append(_name_taken(key, name, plan))
            elif key == "builders" and builder_directory(name) in directories:
                directory = builder_directory(name)
                problems.append(Problem(
                    f"builder {name!r} would share the directory {directory!r} with builder "
                    f"{directories[directory]!r} of c['builders'] ({MASTER_CFG})",
                    **_builder_location(plan, name)))  # type: ignore[arg-type]
    return problems


def _directories(config: Mapping) -> dict[str, str]:
    """The user's builders by directory."""
    found: dict[str, str] = {}
    for item in _existing(config, "builders"):
        name, builddir = _name("builders", item), _builddir(item)
        if name and builddir:
            found.setdefault(builddir, name)
    return found


def _builder_location(plan: Plan, name: str) -> dict[str, object]:
    return next(b.build.location() for b in plan.dispatch.builders if b.name == name)


def _name_taken(key: str, name: str, plan: Plan) -> Problem:
    kind = KINDS[key]
    message = f"{kind} name {name!r} is already used by a {kind} in c[{key!r}]"
    where: dict[str, object] | None = None
    if key == "workers":
        spec = next(w for w in plan.workers if w.name == name)
        where = {"file": spec.file, "line": spec.line, "section": name}
    elif key == "builders":
        where = _builder_location(plan, name)
    elif key == "schedulers":
        build = next((s.build for s in plan.watch.schedules if s.scheduler_name == name), None)
        spec = next((b for b in plan.builds if b.name == build), None)
        where = spec.location() if spec is not None else None
    if where is None:  # the force scheduler, a poller: made for the whole configuration
        return Problem(f"{message} ({SECOND_CONFIGURATOR})", file=MASTER_CFG)
    return Problem(f"{message} ({MASTER_CFG})", **where)  # type: ignore[arg-type]
