"""One slow account never holds the others back: real moto behind a fault proxy (a reply
dripped a byte every 0.5 s, a hung request), a backend stuck in C code, and a credential
source that never answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEV_KEY, Cloud, wait_until
from tests.faultproxy import Fault, FaultProxy
from winged_monkey import plugins
from winged_monkey.backend import Backend
from winged_monkey.engine.accounts import CLOSE_WITHIN_S
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountStatus, Instance
from winged_monkey.user.config import AccountConfig
from winged_monkey.user.credentials import CredentialResolver

TIMEOUT = 3
#: `wm ls` must return within the slow account's timeout + 1 s; a loaded 2-core machine
#: (and the interpreter's start) gets 3 s more.
WALL_BOUND = TIMEOUT + 4
#: The abandoned calls an account may hold (Lane's default max_stuck).
MAX_STUCK = 2
#: Threads that come and go during a poll: the healthy accounts' calls, moto's per-request
#: threads, asyncio's executor for the store.
THREAD_MARGIN = 6


def ec2_account(name: str, port: int, timeout: float = 20) -> str:
    return (
        f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f"timeout = {timeout}\n"
        f'endpoint = {{ host = "127.0.0.1", port = {port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", secret_env = "WM_TEST_SECRET", keyring = false }}\n'
    )


def wm_ls(config: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """The real `wm ls` in a process of its own (its exit must not wait for a stuck call)."""
    env_config = {"WM_CONFIG": str(config), "WM_TEST_SECRET": "test-dev-secret"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "from winged_monkey.cli.main import main; main()", "ls"],
        env={**os.environ, **env_config},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.monotonic() - started


@pytest.fixture
def slow(cloud: Cloud, fault_proxy: Callable[[int], FaultProxy]) -> FaultProxy:
    """Two instances on moto, and a proxy in front of it for the slow account."""
    ec2 = cloud.ec2()
    cloud.launch(ec2, "web")
    cloud.launch(ec2, "db")
    return fault_proxy(cloud.server.port)


@pytest.mark.parametrize(
    "fault", [Fault("drip", interval=0.5), Fault("hang")], ids=lambda f: f.kind
)
def test_wm_ls_answers_within_the_slow_accounts_timeout(
    cloud: Cloud, slow: FaultProxy, tmp_path: Path, fault: Fault
) -> None:
    slow.fault = fault
    config = tmp_path / "config.toml"
    config.write_text(
        "\n".join(
            [
                ec2_account("alpha", cloud.server.port),
                ec2_account("beta", cloud.server.port),
                ec2_account("slow", slow.port, timeout=TIMEOUT),
            ]
        )
    )
    done, elapsed = wm_ls(config)
    print(f"wm ls with one account on {fault.kind}: {elapsed:.1f} s, exit {done.returncode}")
    assert elapsed < WALL_BOUND, done.stderr
    rows = done.stdout.splitlines()[1:]
    for healthy in ("alpha", "beta"):
        mine = [row for row in rows if f" {healthy} " in row]
        assert len(mine) == 2, done.stdout
        assert any(" web " in row for row in mine)
        assert any(" db " in row for row in mine)
    # The portal's deadline and libcloud's socket timeout are both TIMEOUT: whichever ends
    # the call first says so, each as no answer in time, with what to do.
    assert any(
        f"slow: {said} (timeout): raise the account's `timeout`" in done.stderr
        for said in (
            f"no answer within {TIMEOUT} s",
            f"no answer from 127.0.0.1:{slow.port} in time",
        )
    ), done.stderr
    assert slow.requests >= 1  # the slow account did reach its (sick) server


async def poll(portal: Portal) -> dict[str, AccountStatus]:
    """One refresh of every account: each account's final status."""
    final: dict[str, AccountStatus] = {}
    async for update in portal.refresh(native_events=False):
        final[update.status.name] = update.status
    return final


