"""List the VCS branches a buildout follows, for the master's auto-watch.

Sent to the worker by the auto-watch steps and run after ``bin/buildout`` with
the Python of the build's virtualenv, which has zc.buildout.  zc.buildout
itself resolves the ``[buildout]`` section (``extends``, ``${...}``, the
command line's ``section:option=value`` assignments, exactly as
``bin/buildout`` saw them, offline) and parses its record of what it
installed (``.installed.cfg``), where the Odoo part's options are stored with
every substitution done.  Its ``version`` and ``addons`` options are read the
anybox.recipe.odoo way::

    version = git https://github.com/odoo/odoo.git odoo 17.0
    addons = git https://github.com/OCA/web.git parts/web 17.0 [OPTION=VALUE ...]
             hg https://hg.example.org/addons addons-hg default
             local custom-addons

A source follows a branch when its revision is a branch of the checkout the
buildout made (``DEST`` under the buildout or its parts directory); a tag or
a commit pins it (listed under ``fixed``, not watched).  Without a checkout
to ask, a hexadecimal revision counts as pinned, anything else as a branch.

Usage::

    python dump_watch.py --build NAME --buildout TEXT --part PART --output FILE \\
        -c CONF [SECTION:OPTION=VALUE ...]

Writes the JSON document described in ``buildbot_odoo/watching/files.py``.
Standard library and zc.buildout only: it runs on the worker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

FORMAT = 1
VCS_OPTIONS = ("version", "addons")
_SPACE_MARKER = re.compile(r"%\(__buildout_space(?:_[a-z])?__\)s")
_HEX = {"git": re.compile(r"^[0-9a-fA-F]{7,40}$"), "hg": re.compile(r"^[0-9a-fA-F]{12,40}$")}


def parse_assignment(text: str) -> tuple[str, str, str]:
    """``section:option=value`` as zc.buildout's command line reads it."""
    head, sep, value = text.partition("=")
    section, colon, option = head.partition(":")
    if not sep or not colon or not section.strip() or not option.strip():
        raise SystemExit(f"not a SECTION:OPTION=VALUE assignment: {text!r}")
    return section.strip(), option.strip(), value.strip()


def part_options(conf: str, part: str, assignments: list[str]) -> dict[str, str]:
    """The part's options as ``bin/buildout -c CONF ...`` installed them.

    zc.buildout resolves the ``[buildout]`` section the way ``bin/buildout``
    did (same file, same assignments, offline) to find the buildout's
    directories and its record of installed parts (``.installed.cfg``, option
    ``installed``), which holds every option of each installed part with all
    substitutions done.  Reading that record, with zc.buildout's own parser,
    needs no recipe to be loaded: the script sees what was checked out.
    """
    try:
        import zc.buildout.configparser
        from zc.buildout.buildout import Buildout
    except ImportError:
        raise SystemExit(f"zc.buildout is not importable by {sys.executable}: run this "
                         "script with the Python of the buildout's virtualenv") from None
    options = [parse_assignment(a) for a in assignments]
    options.append(("buildout", "offline", "true"))
    settings = Buildout(os.path.abspath(conf), options)["buildout"]
    record = settings["installed"]
    if not record or not os.path.isfile(record):
        raise SystemExit(f"no record of installed parts ({record!r}): did bin/buildout run?")
    with open(record, encoding="utf-8") as stream:
        installed = zc.buildout.configparser.parse(stream, record)
    if part not in installed:
        raise SystemExit(f"part [{part}] is not installed by this buildout (buildout-part); "
                         f"installed: {', '.join(sorted(installed)) or 'none'}")
    section = installed[part]
    return {"directory": settings["directory"], "parts-directory": settings["parts-directory"],
            **{name: _unspace(section.get(name, "")) for name in VCS_OPTIONS}}


def _unspace(value: str) -> str:
    """zc.buildout records leading and trailing white space as ``%(__buildout_space…)s``."""
    return _SPACE_MARKER.sub(" ", value)


