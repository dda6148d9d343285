"""`wm events` at 80 columns on a real Heat: a stack's resources' events read as the same
event two or three times (`stacks web create →CREATE_COMPLETE`), the detail that named the
resource being the first column dropped. Each names its resource in the target
(`web/group`), and `--target web` (the store's target-or-name query) still finds every
event of the stack."""

from __future__ import annotations

from tests.heat.conftest import SMALL, Projects, refresh
from tests.heat.test_heat_events import heat_event_ids
from winged_monkey.models import EventSource
from winged_monkey.store.events import event_rows
from winged_monkey.terminal.render import event_table


async def test_resource_events_read_apart_at_80_columns(heat: Projects) -> None:
    web = heat.create("narrow", "web", SMALL)
    assert heat.wait("narrow", web) == "CREATE_COMPLETE"
    portal = heat.portal("narrow")
    store = heat.stores[-1]
    await refresh(portal)
    await portal.close()
    found = store.events(target_or_name="web", sources=[EventSource.NATIVE])
    assert len(found) == len(heat_event_ids(heat, "narrow", "web", web))  # all, by its name
    lines = event_table(event_rows(e for e in found if e.kind == "create"), 80).splitlines()
    assert max(len(line) for line in lines) <= 80, lines
    done = [line for line in lines if "CREATE_COMPLETE" in line]
    assert len(done) >= 3, lines  # the stack, its secret and its group
    cells = [line.split(maxsplit=2)[2] for line in done]  # past the date and time
    assert len(set(cells)) == len(cells), lines  # no two read as one
    assert any("web/group" in line for line in done), lines
