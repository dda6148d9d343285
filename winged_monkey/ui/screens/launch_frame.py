"""The launch wizard's frame: its title with the step, the hint, the error line, the body
the steps fill, and going from step to step. The steps themselves are in launch.py
(account, name, summary), launch_instance.py (size, location, access) and
launch_template.py (environments, parameters, preview)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from winged_monkey.catalog import AccountCatalog, CatalogItem
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.launch_plan import STEP_TITLES, Choices, LaunchPlan, Step
from winged_monkey.ui.widgets.footer import Footer


class WizardFrame(Screen[str | None]):
    """What every step of the wizard uses; LaunchWizard is the screen itself."""

    def __init__(
        self, portal: Portal, clock: Callable[[], datetime], item: CatalogItem, plan: LaunchPlan
    ) -> None:
        super().__init__()
        self.portal = portal
        self.clock = clock
        self.item = item
        self.plan = plan
        self.step: Step = self.steps[0]
        self.launching = False

    @property
    def choices(self) -> Choices:
        return self.plan.choices

    @property
    def catalogs(self) -> dict[str, AccountCatalog]:
        return self.plan.catalogs

    @property
    def steps(self) -> list[Step]:
        return self.plan.steps

    def compose(self) -> ComposeResult:
        yield Static(id="wizard-title")
        yield Static(id="wizard-hint")
        yield Vertical(id="wizard-body")
        yield Static(id="wizard-error")
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        await self.show_step(self.steps[0])

    def on_resize(self) -> None:
        """The title is cut to the width: cut again when the window changes."""
        if self.is_mounted:
            self._title()

    @property
    def body(self) -> Vertical:
        return self.query_one("#wizard-body", Vertical)

    def _title(self) -> None:
        steps = self.steps
        number = steps.index(self.step) + 1
        title = Text.assemble(
            ("Launch ", "bold"),
            (self.item.name, "bold"),
            (f"  {self.item.kind}", "cyan"),
        )
        step = Text(f"  step {number}/{len(steps)}: {STEP_TITLES[self.step]}")
        room = max(10, self.app.size.width - 2 - len(step))
        title.truncate(room, overflow="ellipsis")
        title.append_text(step)
        self.query_one("#wizard-title", Static).update(title)

    def hint(self, text: str | Text) -> None:
        line = Text(text) if isinstance(text, str) else text
        line.no_wrap, line.overflow = True, "ellipsis"
        self.query_one("#wizard-hint", Static).update(line)

    def error(self, text: str) -> None:
        self.query_one("#wizard-error", Static).update(Text(text, style="bold red"))

    async def show_step(self, step: Step) -> None:
        self.step = step
        self.error("")
        await self.body.remove_children()
        self._title()
        await getattr(self, f"_show_{step}")()
        self.refresh_bindings()

    async def _advance(self) -> None:
        steps = self.steps
        await self.show_step(steps[steps.index(self.step) + 1])

    async def action_back(self) -> None:
        if self.launching:
            return
        steps = self.steps
        index = steps.index(self.step)
        if index == 0:
            self.dismiss(None)
        else:
            await self.show_step(steps[index - 1])
