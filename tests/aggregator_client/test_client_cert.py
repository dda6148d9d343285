"""The team's aggregator behind mutual TLS: the real `wm serve` behind a TLS front that asks
each client for a certificate its own client CA signed, as nginx with `ssl_verify_client on`
does. An account presents its `client_cert` and `client_key`; one without them is told what
to set, one the front's CA did not sign that it was refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from tests.certs import client_certificate, make_ca
from tests.conftest import Cloud
from tests.openstack.tlsproxy import TLSProxy
from winged_monkey.errors import ConfigError
from winged_monkey.user.credentials import Secrets
from winged_monkey_aggregator import AggregatorBackend


@pytest.fixture
def mtls_team(team: RunningAggregator, tmp_path: Path) -> Iterator[TLSProxy]:
    upstream = urlsplit(team.url).port or 0
    with TLSProxy(tmp_path / "mtls", upstream, client_certificates=True) as proxy:
        yield proxy


async def test_only_the_account_with_its_client_certificate_lists(
    cloud: Cloud, team: RunningAggregator, mtls_team: TLSProxy, portals: Portals
) -> None:
    """Three aggregator accounts behind the front, polled together beside a direct one:
    the one with its certificate and key lists the team's rows; one with a certificate
    another CA signed and one with none fail, each saying so and what to do."""
    # A region none of the team's accounts lists: their row count stays 4.
    cloud.launch(cloud.ec2("ap-southeast-2"), "web")
    proxy = mtls_team
    token = team.mint("vera", "viewer")
    url, ca, mp = f"https://127.0.0.1:{proxy.port}", str(proxy.ca), cloud.monkeypatch
    portal = portals(
        cloud.account("direct", region="ap-southeast-2"),
        aggregator_account(
            "with-cert",
            url,
            token,
            mp,
            ca_bundle=ca,
            client_cert=str(proxy.client_cert),
            client_key=str(proxy.client_key),
        ),
        aggregator_account(
            "stranger",
            url,
            token,
            mp,
            ca_bundle=ca,
            client_cert=str(proxy.stranger_cert),
            client_key=str(proxy.stranger_key),
        ),
        aggregator_account("no-cert", url, token, mp, ca_bundle=ca),
    )
    team.wait_listed(4)

    async def listed() -> bool:
        await refresh(portal)
        return len([i for i in portal.instances() if i.account == "with-cert"]) == 4

    await until("the team's rows through the mutual-TLS front", listed)
    assert "web" in [i.name for i in portal.instances() if i.account == "direct"]
    assert portal.status("direct").phase == portal.status("with-cert").phase == "ok"
    stranger, none = portal.status("stranger"), portal.status("no-cert")
    assert stranger.phase == none.phase == "failed"
    assert stranger.error == (
        f"TLS: the aggregator at 127.0.0.1:{proxy.port} refused the client certificate "
        f"{proxy.stranger_cert} (not signed by a CA it trusts); ask the server's admins for "
        "one it accepts"
    )
    assert none.error == (
        f"TLS: the aggregator at 127.0.0.1:{proxy.port} asks for a client certificate: set "
        "client_cert and client_key for account no-cert"
    )
    assert not [i for i in portal.instances() if i.account in ("stranger", "no-cert")]


def test_a_missing_client_certificate_is_a_config_error_naming_the_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked when the account is built, like ca_bundle (`~` expanded): not a failed
    handshake at the first poll."""
    monkeypatch.setenv("HOME", "/nonexistent")
    _, ca_key, ca_cert = make_ca(tmp_path, "wm-client-ca")
    cert, key = (str(p) for p in client_certificate(tmp_path, ca_key, ca_cert, "wm-client"))
    cases = [
        ({"client_cert": "~/team.pem"}, "client_cert /nonexistent/team.pem: no such file"),
        (
            {"client_cert": cert, "client_key": "~/team.key"},
            "client_key /nonexistent/team.key: no such file",
        ),
        (
            {"client_key": key},
            f"client_key {key} without client_cert: name the certificate it goes with",
        ),
    ]
    for settings, said in cases:
        account = aggregator_account(
            "team-mtls", "https://127.0.0.1:9", "a-token", monkeypatch, **settings
        )
        with pytest.raises(ConfigError) as refused:
            AggregatorBackend(account, Secrets(account="team-mtls", secret="a-token"))
        assert refused.value.account == "team-mtls"
        assert refused.value.message == said
