"""The database a build tests its addons in: its dependencies installed once, then copied.

Sent to the worker on the standard input of the step that runs it (``python3 -
COMMAND ...``: no download step) and run with the worker's Python: standard
library only, Python >= 3.7.  What OCA's CI and Odoo's runbot do, as one
program: the addons a build names (``odoo-addons``) are tested in a database
where everything they depend on is already installed, without its tests; that
database is made once per builder (the *template*) and copied with
``CREATE DATABASE ... TEMPLATE`` for each build while nothing that decides its
content changed.

Commands (each prints, last, one line ``odoo-dependencies: {json}``, the
outcome the step reads; every line of its own starts ``odoo-dependencies:``):

``plan``
    Read the Odoo configuration file the buildout wrote (``addons_path``,
    ``data_dir``), find the build's addons and their dependencies in the
    addons path (the first directory holding a module wins, as in Odoo),
    tell the Odoo series (``release.py``: ``--test-tags`` exists from 12).
``prepare``
    ``plan``, then make sure the template is there for the plan's *key*:
    reused when the template's comment holds the same key, otherwise made in
    a database of its own (``--building``) from ``--db-template``: ODOO
    (the argv after ``--``) runs with ``-d BUILDING -i MODULES
    --stop-after-init --logfile=FILE`` and its log is copied to the standard
    output as it grows; every module must then be ``installed``; only then is
    the key written (``COMMENT ON DATABASE``), the old template dropped and
    the new one renamed into its place, marked ``IS_TEMPLATE`` and closed to
    connections (nothing can change it), its filestore moved beside it.  A
    build killed on the way leaves at most the building database, which the
    next ``prepare`` and the final ``discard`` drop.
``copy``
    The build's testing database: dropped, made from the template, its
    filestore copied (hard links:
    Odoo never rewrites a stored file, it writes a new one), outgoing mail
    servers deactivated.
``discard``
    The final clean-up: drop the testing and building databases and their
    filestores; drop the template when its key is not ``--key`` (the
    builder's key changed and the new template could not be made).  ``plan
    --drop-template NAME`` drops a template nobody wants any more.

What decides the template's content, hashed into the key (:func:`plan_key`):
the set of modules installed in it; the content of each one's directory and
of Odoo's own ``odoo`` (or ``openerp``) package outside its ``addons``; the
start script, whose ``sys.path`` names every egg with its version (and the
interpreter); the settings of the configuration file that are not
connections, ports, paths or logs; demo data on or off; ``--db-template``.
File digests are cached by path, size, modification time and inode
(``--cache``) so that an unchanged tree is not read again.

Modules in the template (:func:`template_modules`): the dependencies of the
addons, closed under ``depends`` and under ``auto_install`` (Odoo installs a
module whose triggers are all installed), without the addons themselves,
anything that depends on one of them, and anything missing from the addons
path, not installable, or depending on such a module: those are left to the
test run, where Odoo says what is wrong with them.  ``base`` is always in.

Database names come from the master, already safe (``[a-z0-9_-]``, not
starting with ``-``); they are checked again and reach SQL only as psql
variables (``:"name"``, ``:'text'``), which psql quotes.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

PREFIX = "odoo-dependencies: "
MANIFESTS = ("__manifest__.py", "__openerp__.py")
#: Odoo module names: what Odoo's own addons use, and never an option
MODULE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
DB_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
#: bump when the key's meaning changes: templates keyed the old way are made again
KEY_SCHEME = 1
COMMENT_PREFIX = "buildbot-odoo dependencies "
SKIPPED_NAMES = ("__pycache__", ".git", ".hg", ".bzr", ".svn")
SKIPPED_SUFFIXES = (".pyc", ".pyo")
#: configuration keys that change nothing in the database Odoo makes
VOLATILE_SETTINGS = re.compile(
    r"^(db_\w+|pg_path|addons_path|data_dir|logfile|log_\w+|syslog|pidfile|\w*_port|"
    r"\w*interface|admin_passwd|smtp_\w+|email_from|proxy_mode|workers|max_cron_threads|"
    r"limit_\w+|osv_memory_\w+|dbfilter|list_db|server_wide_modules|test_\w+|"
    r"screencasts|screenshots|geoip_\w+|http_enable|gevent_port|longpolling_port)$")
#: the statement of ``master/subfactories/database.py``'s ``disable-outgoing-mail`` step:
#: this script is sent alone to the worker and imports nothing of the package, so it
#: has its own copy (a unit test keeps the two equal)
DISABLE_MAIL_SQL = """\
DO $$
BEGIN
  IF to_regclass('ir_mail_server') IS NOT NULL THEN
    UPDATE ir_mail_server SET active = false;
  END IF;
  IF to_regclass('fetchmail_server') IS NOT NULL THEN
    UPDATE fetchmail_server SET active = false;
  END IF;
