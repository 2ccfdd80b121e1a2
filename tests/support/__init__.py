"""TEST FIXTURES, not product code: helpers shared by the test suite.

``postgres``            real, throw-away PostgreSQL servers (one per installed major version)
``pg_fixtures``         pytest fixtures on it: ``pg_installations``, ``pg_servers``, ``pg_server``
``standin``             a zc.buildout virtualenv and the sample buildout of the stand-in Odoo
``standin_fixtures``    pytest fixtures on it: ``buildout_executable``, ``standin_source``
``repos``               real git and Mercurial repositories made by the tests
``buildbot_processes``  real Buildbot master and worker processes, the master's REST API
``cluster``             a Buildbot cluster: crossbar, HAProxy, masters sharing a database
``forges``              push hook deliveries as GitHub, GitLab and Gitea send them

Fixture modules are loaded with ``pytest_plugins = [...]`` in a test module;
import helpers from the other modules only (importing a plugin module before
pytest loads it defeats assertion rewriting).
"""
