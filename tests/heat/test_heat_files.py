"""Templates with the files they reach and their environments, gathered as python-heatclient
gathers them and run on the real standalone Heat: nested files (same folder, subfolder,
`../`), groups and chains of them, `get_file`, environments in order, preview, update,
and CloudFormation-format templates."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.heat.conftest import Projects
from tests.heat.tree import MOTD, SCRIPT, write_tree
from winged_monkey.errors import InvalidRequest
from winged_monkey.models import Instance
from winged_monkey_heat import HeatBackend
from winged_monkey_heat.files import gather

#: heatclient's own gathering, as `openstack stack create -t T -e E...` does it.
HEATCLIENT = """
import json, sys
from heatclient.common import template_utils
from oslo_serialization import jsonutils
template, envs = sys.argv[1], sys.argv[2:]
files, tpl = template_utils.process_template_path(template)
env_urls = []
env_files, env = template_utils.process_multiple_environments_and_files(
    env_paths=envs, env_list_tracker=env_urls)
body = {"template": tpl, "files": dict(list(files.items()) + list(env_files.items())),
        "environment": env}
if env_urls:
    body["environment_files"] = env_urls
print(jsonutils.dumps(body))
"""


def heatclient_body(python: Path, template: Path, *envs: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-c", HEATCLIENT, str(template), *map(str, envs)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    body: dict[str, Any] = json.loads(done.stdout)
    return body


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tree")


def test_files_and_environment_are_heatclients(heat_python: Path, tree: Path) -> None:
    envs = (tree / "app_env.yaml", tree / "override_env.yaml")
    ours = gather(tree / "app.yaml", envs).body()
    theirs = heatclient_body(heat_python, tree / "app.yaml", *envs)
    assert json.loads(json.dumps(ours)) == theirs
    root = tree.parent.as_uri()
    assert sorted(ours["files"]) == [
        f"{root}/app/app_env.yaml",
        f"{root}/app/files/motd.txt",
        f"{root}/app/lib/db.yaml",
        f"{root}/app/lib/thing.yaml",
        f"{root}/app/member.yaml",
        f"{root}/app/override_env.yaml",
        f"{root}/app/scripts/setup.sh",
        f"{root}/app/web.yaml",
        f"{root}/common/tag.yaml",  # ../../ from lib/db.yaml
    ]
    assert ours["environment"]["parameters"] == {"size": 3}  # the later environment wins
    # A template given as a file: URL; every environment section; a binary get_file.
    envs = (tree / "app_env.yaml", tree / "extra_env.yaml")
    alone = gather((tree / "web.yaml").as_uri(), envs).body()
    assert alone == heatclient_body(heat_python, tree / "web.yaml", *envs)
    assert alone["environment"]["event_sinks"] == [{"type": "zaqar-queue", "target": "app-events"}]
    assert f"{root}/app/web.yaml" in alone["files"]  # per resource, relative to lib/
    binary = gather(tree / "binary.yaml").body()
    assert binary == heatclient_body(heat_python, tree / "binary.yaml")


async def wait_done(backend: HeatBackend, stack_id: str) -> Instance:
    """The stack once Heat has finished with it (a generous bound: the engine is shared)."""
    deadline = time.monotonic() + 90
    while True:
        row = await backend.get_instance(stack_id)
        assert row is not None
        if not row.raw_state.endswith("IN_PROGRESS"):
            return row
        assert time.monotonic() < deadline, row.raw_state
        await asyncio.sleep(0.2)


def outputs(heat: Projects, project: str, stack_id: str) -> dict[str, Any]:
    reply = heat.witness(project, "GET", f"/stacks/{stack_id}")
    assert reply.status_code == 200, reply.text
    return {o["output_key"]: o["output_value"] for o in reply.json()["stack"]["outputs"]}


async def test_nested_launch_with_environments_runs_and_updates(heat: Projects, tree: Path) -> None:
    backend = heat.backend("nest")
    envs = [str(tree / "app_env.yaml"), str(tree / "override_env.yaml")]
    stack_id = await backend.launch_app(str(tree / "app.yaml"), "nested", {}, envs)
    row = await wait_done(backend, stack_id)
    assert row.raw_state == "CREATE_COMPLETE", row.extra.get("fault")
    found = outputs(heat, "nest", stack_id)
    assert found == {
        "greeting": "hello from the environment",  # parameter_defaults
        "motd": MOTD,  # get_file of a text
        "db_script": SCRIPT,  # get_file ../ from a nested file in a subfolder
        "size": 3,  # the second environment overrides the first
        "thing": "a thing from the environment",  # a custom type mapped to a file
    }
    members = await backend.resources(stack_id)
    assert {r.name: r.type for r in members}["members"] == "OS::Heat::ResourceGroup"

    # An update of one parameter keeps the others (Heat's PATCH) and is followed to its end.
    marker = await backend.update_app(row, {"greeting": "changed"})
    row = await wait_done(backend, stack_id)
    ended = await backend.update_finished(row, marker)
    assert ended is not None
    assert ended.status == "UPDATE_COMPLETE", ended.reason
    found = outputs(heat, "nest", stack_id)
    assert (found["greeting"], found["size"], found["motd"]) == ("changed", 3, MOTD)


async def test_a_template_alone_uses_the_environment_beside_it(heat: Projects, tree: Path) -> None:
    backend = heat.backend("own", templates=str(tree))
    found = {item.name: item for item in (await backend.catalog()).items}
    # app_env.yaml goes with app.yaml: its custom type and parameter_defaults make it valid.
    assert found["app"].description == "a nested app"
    assert found["app"].needs == ()
    assert "web" in found
    assert "app_env" not in found
    # The catalog name alone launches it, with its environment.
    stack_id = await backend.launch_app("app", "by-name", {})
    row = await wait_done(backend, stack_id)
    assert row.raw_state == "CREATE_COMPLETE", row.extra.get("fault")
    assert outputs(heat, "own", stack_id)["size"] == 2
    with pytest.raises(InvalidRequest, match="no template nowhere"):
        await backend.launch_app("nowhere", "x", {})


async def test_a_chain_of_files_runs(heat: Projects, tree: Path) -> None:
    backend = heat.backend("chain")
    stack_id = await backend.launch_app(str(tree / "chain.yaml"), "chained", {})
    row = await wait_done(backend, stack_id)
    assert row.raw_state == "CREATE_COMPLETE", row.extra.get("fault")


async def test_preview_says_what_would_be_created(heat: Projects, tree: Path) -> None:
    backend = heat.backend("pre")
    seen = await backend.preview_app(str(tree / "app.yaml"), "maybe", {})
    names = {(r.nested_in, r.name, r.depth) for r in seen}
    assert ("", "motd", 0) in names
    assert ("web", "said", 1) in names  # inside web.yaml
    assert ("db", "script", 1) in names  # inside lib/db.yaml
    assert ("db-tag", "none", 2) in names  # inside ../../common/tag.yaml, inside db
    assert heat.witness("pre", "GET", "/stacks").json()["stacks"] == []  # nothing created


async def test_cloudformation_templates_yaml_and_json(heat: Projects, tree: Path) -> None:
    backend = heat.backend("cfn", templates=str(tree))
    found = {item.name: item for item in (await backend.catalog()).items}
    assert found["cfn_yaml"].description == "a CloudFormation-format template in YAML"
    assert found["cfn_json"].description == "a CloudFormation-format template in JSON"
    form = await backend.template_form(str(tree / "cfn_json.json"))
    assert [(p.name, p.default) for p in form.parameters] == [("Tag", "ABC")]
    for file, params in (("cfn_yaml.yaml", {"Length": "8"}), ("cfn_json.json", {"Tag": "XYZ"})):
        stack_id = await backend.launch_app(str(tree / file), file.split(".")[0], params)
        row = await wait_done(backend, stack_id)
        assert row.raw_state == "CREATE_COMPLETE", row.extra.get("fault")
        assert {k: str(v) for k, v in outputs(heat, "cfn", stack_id).items()} == params
    seen = await backend.preview_app(str(tree / "cfn_yaml.yaml"), "maybe", {})
    assert {(r.name, r.type) for r in seen} == {
        ("Marker", "OS::Heat::None"),
        ("Secret", "OS::Heat::RandomString"),
    }
