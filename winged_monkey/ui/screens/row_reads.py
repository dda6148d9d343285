"""The keys that read the instance under the cursor: ssh, copy its ssh command or a
field, its console. Read-only accounts keep them; the instances view is this screen."""

from __future__ import annotations

from textual import work
from textual.screen import Screen

from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ActionNotAllowed
from winged_monkey.models import Instance
from winged_monkey.ui import clipboard, login
from winged_monkey.ui.screens.console import ConsoleScreen
from winged_monkey.ui.screens.pick import PickScreen
from winged_monkey.ui.widgets.instance_table import InstanceTable

#: What each read did not do when refused (a stopped row has no ssh), and its note's title,
#: in the words of the other refused keys ("Cannot stop"): a bare "Not allowed" said neither.
REFUSED = {
    "copy": ("Cannot copy", "No ssh command copied"),
    "ssh": ("Cannot ssh", "No ssh session"),
    "console": ("Cannot show", "No console shown"),
}


class RowReadsScreen(Screen[None]):
    """A screen of instance rows (its InstanceTable) over a portal, with the row's reads."""

    portal: Portal

    @property
    def table(self) -> InstanceTable:
        return self.query_one(InstanceTable)

    def action_ssh(self) -> None:
        if (row := self.table.cursor_instance) is not None:
            self._on_server(row, "ssh")

    def action_copy_ssh(self) -> None:
        if (row := self.table.cursor_instance) is not None:
            self._on_server(row, "copy")

    def action_console(self) -> None:
        if (row := self.table.cursor_instance) is not None:
            self._on_server(row, "console")

    @work(group="login", exclusive=True, exit_on_error=False, description="ssh")
    async def _on_server(self, row: Instance, what: str) -> None:
        """The row's server (an app's: its member, asked when several), then `what`. A
        refusal says what was not done and why; other errors reach on_worker_state_changed,
        which shows their words."""
        try:
            await self._read_server(row, what)
        except ActionNotAllowed as exc:
            title, undone = REFUSED[what]
            self.notify(
                f"{undone}: {exc.message}",
                title=title,
                severity="warning",
                timeout=6,
                markup=False,
            )

    async def _read_server(self, row: Instance, what: str) -> None:
        server = await login.server_of(self.app, self.portal, row)
        if server is None:
            return
        if what == "console":
            await self.app.push_screen(ConsoleScreen(self.portal, server))
            return
        plan = login.plan_for(self.portal, server)
        if what == "copy":
            clipboard.copy(self.app, plan.command_line())
            self.notify(plan.command_line(), title="Copied", timeout=4)
        else:  # the loop waits while ssh has the terminal, by design: the app is suspended
            self.notify(login.run_ssh(self.app, plan), title="ssh", timeout=4)

    def action_copy_field(self) -> None:
        row = self.table.cursor_instance
        if row is None:
            return
        fields = [("id", row.id), ("name", row.name), ("account/id", row.key)]
        fields += [("public address", ip) for ip in row.public_ips]
        fields += [("private address", ip) for ip in row.private_ips]

        def copy(value: str | None) -> None:
            if value is not None:
                clipboard.copy(self.app, value)
                self.notify(value, title="Copied", timeout=4, markup=False)

        choices = [(f"{label}  {value}", value) for label, value in fields]
        self.app.push_screen(
            PickScreen(f"Copy from {row.name}", choices, self.portal.config.keys), copy
        )