END
$$;
"""
#: seconds between two reads of the growing Odoo log
TAIL_INTERVAL = 0.25


class Failure(Exception):
    """Something the step must report in one line, then stop."""


# --------------------------------------------------------------------------
# the Odoo tree, as the configuration file describes it


def read_config(path: str) -> dict:
    """The ``[options]`` of an Odoo configuration file."""
    parser = configparser.RawConfigParser()
    try:
        if not parser.read(path):
            raise Failure(f"no Odoo configuration file {path} (did the buildout make it?)")
    except configparser.Error as exc:
        raise Failure(f"cannot read the Odoo configuration file {path}: {exc}") from None
    if not parser.has_section("options"):
        raise Failure(f"the Odoo configuration file {path} has no [options] section")
    return dict(parser.items("options"))


def addons_path(options: dict, base: str) -> list:
    """The addons directories, absolute, in Odoo's order."""
    entries = [p.strip() for p in options.get("addons_path", "").split(",") if p.strip()]
    return [os.path.normpath(os.path.join(base, p)) for p in entries]


def default_data_dir() -> str:
    """Odoo's own default (``odoo/tools/config.py``, ``_get_default_datadir``: appdirs'
    ``user_data_dir('Odoo')`` on Linux, ``/var/lib/odoo`` without a home directory)."""
    home = os.path.expanduser("~")
    if not os.path.isdir(home):
        return "/var/lib/odoo"
    share = os.environ.get("XDG_DATA_HOME", os.path.join(home, ".local", "share"))
    return os.path.join(share, "Odoo")


def data_dir(options: dict, base: str) -> str:
    value = options.get("data_dir", "").strip()
    if not value or value in ("False", "None"):
        return default_data_dir()
    return os.path.normpath(os.path.join(base, os.path.expanduser(value)))


def find_modules(directories: list) -> dict:
    """``{name: (directory, manifest file)}``, the first directory holding a module winning."""
    found = {}
    for directory in directories:
        try:
            children = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in children:
            if name in found or not MODULE_NAME.match(name):
                continue  # taken already, or no name Odoo imports a module by
            for manifest in MANIFESTS:
                path = os.path.join(directory, name, manifest)
                if os.path.isfile(path):
                    found[name] = (os.path.join(directory, name), path)
                    break
    return found


def read_manifest(path: str) -> dict:
    """A manifest is a Python literal; Odoo reads it with ``ast.literal_eval`` too."""
    try:
        with open(path, encoding="utf-8") as stream:
            value = ast.literal_eval(stream.read())
    except (OSError, ValueError, SyntaxError, UnicodeDecodeError):
        return {"installable": False, "broken": True}
    return value if isinstance(value, dict) else {"installable": False, "broken": True}


class Module:
    """What the closure needs of one manifest."""

    def __init__(self, name: str, directory: str, manifest: dict):
        self.name = name
        self.directory = directory
        depends = manifest.get("depends") or []
        self.depends = [d for d in depends if isinstance(d, str)]
        self.installable = bool(manifest.get("installable", True))
        auto = manifest.get("auto_install", False)
        if isinstance(auto, (list, tuple, set)):
            self.auto_install = set(auto)  # the triggers: a subset of depends
        else:
            self.auto_install = set(self.depends) if auto else None


def load_modules(found: dict) -> dict:
    return {name: Module(name, directory, read_manifest(manifest))
            for name, (directory, manifest) in found.items()}


def odoo_package(directories: list) -> str | None:
    """Odoo's own package (``<tree>/odoo`` or ``<tree>/openerp``): the parent of the
    addons directory that sits inside it, beside ``release.py``."""
    for directory in directories:
        parent = os.path.dirname(directory)
        if (os.path.basename(directory) == "addons"
                and os.path.isfile(os.path.join(parent, "release.py"))):
            return parent
    return None


