"""The demo of buildbot-odoo: ``./scripts/demo.sh`` runs ``python -m demo`` (docs/demo.md).

Not part of the package (the wheel ships ``buildbot_odoo`` only): it drives
the Odoo stand-in and the PostgreSQL helpers of ``tests/``, which only exist in
a clone of the repository.
"""
