"""Stack check, the templates folder (catalog), the launch form from Heat's POST /validate,
and `wm check` / `wm delete`, against the real standalone Heat."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.heat.conftest import FAILING, SMALL, Projects, refresh
from tests.heat.test_heat_backend import FORM
from tests.heat.test_heat_cli import Cli
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.catalog import ParameterConstraint
from winged_monkey.errors import ConfigError
from winged_monkey.models import InstanceState
from winged_monkey_heat.client import TemplateError


def stack_checks(heat: Projects, project: str, stack: str, stack_id: str) -> list[str]:
    """Heat's own stack-level CHECK events (the witness)."""
    reply = heat.witness(project, "GET", f"/stacks/{stack}/{stack_id}/events")
    assert reply.status_code == 200, reply.text
    return [
        e["resource_status"]
        for e in reply.json()["events"]
        if e["resource_name"] == stack and e["resource_status"].startswith("CHECK_")
    ]


async def test_check_is_followed_to_heats_new_check_each_time(heat: Projects) -> None:
    stack = heat.create("chk", "web")
    heat.wait("chk", stack)
    portal = heat.portal("chk")
    await refresh(portal)
    for done in (1, 2):  # the second starts from CHECK_COMPLETE: it must not end at once
        row = portal.instance(f"chk/{stack}")
        assert row is not None
        updates = [u async for u in portal.run_action(Action.CHECK, row)]
        assert updates[-1].phase == "done", updates[-1].message
        assert updates[-1].instance.raw_state == "CHECK_COMPLETE"
        assert updates[-1].instance.state is InstanceState.RUNNING
        assert stack_checks(heat, "chk", "web", stack).count("CHECK_COMPLETE") == done


async def test_check_failed_shows_heats_reason_not_the_earlier_failure(heat: Projects) -> None:
    stack = heat.create("chkf", "broken", FAILING)
    assert heat.wait("chkf", stack) == "CREATE_FAILED"
    portal = heat.portal("chkf")
    await refresh(portal)
    row = portal.instance(f"chkf/{stack}")
    assert row is not None
    assert row.state is InstanceState.ERROR  # a check is allowed on a failed app
    updates = [u async for u in portal.run_action(Action.CHECK, row)]
    final = updates[-1]
    assert final.phase == "failed"
    assert final.instance.raw_state == "CHECK_FAILED"
    assert "CHECK" in final.message
    assert "Resource not created" in final.message, final.message
    assert heat.status("chkf", stack) == "CHECK_FAILED"


def write_templates(folder: Path) -> None:
    folder.mkdir()
    (folder / "web.yaml").write_text(SMALL)
    (folder / "form.yaml").write_text(FORM)
    (folder / "env.yaml").write_text("parameters:\n  size: 3\n")  # an environment: skipped
    (folder / "broken.yaml").write_text(FORM.replace("OS::Heat::None", "OS::Nope"))
    (folder / "notes.txt").write_text("heat_template_version: but not a template file")


async def test_templates_folder_is_the_catalog(heat: Projects, tmp_path: Path) -> None:
    folder = tmp_path / "heat-templates"
    write_templates(folder)
    backend = heat.backend("tpl", templates=str(folder))
    assert Capability.CATALOG in backend.capabilities
    found = await backend.catalog()
    items = {item.name: item for item in found.items}
    assert sorted(items) == ["broken", "form", "web"]
    assert {item.kind for item in found.items} == {"template"}
    assert items["web"].description == "two members and a value"
    assert items["web"].needs == ()  # every parameter has a default
    assert items["web"].id == str(folder / "web.yaml")
    assert items["form"].needs == ("parameters: name_prefix, db_password",)
    assert items["broken"].description == (
        "not valid: The Resource Type (OS::Nope) could not be found."
    )

    missing = heat.backend("tpl2", templates=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError) as bad:
        await missing.catalog()
    assert bad.value.account == "tpl2"
    assert "templates folder" in bad.value.message
    assert "does not exist" in bad.value.message
    assert Capability.CATALOG not in heat.backend("plain").capabilities


async def test_template_form_is_heats_reading(heat: Projects, tmp_path: Path) -> None:
    path = tmp_path / "form.yaml"
    path.write_text(FORM)
    form = await heat.backend("form").template_form(str(path))
    assert form.account == "form"
    assert form.description == "a launch form's worth of parameters"
    fields = {p.name: p for p in form.parameters}
    assert form.parameters[0].name == "count"  # its group comes first
    count = fields["count"]
    assert (count.type, count.label, count.description, count.default) == (
        "number",
        "Web servers",
        "how many",
        "2",
    )
    assert count.constraints == (
        ParameterConstraint(kind="range", min=1, max=5, description="one to five"),
    )
    assert fields["flavor"].constraints[0].values == ("m1.small", "m1.large")
    kinds = [c.kind for c in fields["name_prefix"].constraints]
    assert kinds == ["length", "allowed_pattern"]
    assert fields["name_prefix"].constraints[1].pattern == "[a-z]+"
    assert fields["name_prefix"].default is None
    assert fields["db_password"].hidden
    assert fields["tags"].type == "comma_delimited_list"
    assert fields["tags"].default == "a,b"


async def test_launch_rejections_name_the_parameter(heat: Projects) -> None:
    backend = heat.backend("rej")
    base = {"name_prefix": "web", "db_password": "s3cret"}
    with pytest.raises(TemplateError) as out_of_range:
        await backend.launch_app(FORM, "r1", {**base, "count": "9"})
    assert out_of_range.value.parameter == "count"
    assert "count" in out_of_range.value.message
    with pytest.raises(TemplateError) as missing:
        await backend.launch_app(FORM, "r2", {"db_password": "s3cret"})
    assert missing.value.parameter == "name_prefix", missing.value.message
    assert "s3cret" not in missing.value.message


def test_wm_check_and_wm_delete(heat: Projects, tmp_path: Path) -> None:
    cli = Cli(heat, tmp_path)
    cli.add_heat("cl")
    stack = heat.create("cl", "svc")
    heat.wait("cl", stack)
    checked = cli.run("check", f"cl/{stack}")
    assert checked.exit_code == 0, checked.stderr
    assert f"cl/{stack}: ok: svc checked" in checked.stdout
    assert heat.status("cl", stack) == "CHECK_COMPLETE"
    deleted = cli.run("delete", "--yes", f"cl/{stack}")
    assert deleted.exit_code == 0, deleted.stderr
    assert heat.witness("cl", "GET", f"/stacks/{stack}").json()["stack"]["stack_status"] == (
        "DELETE_COMPLETE"
    )
