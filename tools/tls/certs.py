"""The local stack's certificates for TLS: a throwaway CA and the certificates it signs.

    python tools/tls/certs.py DIR

writes, once (an existing set is kept while it is valid for another 30 days):

    DIR/ca.pem                    the CA's certificate: KAFKA_SSL_CAFILE, PostgreSQL's sslrootcert, Redis' ssl_ca_certs
    DIR/server.pem, server.key    the servers' certificate (localhost, 127.0.0.1, ::1 and the names in
                                  TLS_SERVER_NAMES) and its unencrypted PKCS#8 key
    DIR/server-keystore.pem       the key and the chain in one file: Kafka's PEM keystore
    DIR/client.pem, client.key    a client certificate (CN=redditstream) for mutual TLS
    DIR/other-ca.pem              a second CA that signed nothing: a client that trusts only it must refuse

Made with Python's `cryptography`, nothing downloaded; keys are EC P-256, certificates valid
a year. Never use them outside a test or a laptop: the CA's key sits beside them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID = dt.timedelta(days=365)
RENEW_BEFORE = dt.timedelta(days=30)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "redditstream"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALID)
    )


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    cert = (
        _builder(_name(cn), _name(cn), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, cn: str, usage: x509.ObjectIdentifier, names: list[str]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    builder = (
        _builder(_name(cn), ca.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if names:
        alt: list[x509.GeneralName] = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _fresh(path: Path) -> bool:
    if not path.is_file():
        return False
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE


def write(directory: Path, server_names: list[str]) -> bool:
    """Write the set into `directory` unless a valid one is there; True when written."""
    files = ["ca.pem", "server.pem", "server.key", "server-keystore.pem", "client.pem", "client.key", "other-ca.pem"]
    if all((directory / f).is_file() for f in files) and _fresh(directory / "server.pem"):
        return False
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _ca("redditstream local CA")
    server_key, server = _leaf(ca_key, ca, "localhost", ExtendedKeyUsageOID.SERVER_AUTH, server_names)
    client_key, client = _leaf(ca_key, ca, "redditstream", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    _, other = _ca("redditstream other CA")
    out = {
        "ca.pem": _pem(ca),
        "server.pem": _pem(server) + _pem(ca),
        "server.key": _key_pem(server_key),
        "server-keystore.pem": _key_pem(server_key) + _pem(server) + _pem(ca),
        "client.pem": _pem(client) + _pem(ca),
        "client.key": _key_pem(client_key),
        "other-ca.pem": _pem(other),
    }
    for name, data in out.items():
        path = directory / name
        path.write_bytes(data)
        # keys readable by their owner only (PostgreSQL refuses a key others can read)
        os.chmod(path, 0o600 if name.endswith((".key", "keystore.pem")) else 0o644)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: certs.py DIR", file=sys.stderr)
        return 2
    extra = [n.strip() for n in os.environ.get("TLS_SERVER_NAMES", "").split(",") if n.strip()]
    directory = Path(argv[0])
    wrote = write(directory, ["localhost", "127.0.0.1", "::1", *extra])
    print(f"[tls] {'wrote' if wrote else 'kept'} the certificates in {directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
