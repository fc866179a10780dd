"""The Kafka security settings: their refusals, the clients' options, faust's credentials, and
that the password shows nowhere but in the client's options."""

from __future__ import annotations

import ssl

import certifi
import faust
import pytest

from streams.kafka_client import client_options, describe, faust_credentials, ssl_context
from streams.settings import Settings, SettingsError

PEM = certifi.where()  # a readable PEM file of CA certificates


def settings(**env: str) -> Settings:
    return Settings.from_mapping(env)


def refusal(**env: str) -> str:
    with pytest.raises(SettingsError) as err:
        settings(**env)
    return str(err.value)


SASL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "svc",
    "KAFKA_SASL_PASSWORD": "s3cret-pw",
}


def test_the_default_is_plaintext_with_no_security_options():
    s = Settings()
    assert client_options(s) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(s) is None
    assert describe(s) == "PLAINTEXT"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "invalid setting KAFKA_SECURITY_PROTOCOL: 'TLS' is not one of"),
        ({**SASL, "KAFKA_SASL_MECHANISM": "GSSAPI"}, "invalid setting KAFKA_SASL_MECHANISM: 'GSSAPI' is not one of"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "invalid setting KAFKA_SASL_USERNAME: KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and",
        ),
        (
            {"KAFKA_SASL_PASSWORD": "x"},
            "invalid setting KAFKA_SASL_PASSWORD: is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use SASL",
        ),
        (
            {"KAFKA_SSL_CAFILE": str(PEM)},
            "invalid setting KAFKA_SSL_CAFILE: is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": str(PEM)},
            "invalid setting KAFKA_SSL_KEYFILE: a client certificate needs both",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/no/such.pem"}, "'/no/such.pem' does not exist"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_in_one_line(env, says):
    line = refusal(**env)
    assert says in line and "\n" not in line
    assert "s3cret-pw" not in line


def test_sasl_ssl_gives_every_client_the_mechanism_the_user_and_a_verifying_context():
    s = settings(**SASL, KAFKA_SSL_CAFILE=str(PEM))
    options = client_options(s)
    assert options["security_protocol"] == "SASL_SSL"
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == ("SCRAM-SHA-512", "svc")
    assert options["sasl_plain_password"] == "s3cret-pw"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SASLCredentials)
    assert creds.protocol.value == "SASL_SSL" and creds.mechanism.value == "SCRAM-SHA-512"
    assert "s3cret-pw" not in repr(creds)


def test_sasl_plaintext_has_no_tls_context():
    s = settings(**{**SASL, "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "plain"})
    assert "ssl_context" not in client_options(s)
    creds = faust_credentials(s)
    assert creds.protocol.value == "SASL_PLAINTEXT" and creds.mechanism.value == "PLAIN"


def test_ssl_is_faust_ssl_credentials_and_hostname_checks_can_be_turned_off():
    s = settings(KAFKA_SECURITY_PROTOCOL="ssl", KAFKA_SSL_CHECK_HOSTNAME="false")
    creds = faust_credentials(s)
    assert isinstance(creds, faust.SSLCredentials) and creds.protocol.value == "SSL"
    assert creds.context.check_hostname is False
    assert client_options(s)["security_protocol"] == "SSL"


def test_a_key_that_does_not_match_its_certificate_is_a_refusal_naming_the_certificate():
    s = settings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CERTFILE=str(PEM), KAFKA_SSL_KEYFILE=str(PEM))
    with pytest.raises(SettingsError, match="invalid setting KAFKA_SSL_CERTFILE: cannot be loaded"):
        ssl_context(s)


def test_the_password_is_in_no_description_repr_or_settings_dump():
    s = settings(**SASL)
    assert "s3cret-pw" not in describe(s) + repr(s) + str(s) + s.model_dump_json()
    assert describe(s) == "SASL_SSL, SCRAM-SHA-512 as 'svc', CA system trust store"