def vcs_lines(option: str, text: str) -> list[dict]:
    """The VCS lines of a ``version`` or ``addons`` option, as dicts."""
    found = []
    for line in text.splitlines():
        tokens = [t for t in line.split() if "=" not in t]
        if len(tokens) < 3 or tokens[0] not in ("git", "hg", "bzr", "svn"):
            continue  # local directories, released versions, nightly...
        vcs, url, dest = tokens[:3]
        revision = tokens[3] if len(tokens) > 3 else ""
        group = next((t.split("=", 1)[1] for t in line.split() if t.startswith("group=")), "")
        found.append({"vcs": vcs, "url": url, "dest": dest, "revision": revision,
                      "option": option, "group": group})
    return found


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _git_follows(checkout: str, revision: str) -> bool | None:
    for ref, follows in ((f"refs/remotes/origin/{revision}", True),
                         (f"refs/heads/{revision}", True), (f"refs/tags/{revision}", False)):
        if _run(["git", "-C", checkout, "show-ref", "--verify", "--quiet", ref]).returncode == 0:
            return follows
    done = _run(["git", "-C", checkout, "rev-parse", "--verify", "--quiet",
                 f"{revision}^{{commit}}"])
    return False if done.returncode == 0 else None


def _hg_follows(checkout: str, revision: str) -> bool | None:
    """A branch of the checkout is followed; any other name pins it.

    oca.recipe.odoo clones with ``hg clone -r REV`` (``vcs/hg.py``): the clone of
    a branch has that branch, the clone of a tag may not even know the tag (it
    is defined by a later changeset), so "not one of its branches" is the test.
    """
    done = _run(["hg", "-R", checkout, "branches", "--closed", "-T", "{branch}\n"])
    if done.returncode != 0:
        return None
    return revision in done.stdout.split("\n")


def follows_branch(source: dict, checkouts: list[str]) -> bool:
    """Whether the source tracks a branch (watched) or is pinned (not watched)."""
    vcs, revision = source["vcs"], source["revision"]
    if vcs == "bzr":
        return revision in ("", "last:1")
    if not revision:
        return vcs == "hg"  # hg without revision: the default branch
    ask = {"git": (_git_follows, ".git"), "hg": (_hg_follows, ".hg")}.get(vcs)
    if ask is None:
        return False
    for checkout in checkouts:
        if os.path.isdir(os.path.join(checkout, ask[1])):
            answer = ask[0](checkout, revision)
            if answer is not None:
                return answer
    return not _HEX[vcs].match(revision)


def candidates(options: dict[str, str], source: dict, part: str) -> list[str]:
    """Where the buildout may have checked ``source`` out."""
    dest = source["dest"]
    if source.get("group"):  # oca.recipe.odoo checks DEST out as DIR/GROUP/NAME (base.py)
        dest = os.path.join(os.path.dirname(dest), source["group"], os.path.basename(dest))
    places = [os.path.join(options["directory"], dest),
              os.path.join(options["parts-directory"], dest)]
    if source["option"] == "version":
        places.append(os.path.join(options["parts-directory"], part))
    return places


def introspect(options: dict[str, str], part: str) -> tuple[list[dict], list[dict]]:
    """``(sources, fixed)``: branches followed, and pinned sources."""
    sources, fixed, seen = [], [], set()
    for option in VCS_OPTIONS:
        for source in vcs_lines(option, options[option]):
            if source["vcs"] == "svn":
                print(f"not watched (svn is not supported): {source['url']}")
                continue
            if follows_branch(source, candidates(options, source, part)):
                entry = {"vcs": source["vcs"], "url": source["url"], "option": option}
                if source["vcs"] != "bzr":
                    entry["branch"] = source["revision"] or "default"
                key = (entry["vcs"], entry["url"], entry.get("branch"))
                if key not in seen:
                    seen.add(key)
                    sources.append(entry)
            else:
                fixed.append({"vcs": source["vcs"], "url": source["url"],
                              "revision": source["revision"], "option": option})
    return sources, fixed


def write_atomically(path: str, document: dict) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--buildout", required=True, help="the manifest's buildout option")
    parser.add_argument("--part", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("-c", dest="conf", required=True)
    parser.add_argument("assignments", nargs="*")
    args = parser.parse_args(argv)
    if os.path.exists(args.output):
        os.remove(args.output)  # never let a previous build's data be uploaded
    options = part_options(args.conf, args.part, args.assignments)
    sources, fixed = introspect(options, args.part)
    for entry in sources:
        print(f"watch: {entry['vcs']} {entry['url']} {entry.get('branch', '')}".rstrip())
    for entry in fixed:
        print(f"pinned, not watched: {entry['vcs']} {entry['url']} {entry['revision']}")
    write_atomically(args.output, {"format": FORMAT, "build": args.build,
                                   "buildout": args.buildout, "part": args.part,
                                   "sources": sources, "fixed": fixed})
    print(f"{len(sources)} branches to watch written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
