"""The built-in subfactories, by the names the manifest uses (SPEC 5 and 6).

``BuildoutsConfigurator`` copies these into ``conf.post_dl_steps`` and
``conf.post_buildout_steps`` when it is made; users add their own there::

    conf.post_buildout_steps["smoke"] = my_smoke_steps  # (configurator, options,
                                                        #  buildout_path, environ) -> [steps]
    my_smoke_steps.options = ("url",)        # accepted 'smoke.<option>' names

Each built-in declares the ``<name>.<option>`` options it accepts (its
``options`` attribute), which is what the manifest loader checks names
against: there is no second list to keep in sync.
"""

from __future__ import annotations

from .autocommit import autocommit
from .doc import doc
from .functional import functional
from .odoo import ODOO_SUBFACTORIES
from .packaging import packaging, packaging_post_download
from .pytest_tests import pytest_subfactory
from .static_analysis import static_analysis

POST_BUILDOUT_SUBFACTORIES = {
    **ODOO_SUBFACTORIES,
    "pytest": pytest_subfactory,
    "functional": functional,
    "static-analysis": static_analysis,
    "doc": doc,
    "packaging": packaging,
    "autocommit": autocommit,
}

POST_DL_SUBFACTORIES = {
    "packaging": packaging_post_download,
}
