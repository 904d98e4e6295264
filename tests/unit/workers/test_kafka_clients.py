"""Kafka and Redis security settings: parsed from the environment, refused when inconsistent,
and turned into the same options for Faust and for every aiokafka client."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path
from typing import Any, ClassVar

import faust
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from workers import kafka_clients
from workers.dev import sample_feed
from workers.settings import KafkaSecurity, Settings, SettingsError

DEV = {"MODSTREAM_DEV_MODE": "true"}
SASL = {
    **DEV,
    "MODSTREAM_KAFKA_BOOTSTRAP": "kafka-0:9093",
    "MODSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "MODSTREAM_KAFKA_USERNAME": "modstream-pipeline",
    "MODSTREAM_KAFKA_PASSWORD": "generated-in-the-test",
}


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway self-signed CA, as Strimzi's cluster CA would be mounted."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-cluster-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_plaintext_by_default_and_nothing_for_faust() -> None:
    settings = Settings.from_env(DEV)
    assert kafka_clients.kafka_options(settings) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert kafka_clients.faust_options(settings) == {}
    assert kafka_clients.redis_options(settings) == {}


def test_sasl_scram_options_for_aiokafka_and_faust_agree() -> None:
    settings = Settings.from_env(SASL)
    options = kafka_clients.kafka_options(settings)
    assert options == {
        "bootstrap_servers": "kafka-0:9093",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "modstream-pipeline",
        "sasl_plain_password": "generated-in-the-test",
    }
    credentials = kafka_clients.faust_options(settings)["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    # What Faust hands its own clients is what ours get.
    app = faust.App(
        "test-kafka-clients", broker="kafka://kafka-0:9093", broker_credentials=credentials
    )
    from_app = kafka_clients.app_client_options(app)
    assert {k: v for k, v in from_app.items() if v is not None} == {
        k: v for k, v in options.items() if k != "bootstrap_servers"
    }


def test_sasl_ssl_verifies_the_broker_against_the_given_ca(ca_file: Path) -> None:
    settings = Settings.from_env(
        {
            **SASL,
            "MODSTREAM_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "MODSTREAM_KAFKA_SASL_MECHANISM": "scram-sha-256",
            "MODSTREAM_KAFKA_CA_FILE": str(ca_file),
        }
    )
    options = kafka_clients.kafka_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert any(
        c["subject"] == ((("commonName", "test-cluster-ca"),),) for c in context.get_ca_certs()
    )
    credentials = kafka_clients.faust_options(settings)["broker_credentials"]
    assert credentials.protocol.value == "SASL_SSL"


def test_tls_without_sasl_gives_faust_ssl_credentials(ca_file: Path) -> None:
    settings = Settings.from_env(
        {**DEV, "MODSTREAM_KAFKA_SECURITY_PROTOCOL": "SSL", "MODSTREAM_KAFKA_CA_FILE": str(ca_file)}
    )
    assert "sasl_mechanism" not in kafka_clients.kafka_options(settings)
    assert isinstance(
        kafka_clients.faust_options(settings)["broker_credentials"], faust.SSLCredentials
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODSTREAM_KAFKA_SECURITY_PROTOCOL": "TLS"}, "MODSTREAM_KAFKA_SECURITY_PROTOCOL must be"),
        ({**SASL, "MODSTREAM_KAFKA_SASL_MECHANISM": "GSSAPI"}, "MODSTREAM_KAFKA_SASL_MECHANISM"),
        ({**SASL, "MODSTREAM_KAFKA_PASSWORD": ""}, "needs MODSTREAM_KAFKA_USERNAME"),
        ({"MODSTREAM_KAFKA_USERNAME": "u", "MODSTREAM_KAFKA_PASSWORD": "p"}, "does not use SASL"),
        ({"MODSTREAM_KAFKA_CA_FILE": "/etc/hosts"}, "does not use TLS"),
        (
            {"MODSTREAM_KAFKA_SECURITY_PROTOCOL": "SSL", "MODSTREAM_KAFKA_CA_FILE": "/nonexistent"},
            "is not a file",
        ),
        ({"MODSTREAM_REDIS_URL": "http://redis:6379"}, "MODSTREAM_REDIS_URL must start"),
        ({"MODSTREAM_REDIS_CA_FILE": "/etc/hosts"}, "is not rediss://"),
    ],
)
def test_inconsistent_security_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**DEV, **env})


def test_redis_auth_and_tls_options(ca_file: Path) -> None:
    settings = Settings.from_env(
        {
            **DEV,
            "MODSTREAM_REDIS_URL": "rediss://redis:6380/0",
            "MODSTREAM_REDIS_PASSWORD": "redis-secret-value",
            "MODSTREAM_REDIS_CA_FILE": str(ca_file),
        }
    )
    assert kafka_clients.redis_options(settings) == {
        "password": "redis-secret-value",
        "ssl_ca_certs": str(ca_file),
    }


def test_credentials_stay_out_of_repr() -> None:
    settings = Settings.from_env(
        {
            **SASL,
            "MODSTREAM_REDIS_URL": "redis://:url-password-value@redis:6379/0",
            "MODSTREAM_REDIS_PASSWORD": "redis-secret-value",
        }
    )
    text = repr(settings)
    for secret in ("generated-in-the-test", "url-password-value", "redis-secret-value"):
        assert secret not in text


class RecordingProducer:
    instances: ClassVar[list[RecordingProducer]] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        RecordingProducer.instances.append(self)

    async def start(self) -> None: ...

    async def send(self, topic: str, *, value: bytes, key: bytes) -> None: ...

    async def flush(self) -> None: ...

    async def stop(self) -> None: ...


def test_sample_feed_authenticates_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiokafka

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", RecordingProducer)
    for key, value in SASL.items():
        monkeypatch.setenv(key, value)
    RecordingProducer.instances.clear()
    assert sample_feed.main(["--count", "3", "--bootstrap", "kafka-0:9093"]) == 0
    (producer,) = RecordingProducer.instances
    assert producer.config["security_protocol"] == "SASL_PLAINTEXT"
    assert producer.config["sasl_plain_username"] == "modstream-pipeline"
    assert producer.config["bootstrap_servers"] == "kafka-0:9093"


def test_produce_defaults_to_plaintext(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiokafka

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", RecordingProducer)
    RecordingProducer.instances.clear()
    asyncio.run(sample_feed.produce([(b"k", b"v")], bootstrap="b:9092", topic="t"))
    assert RecordingProducer.instances[0].config["security_protocol"] == "PLAINTEXT"
    assert KafkaSecurity().protocol == "PLAINTEXT"
