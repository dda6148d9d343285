"""What the app screens ask of the Heat backend (issue 15): an app's update form filled
with its current values, and the environment files beside a template; on the real
standalone Heat."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.heat.conftest import Projects
from tests.heat.test_heat_files import wait_done
from tests.heat.tree import write_tree
from winged_monkey.catalog import TemplateForm
from winged_monkey.errors import InvalidRequest

#: A hidden parameter, a constrained one, a list, one without a default, and a nested file.
FORMED = """
heat_template_version: 2018-08-31
description: an app to update
parameters:
  size:
    type: number
    default: 2
    constraints:
      - range: {min: 1, max: 5}
        description: one to five
  secret:
    type: string
    hidden: true
    default: s3cr3t
  names:
    type: comma_delimited_list
    default: a,b
  flavour:
    type: string
  fast:
    type: boolean
    default: false
resources:
  inner:
    type: inner.yaml
"""
INNER = "heat_template_version: 2018-08-31\nresources:\n  none: {type: OS::Heat::None}\n"
#: Beside FORMED: its own environment, sets the list's default.
FORMED_ENV = "parameter_defaults:\n  names: x,y\n"


@pytest.fixture
def formed(tmp_path: Path) -> Path:
    folder = tmp_path / "formed"
    folder.mkdir()
    (folder / "app.yaml").write_text(FORMED)
    (folder / "inner.yaml").write_text(INNER)
    (folder / "app_env.yaml").write_text(FORMED_ENV)
    return folder


async def test_an_apps_update_form_holds_its_current_values(heat: Projects, formed: Path) -> None:
    backend = heat.backend("upd")
    params = {"flavour": "big", "secret": "hush-hush", "size": "3", "fast": "true"}
    stack_id = await backend.launch_app(str(formed / "app.yaml"), "upd", params)
    row = await wait_done(backend, stack_id)
    assert row.raw_state == "CREATE_COMPLETE", row.extra.get("fault")

    form = await backend.update_form(row)
    assert form.account == "upd"
    assert form.description == "an app to update"
    fields = {p.name: p for p in form.parameters}
    assert [p.name for p in form.parameters] == ["size", "secret", "names", "flavour", "fast"]
    assert {n: p.default for n, p in fields.items()} == {
        "size": "3",  # the value given at launch, not the template's default
        "secret": None,  # hidden: never shown, kept by an update that leaves it out
        "names": "x,y",  # from the environment beside the template
        "flavour": "big",
        "fast": "true",  # as a form says it (Heat shows True)
    }
    assert fields["secret"].hidden
    (size_rule,) = fields["size"].constraints
    assert (size_rule.kind, size_rule.min, size_rule.max) == ("range", 1, 5)
    assert size_rule.description == "one to five"

    # What the form changes goes to update_app; the rest (the hidden one too) is kept.
    marker = await backend.update_app(row, {"size": "4"})
    row = await wait_done(backend, stack_id)
    ended = await backend.update_finished(row, marker)
    assert ended is not None
    assert ended.status == "UPDATE_COMPLETE", ended.reason
    again = {p.name: p.default for p in (await backend.update_form(row)).parameters}
    assert again == {"size": "4", "secret": None, "names": "x,y", "flavour": "big", "fast": "true"}
    shown = heat.witness("upd", "GET", f"/stacks/{stack_id}").json()["stack"]["parameters"]
    assert shown["secret"] == "******"  # Heat still holds it (masked on show)
    assert "hush-hush" not in form.model_dump_json()


async def test_environment_files_beside_a_template(heat: Projects, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree")
    (tree / "notes.yaml").write_text("- not\n- an environment\n")
    (tree / "empty.yaml").write_text("")
    backend = heat.backend("envs", templates=str(tree))
    found = await backend.environment_files("app")  # a catalog name
    assert [(e.path, e.default) for e in found] == [
        (str(tree / "app_env.yaml"), True),  # the one a launch uses unless told
        (str(tree / "extra_env.yaml"), False),
        (str(tree / "override_env.yaml"), False),
    ]
    # A file path works the same; a template with no environment of its own lists the rest.
    beside_web = await backend.environment_files(str(tree / "web.yaml"))
    assert [(e.name, e.default) for e in beside_web] == [
        (n, False) for n in ("app_env.yaml", "extra_env.yaml", "override_env.yaml")
    ]
    assert await backend.environment_files("heat_template_version: 2018-08-31\n") == []
    with pytest.raises(InvalidRequest, match="no template nowhere"):
        await backend.environment_files("nowhere")


async def test_the_launch_form_is_read_with_the_environments_picked(
    heat: Projects, tmp_path: Path
) -> None:
    tree = write_tree(tmp_path / "tree")
    backend = heat.backend("formenv", templates=str(tree))

    def defaults(form: TemplateForm) -> dict[str, str | None]:
        return {p.name: p.default for p in form.parameters}

    # None: the environment a launch given none uses (app_env.yaml, beside it): its
    # parameter_defaults and its parameters (the template's default for size is 1).
    own = defaults(await backend.template_form("app"))
    assert own == {"greeting": "hello from the environment", "size": "2"}
    later = [str(tree / "app_env.yaml"), str(tree / "override_env.yaml")]
    picked = defaults(await backend.template_form("app", later))
    assert picked == {"greeting": "hello from the environment", "size": "3"}  # later wins
