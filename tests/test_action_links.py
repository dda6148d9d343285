"""What an action says when its own call meets a broken link, with moto behind the fault
proxy as the witness of what reached the cloud: a request the cloud acted on whose answer
was lost (cut, closed, dripped past the deadline, or a gateway's 502/504 in its place) is
unknown, never failed nor done, and the next listing settles it by what it shows; a request
that never reached the cloud is not "done"; a launch whose answer was lost is unknown, sent
once, and the listing finds the instance it created. test_outcomes.py holds the delayed and
the truncated stop, and a follow whose looks all hang."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import AMI, DEV_KEY, DEV_SECRET, Cloud
from tests.faultproxy import PASS, Fault, FaultProxy
from tests.test_outcomes import act, action_events, listed, portal_of
from winged_monkey.actions import Action
from winged_monkey.catalog import LaunchRequest
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import AnswerLostError
from winged_monkey.models import Instance

TIMEOUT = 2.0


async def running_web(
    cloud: Cloud, proxy: FaultProxy, tmp_path: Path
) -> tuple[str, Portal, Instance]:
    """A running `web` on moto, listed by a portal whose account `dev` goes through `proxy`:
    its id, the portal, and the row."""
    web = cloud.launch(cloud.ec2(), "web")
    account = cloud.account("dev", port=proxy.port, timeout=TIMEOUT)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3", action_timeout=4)
    return web, portal, (await listed(portal, "dev"))["web"]


@pytest.fixture
def proxy(cloud: Cloud, fault_proxy: Callable[[int], FaultProxy]) -> FaultProxy:
    return fault_proxy(cloud.server.port)


# -- a stop the cloud carried out, whose answer was lost ---------------------------------

LOST_STOP = {
    # The connection closed after the cloud acted, before a byte of its answer.
    "closed before the answer": (Fault("truncate", keep=0, match=b"StopInstances"), "closed"),
    # Cut in the status line, in the headers, in the body.
    "cut in the status line": (Fault("truncate", keep=12, match=b"StopInstances"), "cut short"),
    "cut in the headers": (Fault("truncate", keep=60, match=b"StopInstances"), "cut short"),
    "cut in the body": (Fault("truncate", keep=400, match=b"StopInstances"), "cut short"),
    # Reset (RST, not a clean close: a peer that crashed, a firewall's reset) after the cloud
    # acted, before its answer and in its body.
    "reset before the answer": (Fault("reset", keep=0, match=b"StopInstances"), "reset"),
    "reset in the body": (Fault("reset", keep=400, match=b"StopInstances"), "cut short"),
    # A byte every 0.5 s: the answer would take minutes; the deadline ends the wait.
    "dripped past the deadline": (Fault("drip", interval=0.5, match=b"StopInstances"), "(timeout)"),
}


@pytest.mark.parametrize(("fault", "said"), LOST_STOP.values(), ids=list(LOST_STOP))
async def test_a_stop_the_cloud_did_whose_answer_was_lost_is_unknown_then_observed(
    cloud: Cloud, proxy: FaultProxy, tmp_path: Path, fault: Fault, said: str
) -> None:
    web, portal, instance = await running_web(cloud, proxy, tmp_path)
    proxy.fault = fault
    updates = await act(portal, Action.STOP, instance)

    assert cloud.state_of(cloud.ec2(), web) in ("stopping", "stopped")  # the witness: it acted
    final = updates[-1]
    assert [u.phase for u in updates] == ["requested", "unknown"], final
    assert said in final.message
    assert final.message.endswith("the cloud may have acted; the next poll will tell")
    assert final.instance.state == "running"  # the row as last listed, no state assumed
    events = action_events(portal.store, web)
    assert [(e.outcome, e.new_state) for e in events] == [("requested", None), ("unknown", None)]

    proxy.fault = PASS  # the next listing tells, and settles the intent by what it shows
    assert (await listed(portal, "dev"))["web"].state == "stopped"
    events = action_events(portal.store, web)
    assert [(e.outcome, e.new_state) for e in events][-1] == ("ok", "stopped")
    assert events[-1].cause == events[0].key
    assert not portal.store.open_intents("dev")
    await portal.close()


@pytest.mark.parametrize("status", [502, 504])
async def test_a_stop_answered_by_a_gateway_after_the_cloud_acted_is_unknown_not_failed(
    cloud: Cloud, proxy: FaultProxy, tmp_path: Path, status: int
) -> None:
    """502/504 are a gateway's words about the cloud's answer it did not get: the request
    went on, and the cloud may have carried it out (here it did)."""
    web, portal, instance = await running_web(cloud, proxy, tmp_path)
    proxy.fault = Fault("gateway", status=status, match=b"StopInstances")
    final = (await act(portal, Action.STOP, instance))[-1]

    assert cloud.state_of(cloud.ec2(), web) == "stopped"
    assert final.phase == "unknown", final
    assert f"answered HTTP {status}" in final.message
    assert "the cloud may have acted" in final.message
    assert [e.outcome for e in action_events(portal.store, web)] == ["requested", "unknown"]

    proxy.fault = PASS
    assert (await listed(portal, "dev"))["web"].state == "stopped"
    events = action_events(portal.store, web)
    assert [(e.outcome, e.new_state) for e in events][-1] == ("ok", "stopped")
    await portal.close()


# -- a stop that never reached the cloud ------------------------------------------------

NOT_SENT = {
    # Held, never passed on: no answer in time, so unknown, and nothing happened.
    "hung": (Fault("hang", match=b"StopInstances"), "unknown", "(timeout)"),
    # The cloud's (or a proxy's) own refusal: failed, with its status.
    "503": (Fault("status", status=503, match=b"StopInstances"), "failed", "HTTP 503"),
    "500": (Fault("status", status=500, match=b"StopInstances"), "failed", "HTTP 500"),
    "not the API": (Fault("garbage", match=b"StopInstances"), "failed", "not what its API"),
}


@pytest.mark.parametrize(("fault", "phase", "said"), NOT_SENT.values(), ids=list(NOT_SENT))
async def test_a_stop_that_never_reached_the_cloud_is_never_done_and_no_state_is_made_up(
    cloud: Cloud, proxy: FaultProxy, tmp_path: Path, fault: Fault, phase: str, said: str
) -> None:
    web, portal, instance = await running_web(cloud, proxy, tmp_path)
    proxy.fault = fault
    final = (await act(portal, Action.STOP, instance))[-1]

    assert cloud.state_of(cloud.ec2(), web) == "running"  # nothing reached the cloud
    assert (final.phase, final.instance.state) == (phase, "running"), final
    assert said in final.message
    events = action_events(portal.store, web)
    assert [e.outcome for e in events] == ["requested", phase]
    if phase == "unknown":
        assert events[-1].new_state is None
        # Open until a listing shows where it went: running past action_timeout is failed.
        assert [e.key for e in portal.store.open_intents("dev")] == [events[0].key]
    proxy.fault = PASS
    assert (await listed(portal, "dev"))["web"].state == "running"
    await portal.close()


# -- what `wm stop` says ---------------------------------------------------------------


def test_wm_stop_whose_answer_was_cut_says_unknown_and_exits_1(
    cloud: Cloud, proxy: FaultProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = cloud.launch(cloud.ec2(), "web")
    monkeypatch.setenv("WM_T_SECRET", DEV_SECRET)
    config = tmp_path / "config.toml"
    config.write_text(
        "action_timeout = 4\naction_poll_interval = 0.1\n"
        f'[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\ntimeout = 2\n'
        f'endpoint = {{ host = "127.0.0.1", port = {proxy.port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", secret_env = "WM_T_SECRET", keyring = false }}\n'
    )
    env = {"WM_CONFIG": str(config), "WM_DATA_DIR": str(tmp_path / "data")}
    proxy.fault = Fault("truncate", keep=40, match=b"StopInstances")
    result = CliRunner().invoke(main, ["stop", f"dev/{web}", "--yes"], env=env)

    assert cloud.state_of(cloud.ec2(), web) == "stopped"
    assert result.exit_code == ExitCode.FAILED, result.output
    assert result.stdout == ""  # nothing said "ok"
    assert f"dev/{web}: unknown: the reply from 127.0.0.1:{proxy.port} was cut short" in (
        result.stderr
    )
    assert "the cloud may have acted; the next poll will tell" in result.stderr
    proxy.fault = PASS
    listing = CliRunner().invoke(main, ["ls", "--json"], env=env)
    assert '"state": "stopped"' in listing.stdout, listing.output


# -- a launch whose answer was lost ----------------------------------------------------


def run_instances(cloud: Cloud) -> int:
    return sum(1 for c in cloud.server.calls if c.action == "RunInstances")


def created(cloud: Cloud) -> list[str]:
    reply = cloud.ec2().describe_instances()
    return [i["InstanceId"] for r in reply["Reservations"] for i in r["Instances"]]


@pytest.mark.parametrize(
    "lost", ["cut in the body", "closed before the answer", "gateway 504"], ids=str
)
async def test_a_launch_whose_answer_was_lost_is_unknown_sent_once_and_found_by_the_listing(
    cloud: Cloud, proxy: FaultProxy, tmp_path: Path, lost: str
) -> None:
    proxy.fault = {
        "cut in the body": Fault("truncate", keep=400, match=b"RunInstances"),
        "closed before the answer": Fault("truncate", keep=0, match=b"RunInstances"),
        "gateway 504": Fault("gateway", status=504, match=b"RunInstances"),
    }[lost]
    account = cloud.account("dev", port=proxy.port, timeout=TIMEOUT)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3", action_timeout=4)
    before = set(created(cloud))
    request = LaunchRequest(item=AMI, name="newbie", size="t3.micro")

    with pytest.raises(AnswerLostError):
        [u async for u in portal.launch("dev", request)]

    (new,) = set(created(cloud)) - before  # the witness: created once, never sent again
    assert run_instances(cloud) == 1
    (outcome, intent) = portal.store.events(kinds=["launch"])  # newest first
    assert (intent.outcome, outcome.outcome, outcome.cause) == ("requested", "unknown", intent.key)
    assert "the cloud may have created it" in (outcome.detail or "")

    proxy.fault = PASS
    assert (await listed(portal, "dev"))["newbie"].id == new
    settled = portal.store.events(kinds=["launch"])[0]
    assert (settled.outcome, settled.target, settled.cause) == ("ok", new, intent.key)
    assert run_instances(cloud) == 1
    await portal.close()
