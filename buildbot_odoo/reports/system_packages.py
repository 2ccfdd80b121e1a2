"""Which Debian packages give a header, a program or a library a build found missing.

A distribution compiled from source on the worker (python-ldap, psycopg2,
lxml, Pillow...) stops at the first thing the host lacks, and each tool
names it its own way: the C compiler the header (``fatal error: lber.h: No
such file or directory``), the linker the library (``cannot find
-lldap_r``), psycopg2's setup the program (``pg_config executable not
found``), Pillow's setup the feature (``could not be found for jpeg``).
:data:`MISSING_THINGS` maps each of these names, as the tools print them,
to the packages that install it on Debian 12 -- the packages
docs/worker-setup.md lists for the worker host; its section "When the
buildout says a distribution did not build" shows this table, and
``tests/unit/test_buildout_log.py`` keeps the two the same.

>>> packages_for("lber.h")
('libldap2-dev',)
>>> packages_for("libxml/xmlversion.h")
('libxml2-dev',)
>>> packages_for("-lldap_r")
('libldap2-dev',)
>>> packages_for("nothing-known.h")
()
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MissingThing:
    """Names a tool prints for something missing, and the Debian packages that install it.

    A name ending with ``/`` stands for every header under that directory
    (``libxml/`` for ``libxml/xmlversion.h``, ``libxml/xpath.h``...); a name
    starting with ``-l`` is a library as the linker names it.
    """

    names: tuple[str, ...]
    packages: tuple[str, ...]
    #: the distributions Odoo buildouts compile that need it (for the documentation)
    needed_by: str

    def matches(self, missing: str) -> bool:
        return any(missing.startswith(name) if name.endswith("/") else missing == name
                   for name in self.names)


#: What is missing -> the Debian packages (as docs/worker-setup.md names them).
MISSING_THINGS: tuple[MissingThing, ...] = (
    MissingThing(("lber.h", "ldap.h", "-lldap", "-lldap_r", "-llber"), ("libldap2-dev",),
                 "python-ldap"),
    MissingThing(("sasl/sasl.h", "sasl.h", "-lsasl2"), ("libsasl2-dev",), "python-ldap"),
    MissingThing(("pg_config", "libpq-fe.h", "-lpq"), ("libpq-dev",), "psycopg2"),
    MissingThing(("libxml/", "-lxml2"), ("libxml2-dev",), "lxml"),
    MissingThing(("libxslt/", "libexslt/", "-lxslt", "-lexslt"), ("libxslt1-dev",), "lxml"),
    MissingThing(("Python.h",), ("python3-dev",), "every C extension"),
    MissingThing(("ffi.h", "-lffi"), ("libffi-dev",), "cffi"),
    MissingThing(("jpeglib.h", "jpeg", "-ljpeg"), ("libjpeg-dev",), "Pillow"),
    MissingThing(("zlib.h", "zlib", "-lz"), ("zlib1g-dev",), "Pillow, lxml"),
    MissingThing(("ft2build.h", "freetype", "-lfreetype"), ("libfreetype6-dev",), "Pillow"),
    MissingThing(("lcms2.h", "lcms", "-llcms2"), ("liblcms2-dev",), "Pillow"),
    MissingThing(("webp/", "webp", "-lwebp"), ("libwebp-dev",), "Pillow"),
    MissingThing(("tiffio.h", "tiff", "-ltiff"), ("libtiff5-dev",), "Pillow"),
    MissingThing(("openjpeg-2.5/", "jpeg2000", "-lopenjp2"), ("libopenjp2-7-dev",), "Pillow"),
    MissingThing(("hb.h", "harfbuzz/", "-lharfbuzz"), ("libharfbuzz-dev",), "Pillow"),
    MissingThing(("fribidi/", "fribidi", "-lfribidi"), ("libfribidi-dev",), "Pillow"),
    MissingThing(("xcb/", "xcb", "-lxcb"), ("libxcb1-dev",), "Pillow"),
)


def packages_for(missing: str) -> tuple[str, ...]:
    """The Debian packages that install ``missing`` (a header, program or ``-lNAME``), or ()."""
    return next((thing.packages for thing in MISSING_THINGS if thing.matches(missing)), ())