@pytest.mark.parametrize(
    "fault",
    [
        Fault("drip", interval=0.5),
        Fault("drip_body", interval=0.5),  # headers at once: the body's bytes come slowly
        Fault("drip_head", interval=0.5),  # the headers' bytes come slowly, then the body
        Fault("hang"),
    ],
    ids=lambda f: f.kind,
)
async def test_an_abandoned_call_closes_its_connection_and_the_account_recovers(
    cloud: Cloud, slow: FaultProxy, fault: Fault
) -> None:
    portal = cloud.portal(
        cloud.account("healthy"), cloud.account("slow", port=slow.port, timeout=1)
    )
    slow.fault = fault
    statuses = await poll(portal)
    assert statuses["healthy"].phase == "ok"
    assert statuses["healthy"].count == 2
    assert statuses["slow"].phase == "failed"
    # The engine's deadline, or libcloud's own read timeout (the same second) if it fires first.
    assert (statuses["slow"].error or "").startswith("no answer"), statuses["slow"].error
    # The proxy is the witness: the abandoned call's connection is closed, while the
    # portal (and its process) lives on.
    wait_until(lambda: slow.open_connections == 0, timeout=5)
    lane = (await portal.backend("slow")).lane
    wait_until(lambda: lane.stuck == 0, timeout=5)  # its thread ended by itself

    slow.fault = Fault("pass")
    statuses = await poll(portal)
    assert statuses["slow"].phase == "ok", statuses["slow"].error
    assert statuses["slow"].count == 2
    await portal.close()


class StuckBackend(Backend):
    """A backend whose every call blocks in C code (a lock no socket shutdown can wake)
    until the test releases it, as a libvirt call to a dead host would."""

    release = threading.Event()

    async def list_instances(self) -> list[Instance]:
        await self.run_blocking(self.release.wait)
        return []


@pytest.fixture
def stuck_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[StuckBackend]]:
    """The `stuck` backend, found by name as a plugin is; its blocked calls end at teardown."""
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda name: StuckBackend if name == "stuck" else real_load(name)
    )
    StuckBackend.release.clear()
    yield StuckBackend
    StuckBackend.release.set()


async def test_a_backend_stuck_in_c_code_holds_a_bounded_number_of_threads(
    cloud: Cloud, stuck_backend: type[StuckBackend]
) -> None:
    cloud.launch(cloud.ec2(), "web")
    portal = cloud.portal(
        cloud.account("alpha"),
        cloud.account("beta"),
        cloud.account("stuck", backend="stuck", timeout=0.2),
    )
    await poll(portal)  # the healthy accounts' drivers and the stuck account's first call
    baseline = threading.active_count() - 1  # without that first stuck call
    most = held = 0
    for _ in range(100):
        statuses = await poll(portal)
        assert statuses["alpha"].phase == "ok", statuses["alpha"].error
        assert statuses["beta"].phase == "ok", statuses["beta"].error
        assert statuses["stuck"].phase == "failed"
        most = max(most, threading.active_count())
        held = max(held, sum(t.name == "wm-lane:stuck" for t in threading.enumerate()))
    print(f"threads: {baseline} before the stuck account, at most {most} over 100 polls")
    assert held == MAX_STUCK  # the stuck account's own threads, never more
    assert most <= baseline + MAX_STUCK + THREAD_MARGIN
    assert "still stuck" in (statuses["stuck"].error or "")

    stuck_backend.release.set()  # the provider answers at last
    lane = (await portal.backend("stuck")).lane
    wait_until(lambda: lane.stuck == 0, timeout=5)
    statuses = await poll(portal)
    assert statuses["stuck"].phase == "ok", statuses["stuck"].error
    await portal.close()


#: A credential helper that never answers (a vault waiting to be unlocked); it ends with
#: the process that ran it, so the test leaves nothing behind.
NEVER_ANSWERS = """import os, time
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(0.1)
"""


