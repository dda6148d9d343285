"""vSphere's faults in words: the fault proxy between the backend and a real vcsim (plain
HTTP here, so the proxy can read the requests) answers 429, 5xx or cuts replies short, at
the login and once a session exists."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faultproxy import Fault, FaultProxy
from tests.vsphere.vcsim import USER, Vcsim
from winged_monkey.errors import ServerError, ThrottledError, WMError
from winged_monkey.user.config import AccountConfig, Credentials, Endpoint
from winged_monkey.user.credentials import Secrets
from winged_monkey_vsphere import VSphereBackend

SECRET_VAR = "WM_TEST_VSPHERE_FAULTS_SECRET"


@pytest.fixture
def plain_sim(tmp_path: Path) -> Iterator[Vcsim]:
    with Vcsim(tmp_path / "vcsim", extra=("-tls=false",)) as running:
        yield running


def listing_error(
    sim: Vcsim,
    proxy: FaultProxy,
    fault: Fault,
    *,
    logged_in: bool,
    monkeypatch: pytest.MonkeyPatch,
    timeout: float = 20,
) -> WMError:
    """The error a listing through `fault` raises, before any session or within one."""
    monkeypatch.setenv(SECRET_VAR, sim.password)
    account = AccountConfig(
        name="lab",
        backend="vsphere",
        endpoint=Endpoint(host="127.0.0.1", port=proxy.port, secure=False),
        credentials=Credentials(key=USER, keyring=False, secret_env=SECRET_VAR),
        timeout=timeout,
    )
    backend = VSphereBackend(
        account, Secrets(account="lab", key=USER, secret=sim.password, source="env")
    )

    async def run() -> WMError:
        try:
            proxy.fault = Fault("pass")
            if logged_in:
                await backend.list_instances()
            proxy.fault = fault
            with pytest.raises(WMError) as raised:
                await backend.list_instances()
            return raised.value
        finally:
            proxy.fault = Fault("pass")
            await backend.close()

    error = asyncio.run(run())
    assert sim.password not in str(error)
    return error


@pytest.mark.parametrize("logged_in", [False, True])
def test_throttling_keeps_retry_after(
    plain_sim: Vcsim,
    fault_proxy: Callable[[int], FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
    logged_in: bool,
) -> None:
    proxy = fault_proxy(plain_sim.port)
    fault = Fault("status", status=429, headers={"Retry-After": "7"}, body=b"slow down")
    error = listing_error(plain_sim, proxy, fault, logged_in=logged_in, monkeypatch=monkeypatch)
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 7
    assert str(error) == "lab: vSphere is throttling requests (HTTP 429); the next poll waits 7 s"


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (500, b"", "HTTP 500 (Internal Server Error)"),
        (503, b"vCenter is starting", "HTTP 503 (Service Unavailable): vCenter is starting"),
    ],
)
def test_server_errors_keep_their_status(
    plain_sim: Vcsim,
    fault_proxy: Callable[[int], FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
    logged_in: bool,
    status: int,
    body: bytes,
    said: str,
) -> None:
    proxy = fault_proxy(plain_sim.port)
    fault = Fault("status", status=status, body=body)
    error = listing_error(plain_sim, proxy, fault, logged_in=logged_in, monkeypatch=monkeypatch)
    assert isinstance(error, ServerError)
    if logged_in:  # pyVmomi reads no body of a non-SOAP error: the status is what is left
        said = said.split(":")[0]
    assert error.message.startswith(f"vSphere at 127.0.0.1:{proxy.port} answered {said}")


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize("keep", [10, 100, 1500])
def test_a_reply_cut_short(
    plain_sim: Vcsim,
    fault_proxy: Callable[[int], FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
    logged_in: bool,
    keep: int,
) -> None:
    proxy = fault_proxy(plain_sim.port)
    fault = Fault("truncate", keep=keep)
    error = listing_error(plain_sim, proxy, fault, logged_in=logged_in, monkeypatch=monkeypatch)
    assert str(error) == (
        f"lab: the reply from 127.0.0.1:{proxy.port} was cut short (connection closed mid-answer)"
    )


@pytest.mark.parametrize("logged_in", [False, True])
def test_a_vcenter_that_stops_answering_is_no_answer_in_time(
    plain_sim: Vcsim,
    fault_proxy: Callable[[int], FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
    logged_in: bool,
) -> None:
    """The backend's own socket timeout (the account's timeout) ends a call that gets no
    reply: said as no answer in time. Reading the reply it never got had raised
    http.client's ResponseNotReady out of the error's translation ("unexpected
    ResponseNotReady"), when that timeout fired before the portal's deadline."""
    proxy = fault_proxy(plain_sim.port)
    error = listing_error(
        plain_sim, proxy, Fault("hang"), logged_in=logged_in, monkeypatch=monkeypatch, timeout=1
    )
    assert str(error) == (
        f"lab: no answer from 127.0.0.1:{proxy.port} in time (timeout): raise the account's "
        "`timeout` if the cloud is only slow"
    )
