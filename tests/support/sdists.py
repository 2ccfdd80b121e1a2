"""TEST FIXTURES, not product code: source distributions made by the tests, served offline.

:func:`make_c_extension_sdist` writes a tiny sdist whose C extension includes
a header of the caller's choice: one that does not exist makes the compiler
stop with ``fatal error: NAME: No such file or directory``, as python-ldap
does on a host without libldap2-dev.  It builds offline, as the stand-ins
do (tests/fixtures/README.md): its ``pyproject.toml`` requires nothing and
names the stand-ins' in-tree backend, setuptools' legacy backend taken from
the setuptools installed next to the interpreter running pip.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from .standin import ODOO_SOURCE

#: the stand-ins' PEP 517 backend (see its docstring), shipped in each sdist
BACKEND = ODOO_SOURCE / "_build_backend" / "standin_backend.py"

_SETUP = """\
from setuptools import Extension, setup

setup(name={name!r}, version={version!r},
      ext_modules=[Extension({module!r}, [{source!r}])])
"""
_PYPROJECT = """\
[build-system]
requires = []
build-backend = "standin_backend"
backend-path = ["_build_backend"]
"""
_SOURCE = """\
#include <{header}>
#include <Python.h>

static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "{module}", NULL, -1, NULL}};

PyMODINIT_FUNC PyInit_{module}(void) {{ return PyModule_Create(&module); }}
"""


def make_c_extension_sdist(directory: Path, name: str, version: str, header: str) -> Path:
    """``directory/<name>-<version>.tar.gz``, an sdist whose extension includes ``<header>``."""
    module = name.replace("-", "_")
    top = f"{name}-{version}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "setup.py": _SETUP.format(name=name, version=version, module=module,
                                  source=f"{module}.c"),
        "pyproject.toml": _PYPROJECT,
        f"{module}.c": _SOURCE.format(header=header, module=module),
        "_build_backend/standin_backend.py": BACKEND.read_text(),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for relative, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{relative}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
