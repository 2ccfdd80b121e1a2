"""The steps after retrieval and capability resolution, in SPEC 6's order.

``BuildoutsConfigurator.build_steps`` delegates here:

1. ``testing_db`` property (unless postgresql is ``not-used``);
2. bootstrap and buildout;
3. auto-watch introspection, when the build asks for it;
4. ``db-steps`` (unless postgresql is ``not-used``);
5. the HTTP port reservation, when the build reserves one (``odoo.use-port``,
   or a subfactory serving HTTP itself, see :mod:`.subfactories.ports`);
6. the ``post-buildout-steps`` subfactories, from the configurator's registry;
7. the final clean-ups of every subfactory used, last one first, which run
   whatever happened before (they carry ``alwaysRun``).

Everything is resolved when the master reads its configuration: an unknown
subfactory name is a :class:`~buildbot_odoo.errors.ConfigError` naming the
manifest option, never a build that breaks later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..config.manifest import DEFAULT_POST_BUILDOUT_STEPS
from .steps.autowatch import auto_watch_steps
from .subfactories.base import BuildOptions
from .subfactories.bootstrap import bootstrap_steps, buildout_steps, uses_postgresql
from .subfactories.database import DB_SUBFACTORIES, testing_db_steps
from .subfactories.dependencies import template_create, uses_template
from .subfactories.manifest_values import config_error
from .subfactories.ports import reserve_http_port, reserves_port


def post_buildout_subfactories(configurator, options: BuildOptions) -> list[Callable]:
    """The build's ``post-buildout-steps``, looked up in ``configurator.post_buildout_steps``."""
    registry = configurator.post_buildout_steps
    found = []
    for name in options.build.post_buildout_steps:
        if name not in registry:
            known = ", ".join(sorted(registry)) or "none"
            config_error(options, "post-buildout-steps",
                         f"no subfactory {name!r} is registered in the configurator's "
                         f"post_buildout_steps (registered: {known})")
        found.append(registry[name])
    _refuse_database_steps_without_database(options, found)
    return found


def _refuse_database_steps_without_database(options: BuildOptions, found: list[Callable]) -> None:
    """``postgresql not-used`` makes no testing database: nothing may run Odoo on it."""
    if uses_postgresql(options):
        return
    needing = [name for name, sub in zip(options.build.post_buildout_steps, found, strict=True)
               if getattr(sub, "needs_database", False)]
    if needing:
        verb = "runs" if len(needing) == 1 else "run"
        default = DEFAULT_POST_BUILDOUT_STEPS[0]
        config_error(options, "post-buildout-steps",
                     f"{', '.join(dict.fromkeys(needing))} {verb} Odoo on the testing "
                     "database, and build-for says postgresql not-used (no database is "
                     f"made): list only steps that need no database (the default, {default}, "
                     "needs one), or build for postgresql")


def build_steps(configurator, options: BuildOptions, buildout_path: str, environ) -> list:
    """Every step after the capability properties, clean-ups last."""
    post_buildout = post_buildout_subfactories(configurator, options)
    db_subfactory = db_steps_subfactory(options)
    made = testing_db_steps(options) if db_subfactory else []
    made += bootstrap_steps(configurator, options, buildout_path, environ)
    made += buildout_steps(configurator, options, buildout_path, environ)
    if options.build.auto_watch:
        made += auto_watch_steps(configurator, options, buildout_path, environ)
    used = [configurator.post_dl_steps[name] for name in options.build.post_dl_steps]
    if db_subfactory is not None:
        made += db_subfactory(configurator, options, buildout_path, environ)
        used.append(db_subfactory)
    if reserves_port(configurator, options):
        made += reserve_http_port(configurator, options, buildout_path, environ)
        used.append(reserve_http_port)
    for subfactory in post_buildout:
        made += subfactory(configurator, options, buildout_path, environ)
        used.append(subfactory)
    made += final_cleanup_steps(configurator, options, environ, used)
    return made


def db_steps_subfactory(options: BuildOptions) -> Callable | None:
    """The build's ``db-steps``; ``simple_create`` copies the builder's dependencies
    template when the build tests only its addons (:mod:`.subfactories.dependencies`)."""
    if not uses_postgresql(options):
        return None
    if uses_template(options):
        return template_create
    return DB_SUBFACTORIES[options.build.db_steps]


def final_cleanup_steps(configurator, options: BuildOptions, environ,
                        subfactories: Iterable[Callable]) -> list:
    """Each subfactory's ``final_cleanup_steps``, in the reverse order of their use.

    A subfactory used twice (e.g. listed twice) cleans up once.
    """
    made: list = []
    seen: set[Callable] = set()
    for subfactory in reversed(list(subfactories)):
        cleanup = getattr(subfactory, "final_cleanup_steps", None)
        if cleanup is None or cleanup in seen:
            continue
        seen.add(cleanup)
        made += cleanup(configurator, options, environ)
    return made
