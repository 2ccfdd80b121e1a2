"""Reading what a build's tools print (Odoo logs, buildout output, JUnit XML, linter output),
in plain Python.

The steps in :mod:`buildbot_odoo.master.steps` are thin edges around these
parsers, which can be tested, or reused, without a master.
"""