@pytest.mark.parametrize("source", ["secret_command", "credential_process"])
def test_a_credential_source_that_never_answers_fails_its_account_in_time(
    cloud: Cloud, slow: FaultProxy, aws_files: Path, tmp_path: Path, source: str
) -> None:
    """Signing in is under the account's deadline too: wm ls waited out secret_command's
    30 s, and forever on a botocore credential_process that never answered."""
    helper = tmp_path / "never_answers.py"
    helper.write_text(NEVER_ANSWERS)
    command = f"{sys.executable} {helper}"
    if source == "secret_command":
        stuck = ec2_account("stuck", cloud.server.port, timeout=TIMEOUT).replace(
            'secret_env = "WM_TEST_SECRET"', f"secret_command = {command!r}"
        )
    else:
        (aws_files / "config").write_text(
            f"[profile locked]\nregion = us-east-1\ncredential_process = {command}\n"
        )
        stuck = (
            f'[[accounts]]\nname = "stuck"\nprovider = "ec2"\ntimeout = {TIMEOUT}\n'
            'credentials = { aws_profile = "locked" }\n'
        )
    config = tmp_path / "config.toml"
    config.write_text("\n".join([ec2_account("alpha", cloud.server.port), stuck]))
    done, elapsed = wm_ls(config)
    assert elapsed < WALL_BOUND, done.stderr
    assert sum(1 for row in done.stdout.splitlines() if " alpha " in row) == 2, done.stdout
    assert done.returncode == 1
    assert f"stuck: not signed in within {TIMEOUT} s (timeout)" in done.stderr


async def test_a_person_answering_a_prompt_is_not_timed(cloud: Cloud) -> None:
    """The deadline counts the machine's time: a secret typed after the account's timeout
    has passed still signs the account in."""
    cloud.launch(cloud.ec2(), "web")

    # a person typing the secret, for twice the account's timeout
    portal, final = await signed_in_after(cloud, typing_s=2.0, account_timeout=1)
    assert final.phase == "ok", final.error
    assert {i.name for i in portal.instances()} == {"web"}


async def signed_in_after(
    cloud: Cloud, *, typing_s: float, account_timeout: float
) -> tuple[Portal, AccountStatus]:
    """One poll of an account, "typed", whose secret a person types in `typing_s`; the
    portal (closed) and the account's final status."""

    def prompt(account: str, what: str) -> str:
        time.sleep(typing_s)
        return "test-dev-secret"

    (typed,) = tomllib.loads(ec2_account("typed", cloud.server.port, account_timeout))["accounts"]
    typed["credentials"] = {"key": DEV_KEY, "keyring": False}
    portal = cloud.portal(AccountConfig.model_validate(typed), resolver=CredentialResolver(prompt))
    try:
        final = await poll(portal)
    finally:
        await portal.close()
    return portal, final["typed"]


class SlowToBuildBackend(Backend):
    """A backend whose construction takes the machine a while (an STS call, a discovery)."""

    BUILD_S = 1.2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(self.BUILD_S)
        super().__init__(*args, **kwargs)

    async def list_instances(self) -> list[Instance]:
        return []


async def test_the_machine_time_after_an_answer_has_the_rest_of_the_deadline(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer given after 1.5 timeouts, then a build of 0.6 of one: the machine took
    less than its timeout, so the account signs in (the wait after the answer was cut to
    what was left of the last whole timeout counted from the question, and failed it)."""
    monkeypatch.setattr(plugins, "load", lambda name: SlowToBuildBackend)

    # a person typing the secret, for 1.5 times the account's timeout
    _, final = await signed_in_after(cloud, typing_s=3.0, account_timeout=2)
    assert final.phase == "ok", final.error


class NeverClosesBackend(Backend):
    """A backend whose goodbye to its provider never gets an answer."""

    async def list_instances(self) -> list[Instance]:
        return []

    async def close(self) -> None:
        await asyncio.Event().wait()


async def test_leaving_waits_for_hung_goodbyes_together_not_one_after_another(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each account's close is bounded (CLOSE_WITHIN_S); three that hang cost that bound
    once, not three times over: `wm ls` prints after closing, so each one delayed the answer."""
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda name: NeverClosesBackend if name == "mute" else real_load(name)
    )
    names = ("mute-a", "mute-b", "mute-c")
    portal = cloud.portal(*(cloud.account(n, backend="mute") for n in names))
    statuses = await poll(portal)  # each backend built, and listed
    assert {s.phase for s in statuses.values()} == {"ok"}, statuses
    started = time.monotonic()
    await portal.close()
    took = time.monotonic() - started
    print(f"three hung closes: {took:.2f} s")
    assert took < CLOSE_WITHIN_S + 1
