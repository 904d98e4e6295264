"""Connection options for every Kafka and Redis client, built from ``Settings`` in one place.

A client built without them talks plaintext and unauthenticated. Against a broker that
requires SASL it does not say so: it fails to bootstrap with a bare connection error. So every
client construction passes these options: the Faust app (``faust_options``), the executor's
producer and consumer, the topic admin, local runs, the sample feed (``kafka_options`` or
``security_options``), the lag monitor (``app_client_options``, from the app's own
credentials) and the executor's Redis ledger (``redis_options``).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from workers.settings import KafkaSecurity, Settings

if TYPE_CHECKING:
    import faust


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL: verifies the broker's certificate and host name
    against ``MODSTREAM_KAFKA_CA_FILE`` (Strimzi's cluster CA) or the system's CAs."""
    if not security.tls:
        return None
    return ssl.create_default_context(cafile=security.ca_file or None)


def security_options(security: KafkaSecurity) -> dict[str, Any]:
    """aiokafka keyword arguments for authentication and encryption (no bootstrap)."""
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if security.sasl:
        options.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.username,
            sasl_plain_password=security.password,
        )
    context = ssl_context(security)
    if context is not None:
        options["ssl_context"] = context
    return options


def kafka_options(settings: Settings) -> dict[str, Any]:
    """aiokafka keyword arguments shared by producers, consumers and admin clients."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        **security_options(settings.kafka_security),
    }


def faust_options(settings: Settings) -> dict[str, Any]:
    """``faust.App`` keyword arguments: Faust passes its ``broker_credentials`` to every client
    it builds (consumer, producer, topic creation), so the app needs nothing else."""
    import faust  # the sample feed uses this module without paying for Faust

    security = settings.kafka_security
    context = ssl_context(security)
    if security.sasl:
        credentials: faust.types.auth.CredentialsT = faust.SASLCredentials(
            username=security.username,
            password=security.password,
            mechanism=security.sasl_mechanism,
            ssl_context=context,
        )
        return {"broker_credentials": credentials}
    if context is not None:
        return {"broker_credentials": faust.SSLCredentials(context)}
    return {}


def app_client_options(app: faust.App) -> dict[str, Any]:
    """aiokafka security arguments for a client made beside a Faust app (the lag monitor),
    taken from the app's own credentials so the two can never disagree."""
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    return dict(credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context))


def redis_options(settings: Settings) -> dict[str, Any]:
    """``redis.asyncio.from_url`` keyword arguments: AUTH from ``MODSTREAM_REDIS_PASSWORD``
    (a password in the URL wins) and the CA for ``rediss://``."""
    options: dict[str, Any] = {}
    if settings.redis_password:
        options["password"] = settings.redis_password
    if settings.redis_ca_file:
        options["ssl_ca_certs"] = settings.redis_ca_file
    return options