def odoo_major(package: str | None) -> int | None:
    """The major version ``release.py`` declares (``saas~17.1`` reads 17)."""
    if package is None:
        return None
    try:
        with open(os.path.join(package, "release.py"), encoding="utf-8") as stream:
            text = stream.read()
    except OSError:
        return None
    match = re.search(r"^version_info\s*=\s*\(\s*['\"]?(?:saas~)?(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------
# which modules go into the template


def closure(names, modules: dict) -> set:
    """``names`` and everything they depend on (names missing from ``modules`` included)."""
    seen = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        module = modules.get(name)
        if module is not None:
            stack.extend(module.depends)
    return seen


def _unusable(modules: dict) -> set:
    """Modules Odoo cannot install: missing, not installable, or depending on such."""
    bad = set()
    for name in modules:
        for dep in closure([name], modules):
            module = modules.get(dep)
            if module is None or not module.installable:
                bad.add(name)
                break
    return bad


def template_modules(addons: list, modules: dict) -> list:
    """The modules to install in the template, sorted (see the module's docstring)."""
    wanted = set(addons)
    unusable = _unusable(modules)

    def allowed(name: str) -> bool:
        return (name in modules and name not in unusable
                and not (closure([name], modules) & wanted))

    chosen = {n for n in closure(addons, modules) if allowed(n)}
    chosen |= {n for n in closure(["base"], modules) if allowed(n)}
    while True:  # auto_install, until nothing more triggers
        more = {name for name, module in modules.items()
                if name not in chosen and module.auto_install is not None
                and module.auto_install <= chosen and allowed(name)}
        if not more:
            break
        chosen |= {n for n in closure(sorted(more), modules) if allowed(n)}
    return sorted(chosen)


# --------------------------------------------------------------------------
# the key


class DigestCache:
    """File digests by path, valid while size, modification time and inode stay."""

    def __init__(self, path: str | None):
        self.path = path
        self.old = {}
        self.new = {}
        if path:
            try:
                with open(path, encoding="utf-8") as stream:
                    self.old = json.load(stream)
            except (OSError, ValueError):
                self.old = {}
        if not isinstance(self.old, dict):
            self.old = {}

    def digest(self, path: str, stat: os.stat_result) -> str:
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        known = self.old.get(path)
        if isinstance(known, list) and known[:3] == signature and len(known) == 4:
            value = known[3]
        else:
            sha = hashlib.sha256()
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    sha.update(block)
            value = sha.hexdigest()
        self.new[path] = [*signature, value]
        return value

    def save(self) -> None:
        """Keep what this run used (the cache never grows with old trees)."""
        if not self.path:
            return
        temporary = f"{self.path}.{os.getpid()}"
        try:
            with open(temporary, "w", encoding="utf-8") as stream:
                json.dump(self.new, stream)
            os.replace(temporary, self.path)
        except OSError:
            pass  # a cache: the next run reads the files again


def tree_digest(root: str, cache: DigestCache, skip: tuple = ()) -> str:
    """Digest of the names and contents of the files under ``root`` (``skip``: top-level
    names left out); links are digested as the text they point to."""
    sha = hashlib.sha256()
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES
                         and not (directory == root and d in skip))
        for name in sorted(files):
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            try:
                stat = os.lstat(path)
                if os.path.islink(path):
                    value = "link:" + os.readlink(path)
                else:
                    value = cache.digest(path, stat)
            except OSError as exc:
                value = f"unreadable:{exc.errno}"
            sha.update(f"{relative}\0{value}\n".encode("utf-8", "surrogateescape"))
    return sha.hexdigest()


