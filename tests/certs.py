"""Certificates for the tests' TLS servers: a CA of their own and a 127.0.0.1 certificate
it signs, and client certificates for servers that ask for one (mutual TLS), as PEM files
(what a team or a cloud's admins would hand out)."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(folder: Path, name: str) -> tuple[Path, rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed CA; its PEM certificate is written to folder/name.pem."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = folder / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def server_certificate(
    folder: Path,
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    *,
    host: str | None = None,
    expired: bool = False,
) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by the CA: (cert.pem, key.pem). `host` names
    another DNS name instead (a wrong-host certificate); `expired` ended yesterday."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    if expired:
        now -= datetime.timedelta(days=2)
    alternative: x509.GeneralName = (
        x509.DNSName(host) if host else x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host or "127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _written(folder, "server", cert, key)


def client_certificate(
    folder: Path, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, name: str
) -> tuple[Path, Path]:
    """A client certificate for `name` signed by the CA, as a server asking for one
    (mutual TLS) checks it: (folder/name.pem, folder/name.key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _written(folder, name, cert, key)


def locked_copy(key: Path, to: Path) -> Path:
    """`key` (a PEM private key) written to `to` under a passphrase, as a user's locked key."""
    plain = serialization.load_pem_private_key(key.read_bytes(), password=None)
    to.write_bytes(
        plain.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    return to


def _written(
    folder: Path, name: str, cert: x509.Certificate, key: rsa.RSAPrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
