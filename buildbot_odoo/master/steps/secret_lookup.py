"""A secret a build needs and the providers do not have: said in one line (SPEC 9).

Buildbot renders ``util.Secret`` when a step starts: a name missing from the
secrets providers raises ``KeyError: secret key NAME is not found in any
provider`` in the middle of rendering the step's environment, and the build
ends in an exception with a traceback (a ``FirstError`` around it).  The
capability step knows, once it has resolved the worker's declarations, every
secret the build's commands will read (:meth:`CapabilityDef.secret_names`):
it asks Buildbot's secrets service for each of them first, and a missing one
fails that step with one line naming the secret, the worker option naming it
and the providers that were asked -- the build stops there, before any step
would render it.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.internet import defer

#: Buildbot's secrets service, as ``master.namedServices`` names it
SECRETS_SERVICE = "secrets"


def describe_provider(provider: object) -> str:
    """A provider as its user configured it: ``SecretInAFile(/srv/master/secrets)``."""
    name = type(provider).__name__
    directory = getattr(provider, "_dirname", None)  # SecretInAFile's configured directory
    return f"{name}({directory})" if isinstance(directory, str) else name


def providers_of(master) -> list:
    service = master.namedServices.get(SECRETS_SERVICE) if master is not None else None
    return list(getattr(service, "services", None) or [])


@defer.inlineCallbacks
def first_missing_secret(master, needed: Iterable[tuple[str, str]]):
    """The first ``(name, where)`` of ``needed`` no provider has, with the message to show;
    None when all are there.  ``where`` says who names the secret (a worker's option)."""
    providers = providers_of(master)
    for name, where in needed:
        found = None
        for provider in providers:
            found = yield defer.maybeDeferred(provider.get, name)
            if found is not None:
                break
        if found is None:
            return missing_secret_message(name, where, [describe_provider(p) for p in providers])
    return None


def missing_secret_message(name: str, where: str, providers: list[str]) -> str:
    """One line: the secret, who names it, which providers were asked.

    >>> print(missing_secret_message(
    ...     'rmq-uri', 'rabbitmq option base_uri-secret of worker w1',
    ...     ['SecretInAFile(/srv/m/secrets)']))  # doctest: +NORMALIZE_WHITESPACE
    secret 'rmq-uri' (rabbitmq option base_uri-secret of worker w1) is not in the master's
    secrets: asked SecretInAFile(/srv/m/secrets)
    >>> print(missing_secret_message('x', 'y', []))  # doctest: +ELLIPSIS
    secret 'x' (y) is not in the master's secrets: no provider is configured ...
    """
    asked = (f"asked {', '.join(providers)}" if providers else
             "no provider is configured (c['secretsProviders'] in master.cfg, "
             "docs/configuration.md)")
    return f"secret {name!r} ({where}) is not in the master's secrets: {asked}"