def file_digest(path: str) -> str:
    try:
        with open(path, "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError:
        return "missing"


def settings_digest(options: dict, without_demo: bool, db_template: str) -> str:
    kept = sorted((k, v) for k, v in options.items() if not VOLATILE_SETTINGS.match(k))
    text = json.dumps({"settings": kept, "without_demo": without_demo,
                       "db_template": db_template}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_key(parts: dict) -> str:
    text = json.dumps({"scheme": KEY_SCHEME, **parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def key_parts(template: list, modules: dict, package: str | None, script: str,
              options: dict, args, cache: DigestCache) -> dict:
    """What decides the template, each part digested (short: it is shown to users)."""
    parts = {"modules": ",".join(template), "data_dir": data_dir(options, os.getcwd()),
             "odoo": tree_digest(package, cache, skip=("addons",))[:16] if package else "-",
             "eggs": file_digest(script)[:16],
             "settings": settings_digest(options, args.without_demo, args.db_template)[:16]}
    for name in template:
        parts["module " + name] = tree_digest(modules[name].directory, cache)[:16]
    return parts


def changes(old: dict, new: dict) -> list:
    """The parts that differ, named for a summary (``web``, ``eggs``...)."""
    names = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return [k.split(" ", 1)[1] if k.startswith("module ") else k for k in names]


# --------------------------------------------------------------------------
# PostgreSQL, through psql


def checked_db_name(name: str) -> str:
    if not DB_NAME.match(name or ""):
        raise Failure(f"unsafe database name {name!r}")
    return name


def psql(sql: str, database: str = "postgres", **variables: str) -> list:
    """Run ``sql`` (psql variables quoted by psql itself); the rows, fields split on |."""
    command = ["psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
               "-d", checked_db_name(database)]
    for name, value in sorted(variables.items()):
        command += ["-v", f"{name}={value}"]
    command += ["-f", "-"]
    try:
        done = subprocess.run(command, input=sql, capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        raise Failure("psql not found on PATH (the postgresql capability's bin option "
                      "names where it is)") from None
    if done.returncode != 0:
        sys.stderr.write(done.stderr)  # libpq's own words, whole, in the step's log
        raise Failure("psql: " + psql_error(done.stderr, done.returncode))
    return [line.split("|", 1) for line in done.stdout.splitlines() if line]


def psql_error(stderr: str, returncode: int) -> str:
    """psql's error line (``ERROR:``, ``FATAL:``; not the ``LINE 1:`` and caret after it)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"\b(ERROR|FATAL|PANIC):|\berror: ", line):
            return line
    return lines[-1] if lines else f"exit {returncode}"


#: psql sets ``force`` when the server has ``DROP DATABASE ... WITH (FORCE)`` (13+), so that
#: sessions a lost build left open (its Odoo still running) cannot block a drop
FORCE_TEST = "SELECT current_setting('server_version_num')::int >= 130000 AS force \\gset\n"


def drop_sql(variable: str, template: bool = False) -> str:
    """psql script dropping the database named by the psql variable ``variable``
    (a template must first stop being one: PostgreSQL refuses to drop a template)."""
    sql = ""
    if template:
        sql += (f"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'{variable}') "
                "AS found \\gset\n\\if :found\n"
                f"ALTER DATABASE :\"{variable}\" IS_TEMPLATE false;\n\\endif\n")
    return sql + (f"\\if :force\nDROP DATABASE IF EXISTS :\"{variable}\" WITH (FORCE);\n"
                  f"\\else\nDROP DATABASE IF EXISTS :\"{variable}\";\n\\endif\n")


def create_sql(variable: str, source: str) -> str:
    return f"CREATE DATABASE :\"{variable}\" TEMPLATE :\"{source}\";\n"


def database_info(name: str) -> dict | None:
    rows = psql("SELECT datistemplate, coalesce(shobj_description(oid, 'pg_database'), '') "
                "FROM pg_database WHERE datname = :'name';", name=name)
    if not rows:
        return None
    comment = rows[0][1] if len(rows[0]) > 1 else ""
    return {"is_template": rows[0][0] == "t", "comment": comment}


def comment_parts(comment: str) -> dict | None:
    if not comment.startswith(COMMENT_PREFIX):
        return None
    try:
        value = json.loads(comment[len(COMMENT_PREFIX):])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def disable_mail_sql(variable: str) -> str:
    """psql script connecting to the database just made (named by the psql variable
    ``variable``) and deactivating its mail servers: in the session that made it, one
    psql less per build."""
    return f"\\connect :\"{variable}\"\n" + DISABLE_MAIL_SQL


def module_states(name: str, wanted: list) -> dict:
    """The states Odoo left; ``unknown`` for modules without a row (or no Odoo at all)."""
    rows = psql("SELECT to_regclass('ir_module_module') IS NOT NULL AS odoo \\gset\n"
                "\\if :odoo\nSELECT name, state FROM ir_module_module;\n\\endif\n",
                database=name)
    states = {row[0]: row[1] for row in rows if len(row) == 2}
    return {module: states.get(module, "unknown") for module in wanted}


# --------------------------------------------------------------------------
# filestores


def filestore(data: str, database: str) -> str:
    return os.path.join(data, "filestore", checked_db_name(database))


def remove_tree(path: str) -> None:
    if os.path.islink(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def copy_filestore(data: str, source: str, destination: str) -> None:
    target = filestore(data, destination)
    remove_tree(target)
    origin = filestore(data, source)
    if os.path.isdir(origin):
        shutil.copytree(origin, target, copy_function=link_or_copy, symlinks=True)


# --------------------------------------------------------------------------
# running Odoo


def install(odoo: list, building: str, template: list, logfile: str,
            without_demo: bool) -> int:
    """Odoo installs the template's modules, its log copied to stdout as it grows."""
    for name in template:
        if not MODULE_NAME.match(name):
            raise Failure(f"unsafe module name {name!r}")
    command = [*odoo, "-d", building, "-i", ",".join(template), "--stop-after-init",
               "--no-http", f"--logfile={logfile}"]
    if without_demo:
        command.append("--without-demo=all")
    if os.path.exists(logfile):
        os.unlink(logfile)
    say(f"installing {len(template)} modules in {building}: {' '.join(command)}")
    sys.stdout.flush()
    try:
        process = subprocess.Popen(command)
    except OSError as exc:
        raise Failure(f"{odoo[0]}: {exc.strerror}") from None
    position = 0
    while True:
        finished = process.poll() is not None
        position = _copy_new(logfile, position)
        if finished:
            return process.returncode
        time.sleep(TAIL_INTERVAL)


def _copy_new(path: str, position: int) -> int:
    try:
        with open(path, "rb") as stream:
            stream.seek(position)
            data = stream.read()
    except OSError:
        return position
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return position + len(data)


# --------------------------------------------------------------------------
# commands


def say(text: str) -> None:
    print(PREFIX + text, file=sys.stderr, flush=True)


def result(outcome: dict) -> None:
    sys.stdout.flush()
    print(PREFIX + json.dumps(outcome, sort_keys=True), flush=True)


def plan(args) -> dict:
    base = os.getcwd()
    options = read_config(args.config)
    directories = addons_path(options, base)
    modules = load_modules(find_modules(directories))
    package = odoo_package(directories)
    major = odoo_major(package)
    addons = [a for a in args.addons.split(",") if a]
    for name in addons:
        if not MODULE_NAME.match(name):
            raise Failure(f"odoo-addons names {name!r}, which is not an Odoo module name")
    template = template_modules(addons, modules)
    outcome = {
        "addons_path": directories,
        "data_dir": data_dir(options, base),
        "dependencies": template,
        "missing": [a for a in addons if a not in modules],
        "not_installable": [a for a in addons if a in modules and not modules[a].installable],
        "odoo_major": major,
        "test_tags": (",".join(f"/{a}" for a in addons)
                      if major is not None and major >= 12 else ""),
    }
    if args.drop_template:  # reuse turned off: a template left from before is not trusted
        psql(FORCE_TEST + drop_sql("template", template=True),
             template=checked_db_name(args.drop_template))
        remove_tree(filestore(outcome["data_dir"], args.drop_template))
    if args.template:
        cache = DigestCache(args.cache)
        parts = key_parts(template, modules, package, args.script, options, args, cache)
        cache.save()
        outcome["parts"] = parts
        outcome["key"] = plan_key(parts)
    return outcome


def prepare(args) -> dict:
    started = time.monotonic()
    outcome = plan(args)
    template, building = checked_db_name(args.template), checked_db_name(args.building)
    info = database_info(template)
    old = comment_parts(info["comment"]) if info else None
    lost_files = (old is not None and old.get("filestore")
                  and not os.path.isdir(filestore(outcome["data_dir"], template)))
    if info is not None and old is not None and old.get("key") == outcome["key"]:
        if not lost_files:
            outcome["template"] = "reused"
            return outcome
        outcome["changed"] = ["filestore"]
    else:
        outcome["changed"] = changes(old.get("parts", {}), outcome["parts"]) if old else []
    outcome["template"] = "made" if info is None else "made again"
    remove_tree(filestore(outcome["data_dir"], building))
    psql(FORCE_TEST + drop_sql("building") + create_sql("building", "source")
         + disable_mail_sql("building"), building=building,
         source=checked_db_name(args.db_template))
    modules = outcome["dependencies"]
    rc = 0
    if modules:  # none: the template is db_template as it is
        rc = install(args.odoo, building, modules, os.path.abspath(args.logfile),
                     args.without_demo)
    outcome["exit_code"] = rc
    states = module_states(building, modules) if rc == 0 else {}
    outcome["not_installed"] = {m: s for m, s in states.items() if s != "installed"}
    if rc != 0 or outcome["not_installed"]:
        outcome["template"] = "failed"
        return outcome
    source = filestore(outcome["data_dir"], building)
    comment = COMMENT_PREFIX + json.dumps(
        {"key": outcome["key"], "parts": outcome["parts"], "filestore": os.path.isdir(source)},
        sort_keys=True)
    psql(FORCE_TEST + "COMMENT ON DATABASE :\"building\" IS :'comment';\n"
         + drop_sql("template", template=True)
         + "ALTER DATABASE :\"building\" RENAME TO :\"template\";\n"
         "ALTER DATABASE :\"template\" IS_TEMPLATE true ALLOW_CONNECTIONS false;\n",
         building=building, template=template, comment=comment)
    remove_tree(filestore(outcome["data_dir"], template))
    if os.path.isdir(source):
        os.rename(source, filestore(outcome["data_dir"], template))
    outcome["seconds"] = round(time.monotonic() - started, 1)
    return outcome


def copy(args) -> dict:
    testing, source = checked_db_name(args.testing), checked_db_name(args.template)
    psql(FORCE_TEST + drop_sql("testing") + create_sql("testing", "template")
         + disable_mail_sql("testing"), testing=testing, template=source)
    copy_filestore(args.data_dir, source, testing)
    return {"testing": testing, "source": source}


def discard(args) -> dict:
    names = {"testing": args.testing, "building": args.building}
    names = {variable: checked_db_name(name) for variable, name in names.items() if name}
    if args.template and args.key:
        info = database_info(checked_db_name(args.template))
        old = comment_parts(info["comment"]) if info else None
        if info is not None and (old is None or old.get("key") != args.key):
            names["template"] = args.template  # stale: the new one could not be made
    if not names:
        return {"dropped": []}
    psql(FORCE_TEST + "".join(drop_sql(v, template=v == "template") for v in names), **names)
    if args.data_dir:
        for name in names.values():
            remove_tree(filestore(args.data_dir, name))
    return {"dropped": sorted(names.values())}


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="odoo_dependencies.py")
    commands = main.add_subparsers(dest="command", required=True)
    for name in ("plan", "prepare"):
        sub = commands.add_parser(name)
        sub.add_argument("--config", required=True)
        sub.add_argument("--addons", required=True)
        sub.add_argument("--script", default="")
        sub.add_argument("--template", default="")
        sub.add_argument("--building", default="")
        sub.add_argument("--db-template", default="template1")
        sub.add_argument("--without-demo", action="store_true")
        sub.add_argument("--cache", default="")
        sub.add_argument("--logfile", default="odoo-dependencies.log")
        sub.add_argument("--drop-template", default="")
        sub.add_argument("odoo", nargs="*")
    sub = commands.add_parser("copy")
    sub.add_argument("--testing", required=True)
    sub.add_argument("--template", required=True)
    sub.add_argument("--data-dir", required=True)
    sub = commands.add_parser("discard")
    sub.add_argument("--testing", default="")
    sub.add_argument("--building", default="")
    sub.add_argument("--template", default="")
    sub.add_argument("--key", default="")
    sub.add_argument("--data-dir", default="")
    return main


COMMANDS = {"plan": plan, "prepare": prepare, "copy": copy, "discard": discard}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.command == "prepare" and not (args.template and args.building and args.odoo):
        print("prepare needs --template, --building and the Odoo command after --",
              file=sys.stderr)
        return 2
    try:
        outcome = COMMANDS[args.command](args)
    except Failure as exc:
        result({"error": str(exc)})
        return 1
    result(outcome)
    return 1 if outcome.get("template") == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
