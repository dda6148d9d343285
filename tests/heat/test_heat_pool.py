"""A pool deployable realised by an image on EC2 (moto) and a HOT template on a real Heat:
an unknown price is never the cheapest, and the admin's priority puts Heat first; the
launch then creates the stack in Heat (Heat itself is the witness)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.aggregator.server import (
    AMI,
    AggregatorProcess,
    RunningAggregator,
    account_toml,
    server_env,
)
from tests.heat.conftest import SMALL, Projects
from tests.heat.heatserver import HeatServer
from winged_monkey.demo.server import MotoServer


def write(workdir: Path, moto: MotoServer, heat: HeatServer, project: str, priority: str) -> Path:
    folder = workdir / "templates"
    folder.mkdir(parents=True)
    template = folder / "web.yaml"
    template.write_text(SMALL, encoding="utf-8")
    text = (
        "action_poll_interval = 0.1\naction_timeout = 60\nbusy_refresh_interval = 0.2\n\n"
        f'[serve]\npoll_interval = 0.5\ntokens = "{workdir}/tokens.sqlite3"\n\n'
        f"[serve.pools.mixed]\npriority = {{ {priority} }}\n\n"
        "[[serve.pools.mixed.deployables]]\n"
        'name = "web"\nvcpus = 1\n'
        f'images = {{ east = "{AMI}" }}\ntemplates = {{ heat-lab = "{template}" }}\n\n'
    )
    text += account_toml("east", "us-east-1", "mixed", moto.port)
    text += (
        # Heat validates the template for the catalog; its engine may still be deleting
        # earlier tests' stacks, so the deadline is generous (this test is about ranking).
        '[[accounts]]\nname = "heat-lab"\nbackend = "heat"\npool = "mixed"\ntimeout = 30\n'
        f'endpoint_url = "{heat.url}"\nproject = "{project}"\ntemplates = "{folder}"\n'
        "credentials = { keyring = false }\n"
    )
    path = workdir / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("priority", "chosen"), [("", "east"), ("heat-lab = 1", "heat-lab")])
def test_a_template_deployable_on_heat_by_priority_not_by_an_unknown_price(
    heat_server: HeatServer,
    moto_server: MotoServer,
    tmp_path: Path,
    priority: str,
    chosen: str,
) -> None:
    moto_server.reset()
    projects = Projects(heat_server, tmp_path, uuid.uuid4().hex[:8])
    workdir = tmp_path / "agg"
    workdir.mkdir()
    path = write(workdir, moto_server, heat_server, projects.project("heat-lab"), priority)
    with AggregatorProcess(workdir, path, server_env(workdir)) as process:
        agg = RunningAggregator(process, workdir / "tokens.sqlite3", moto_server)
        viewer = agg.client(agg.mint("vera", "viewer"))
        (scores,) = viewer.get("/api/v1/pools/mixed/scores").json()["deployables"]
        heat = next(c for c in scores["ranked"] if c["account"] == "heat-lab")
        assert heat["launchable"], (heat["reasons"], heat["summary"])
        assert heat["reasons"][0] == (
            f"template {workdir}/templates/web.yaml: price unknown "
            "(counted dearer than every known price)"
        )
        assert scores["chosen"] == chosen
        if chosen == "east":
            return
        assert scores["why"].startswith("heat-lab: the highest priority (1); ")

        operator = agg.client(agg.mint("olga", "operator"))
        reply = operator.post(
            "/api/v1/pools/mixed/launches", json={"deployable": "web", "name": "site"}
        )
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["account"] == "heat-lab"
        (stack_id,) = accepted["ids"]
        assert projects.wait("heat-lab", stack_id) == "CREATE_COMPLETE"
