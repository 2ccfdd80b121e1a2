"""What the master watches and which builds a commit schedules (SPEC 5, 7), in plain Python.

:mod:`.plan` turns the builds' watches, the URL rewrite rules and the
auto-watch data (:mod:`.files`) into pollers and per-build filters;
:mod:`buildbot_odoo.master.scheduling` makes the Buildbot objects.
"""
