"""Naming a package from build properties, early and safely.

The archive a packaging build uploads is ``<prefix>-<version>``, the version
being a build property (a tag, a revision, the build number).  The name
becomes a file name on the worker and on the master, so it must be one safe
path component; a missing or unsafe value stops the build with a message
instead of uploading a file nobody can find.
"""

from __future__ import annotations

import re
from typing import Any

from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS

PACKAGE_NAME_PROPERTY = "packaging_name"
PACKAGE_DIR_PROPERTY = "packaging_dir"
PROPERTY_SOURCE = "Packaging"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class SetPackageName(buildstep.BuildStep):
    """Set ``packaging_name`` (``PREFIX-VERSION``) and ``packaging_dir`` properties.

    A consuming ``archive`` build reads them: ``buildout = archive
    packaging_dir packaging_name CONF`` with both properties passed on (a
    ``Trigger`` step's ``copy_properties``, a force form...).
    """

    name = "package-name"

    def __init__(self, prefix: str, version_property: str, directory: str,
                 **kwargs: Any) -> None:
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.prefix = prefix
        self.version_property = version_property
        self.directory = directory
        self._summary = ""

    def run(self):
        value = self.getProperty(self.version_property)
        if value is None or str(value).strip() == "":
            self._summary = (f"build property {self.version_property!r} is missing: "
                             f"the package is named after it")
            return FAILURE
        name = f"{self.prefix}-{value}"
        if not _NAME_RE.match(name):
            self._summary = (f"{name!r} (from {self.version_property!r}) is not a safe "
                             f"archive name: letters, digits, '.', '_', '+', '-'")
            return FAILURE
        self.setProperty(PACKAGE_NAME_PROPERTY, name, PROPERTY_SOURCE, runtime=True)
        self.setProperty(PACKAGE_DIR_PROPERTY, self.directory, PROPERTY_SOURCE, runtime=True)
        self._summary = f"package {self.directory}/{name}"
        return SUCCESS

    def getResultSummary(self):
        return {"step": self._summary or self.name}
