"""The Fleet page of the web UI, as plain data and HTML (no Buildbot import here).

:mod:`.model` turns the configurator's checked :class:`~buildbot_odoo.planning.Plan`
and a snapshot of the master's live state (which workers are connected, each
builder's last build) into the page's rows and cells, with the reasons the
plan gives; :mod:`.render` turns that into HTML.  The Buildbot side — the WSGI
application given to ``buildbot-wsgi-dashboards``, the data API reads and the
authorization checks — is :mod:`buildbot_odoo.master.fleet_page`.
"""
