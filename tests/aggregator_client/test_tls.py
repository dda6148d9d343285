"""TLS between the aggregator backend and a real `wm serve --ssl-certfile/--ssl-keyfile`
whose certificate a test CA signed: trusted through ca_bundle, refused without it with
what to do, and `verify = false` for a lab."""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.aggregator.server import (
    AggregatorProcess,
    RunningAggregator,
    seed,
    server_env,
    write_config,
)
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from tests.conftest import Cloud
from tests.processes import free_port, spawn, wait_listening
from winged_monkey.demo.server import MotoServer


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


def make_certs(directory: Path) -> Certs:
    """A CA and a certificate for 127.0.0.1 it signed, as PEM files."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wm test team CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
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
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    certs = Certs(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    certs.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certs.cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    certs.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


class TLSAggregatorProcess(AggregatorProcess):
    """`wm serve` with --ssl-certfile/--ssl-keyfile (its own start: the shared one has none)."""

    def __init__(self, workdir: Path, config: Path, certs: Certs) -> None:
        super().__init__(workdir, config, server_env(workdir))
        self.certs = certs

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.port = free_port()
        command = [
            sys.executable,
            "-c",
            "from winged_monkey.cli import main; main()",
            "serve",
            "--config",
            str(self.config),
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--ssl-certfile",
            str(self.certs.cert),
            "--ssl-keyfile",
            str(self.certs.key),
        ]
        self._process = spawn(command, self.log, self.env)
        wait_listening(self._process, self.port, self.log, "wm serve (TLS)", timeout=60)
        return self


@pytest.fixture
def tls_team(moto: MotoServer, tmp_path: Path) -> Iterator[tuple[RunningAggregator, Certs]]:
    workdir = tmp_path / "agg"
    ids = seed(moto)
    certs = make_certs(tmp_path / "pki")
    config = write_config(workdir, moto.port, "rate = 1000\nburst = 1000")
    with TLSAggregatorProcess(workdir, config, certs) as process:
        yield RunningAggregator(process, workdir / "tokens.sqlite3", moto, ids), certs


async def test_tls_trusted_through_ca_bundle_refused_without(
    tls_team: tuple[RunningAggregator, Certs], cloud: Cloud, portals: Portals
) -> None:
    team, certs = tls_team
    token = team.mint("vera", "viewer")
    mp = cloud.monkeypatch
    portal = portals(
        aggregator_account("bundled", team.url, token, mp, ca_bundle=str(certs.ca)),
        aggregator_account("system", team.url, token, mp),
        aggregator_account("lab", team.url, token, mp, verify=False),
    )

    async def listed() -> bool:  # the server's first poll may still be under way
        await refresh(portal)
        return len([i for i in portal.instances() if i.account == "bundled"]) == 4

    await until("the rows over TLS", listed)
    assert len([i for i in portal.instances() if i.account == "lab"]) == 4
    error = portal.status("system").error or ""
    where = team.url.removeprefix("https://")
    assert error.startswith(f"the aggregator at {where} presented a certificate this host ")
    assert error.endswith("; set the account's ca_bundle to the team's CA file")


async def test_a_missing_ca_bundle_is_a_config_error(cloud: Cloud, portals: Portals) -> None:
    missing = cloud.tmp_path / "nope.pem"
    portal = portals(
        aggregator_account(
            "team", "https://127.0.0.1:9", "t", cloud.monkeypatch, ca_bundle=str(missing)
        )
    )
    updates = await refresh(portal)
    assert updates["team"].status.error == f"ca_bundle {missing}: no such file"
