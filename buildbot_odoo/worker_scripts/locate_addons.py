"""Print the directory of each named Odoo addon, found in a config's ``addons_path``.

Sent to the worker by the ``static-analysis`` subfactory and run there with
the worker's Python: standard library only.  The addons a build tests are
named in the manifest (``odoo-addons``); where they live is only known once
the buildout has written the Odoo configuration file.  The first directory of
``addons_path`` holding ``NAME/__manifest__.py`` (or ``__openerp__.py``)
wins, as in Odoo.  Directories inside the current directory are printed
relative to it.

Usage: ``python3 locate_addons.py CONFIG ADDON...``; exit status 1 naming the
addons that are not found.
"""

from __future__ import annotations

import configparser
import os
import sys

MANIFESTS = ("__manifest__.py", "__openerp__.py")


def addons_path(config: str) -> list[str]:
    parser = configparser.RawConfigParser()
    if not parser.read(config):
        raise SystemExit(f"cannot read the Odoo configuration file {config!r}")
    value = parser.get("options", "addons_path", fallback="")
    return [p.strip() for p in value.split(",") if p.strip()]


def locate(name: str, directories: list[str]) -> str | None:
    for directory in directories:
        candidate = os.path.join(directory, name)
        if any(os.path.isfile(os.path.join(candidate, m)) for m in MANIFESTS):
            return candidate
    return None


def shown(path: str) -> str:
    relative = os.path.relpath(os.path.abspath(path))
    return path if relative.startswith("..") else relative


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    config, names = argv[0], argv[1:]
    directories = addons_path(config)
    found = {name: locate(name, directories) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        print(f"addons not found in the addons_path of {config} ({', '.join(directories)}): "
              f"{', '.join(missing)}", file=sys.stderr)
        return 1
    for path in found.values():
        print(shown(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
