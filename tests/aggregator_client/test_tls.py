"""TLS between the aggregator backend and a real `wm serve --ssl-certfile/--ssl-keyfile`
whose certificate a test CA signed: trusted through ca_bundle, refused without it with
what to do, and `verify = false` for a lab."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.aggregator.server import (
    AggregatorProcess,
    RunningAggregator,
    seed,
    server_env,
    write_config,
)
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from tests.certs import make_ca, server_certificate
from tests.conftest import Cloud
from winged_monkey.demo.server import MotoServer


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


def make_certs(directory: Path) -> Certs:
    """A CA and a certificate for 127.0.0.1 it signed, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key, ca_cert = make_ca(directory, "wm-test-team-ca")
    cert, key = server_certificate(directory, ca_key, ca_cert)
    return Certs(ca, cert, key)


class TLSAggregatorProcess(AggregatorProcess):
    """`wm serve` with --ssl-certfile/--ssl-keyfile."""

    def __init__(self, workdir: Path, config: Path, certs: Certs) -> None:
        super().__init__(workdir, config, server_env(workdir))
        self.certs = certs

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def extra_args(self) -> list[str]:
        return ["--ssl-certfile", str(self.certs.cert), "--ssl-keyfile", str(self.certs.key)]


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
    assert error.startswith(
        f"TLS: the certificate of the aggregator at {where} is signed by an unknown authority "
        "(self-signed?)"
    ), error
    assert 'set ca_bundle = "/path/ca.pem" (the CA that signed it) for account system' in error


async def test_a_missing_ca_bundle_is_a_config_error(cloud: Cloud, portals: Portals) -> None:
    missing = cloud.tmp_path / "nope.pem"
    portal = portals(
        aggregator_account(
            "team", "https://127.0.0.1:9", "t", cloud.monkeypatch, ca_bundle=str(missing)
        )
    )
    updates = await refresh(portal)
    assert updates["team"].status.error == f"ca_bundle {missing}: no such file"
