"""What Heat says, said right: a checked app keeps its state, list defaults as typed,
one reason per failed constraint, and brackets shown as they are in the TUI form."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.heat.conftest import Projects
from tests.heat.test_heat_ui import text_of
from winged_monkey.actions import Action, refusal
from winged_monkey.catalog import TemplateForm
from winged_monkey.models import InstanceState
from winged_monkey.ui.widgets.param_form import ParamForm
from winged_monkey_heat.states import normalise

PATTERNED = """
heat_template_version: 2018-08-31
description: names [in brackets] and patterns
parameters:
  code:
    type: string
    default: AB1
    description: "a code like [A-Z]+"
    constraints:
      - length: {min: 2, max: 8}
        description: two to eight
      - allowed_pattern: "[A-Z]+[a-zA-Z0-9]*"
        description: starts [upper] case
  tag:
    type: string
    default: ABC
    constraints:
      - allowed_pattern: "[A-Z]+[a-zA-Z0-9]*"
  sizes:
    type: comma_delimited_list
    default: [4, 5, 6]
resources:
  nothing:
    type: OS::Heat::None
"""


class FormApp(App[None]):
    def __init__(self, form: TemplateForm) -> None:
        super().__init__()
        self.form = form

    def compose(self) -> ComposeResult:
        yield ParamForm(self.form)


async def test_form_keeps_brackets_and_gives_one_reason_per_constraint(heat: Projects) -> None:
    template = heat.tmp_path / "patterned.yaml"
    template.write_text(PATTERNED)
    form = await heat.backend("words").template_form(str(template))
    fields = {p.name: p for p in form.parameters}
    assert fields["sizes"].default == "4,5,6"
    assert [c.description for c in fields["code"].constraints] == [
        "two to eight",
        "starts [upper] case",
    ]
    app = FormApp(form)
    async with app.run_test(size=(80, 24)) as pilot:
        param_form = app.query_one(ParamForm)
        code, tag = param_form.inputs[:2]
        code.value, tag.value = "lower", "lower"
        assert param_form.check() == {
            "code": "starts [upper] case",  # its own reason, not both joined
            "tag": "matches [A-Z]+[a-zA-Z0-9]*",
        }
        await pilot.pause()
        text = text_of(app.screen)
        assert "✗ starts [upper] case" in text
        assert "✗ matches [A-Z]+[a-zA-Z0-9]*" in text
        assert "a code like [A-Z]+" in text
        assert "names [in brackets] and patterns" in text
        code.value = "A"
        assert param_form.check()["code"] == "two to eight"


async def test_a_checked_suspended_app_is_still_suspended(heat: Projects) -> None:
    stack = heat.create("susp", "quiet")
    assert heat.wait("susp", stack) == "CREATE_COMPLETE"
    reply = heat.witness("susp", "POST", f"/stacks/quiet/{stack}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("susp", stack) == "SUSPEND_COMPLETE"
    backend = heat.backend("susp")
    row = await backend.get_instance(stack)
    assert row is not None
    assert row.state is InstanceState.SUSPENDED
    await backend.act(Action.CHECK, row)
    assert heat.wait("susp", stack) == "CHECK_COMPLETE"
    for fresh in (backend, heat.backend("susp")):  # the same process, and a new one
        (listed,) = await fresh.list_instances()
        assert (listed.state, listed.raw_state) == (InstanceState.SUSPENDED, "CHECK_COMPLETE")


async def test_a_snapshot_of_a_suspended_app_leaves_it_suspended(heat: Projects) -> None:
    """Heat's status after a snapshot is SNAPSHOT_COMPLETE whatever the app was: a
    suspended app read as running, and `wm start` refused it ('is already running'). (The
    portal's rule lets a start through; the Heat backend refuses it, as Heat would:
    test_heat_cli.py.)"""
    stack = heat.create("snap", "quiet")
    assert heat.wait("snap", stack) == "CREATE_COMPLETE"
    reply = heat.witness("snap", "POST", f"/stacks/quiet/{stack}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("snap", stack) == "SUSPEND_COMPLETE"
    reply = heat.witness("snap", "POST", f"/stacks/quiet/{stack}/snapshots", json={"name": "s1"})
    assert reply.status_code == 200, reply.text
    assert heat.wait("snap", stack) == "SNAPSHOT_COMPLETE"
    (listed,) = await heat.backend("snap").list_instances()
    assert (listed.state, listed.raw_state) == (InstanceState.SUSPENDED, "SNAPSHOT_COMPLETE")
    assert refusal(Action.START, listed) is None
    assert refusal(Action.STOP, listed) == "quiet is already suspended"


def test_a_status_of_an_action_heat_has_not_is_unknown_not_guessed() -> None:
    """A newer Heat's action (or a proxy's) read as running: wm maps what Heat documents."""
    assert normalise("MIGRATE_COMPLETE") is InstanceState.UNKNOWN
    assert normalise("MIGRATE_IN_PROGRESS") is InstanceState.UNKNOWN
    assert normalise("CREATE_PAUSED") is InstanceState.UNKNOWN
    assert normalise("SNAPSHOT_COMPLETE", "SUSPEND_COMPLETE") is InstanceState.SUSPENDED
    assert normalise("CHECK_COMPLETE") is InstanceState.UNKNOWN  # before it: not known
    assert normalise("ADOPT_COMPLETE") is InstanceState.RUNNING
    # a rollback: of a create, it never ran; of an update, it runs on its old template
    assert normalise("ROLLBACK_COMPLETE", "CREATE_FAILED") is InstanceState.ERROR
    assert normalise("ROLLBACK_COMPLETE", "CREATE_IN_PROGRESS") is InstanceState.ERROR
    assert normalise("ROLLBACK_COMPLETE", "UPDATE_FAILED") is InstanceState.RUNNING
    assert normalise("ROLLBACK_COMPLETE") is InstanceState.UNKNOWN  # which one: not known
    # under way: a create's resources are deleted, an update's old template put back
    assert normalise("ROLLBACK_IN_PROGRESS", "CREATE_FAILED") is InstanceState.STOPPING
    assert normalise("ROLLBACK_IN_PROGRESS", "UPDATE_FAILED") is InstanceState.PENDING
    assert normalise("ROLLBACK_IN_PROGRESS") is InstanceState.UNKNOWN


NOVA = """
heat_template_version: 2018-08-31
resources:
  vm:
    type: OS::Nova::Server
    properties: {image: debian, flavor: m1.small}
"""


async def test_a_cloud_without_a_service_is_not_a_wrong_template(heat: Projects) -> None:
    folder = heat.tmp_path / "needs"
    folder.mkdir()
    (folder / "vm.yaml").write_text(NOVA)
    (folder / "wrong.yaml").write_text(NOVA.replace("OS::Nova::Server", "OS::Nope"))
    backend = heat.backend("needs", templates=str(folder))
    items = {i.name: i for i in (await backend.catalog()).items}
    assert items["vm"].description == "this cloud has no nova for OS::Nova::Server"
    assert items["vm"].needs == ("a cloud with nova",)
    assert items["wrong"].needs == ("a fixed template",)
