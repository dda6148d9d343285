"""An instance's boot console (EC2's console output, Nova's console log): scrollable, and
`f` follows it (read again every few seconds, new lines appended, the view at the end)."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Log, Static

from winged_monkey.engine.portal import Portal
from winged_monkey.errors import WMError
from winged_monkey.models import Instance
from winged_monkey.terminal.console_text import new_text, printable
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.vi_keys import ViLog, taken_keys
from winged_monkey.user.binding_ids import BindingId

#: Seconds between two reads while following (the providers keep no stream to push).
FOLLOW_EVERY_S = 5.0


class ConsoleScreen(Screen[None]):
    """Opened with `L` on a row; escape closes."""

    DEFAULT_CSS = """
    /* One line: a long name or id is cut with …, not wrapped over the console; an
       error is said whole. */
    #console-title {
        background: $panel; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    #console-title.error { text-wrap: wrap; }
    #console-log { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", "close", id=BindingId.CONSOLE_CLOSE, tooltip="Back to the table"
        ),
        Binding(
            "f",
            "follow",
            "follow",
            id=BindingId.CONSOLE_FOLLOW,
            tooltip=f"Follow: read again every {FOLLOW_EVERY_S:g} s",
        ),
        Binding(
            "r", "reload", "reload", id=BindingId.CONSOLE_RELOAD, tooltip="Read the console again"
        ),
    ]

    class Read(Message):
        """The console as the provider returned it, or why it could not."""

        def __init__(self, text: str | None, error: str | None = None) -> None:
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, portal: Portal, instance: Instance) -> None:
        super().__init__()
        self.portal = portal
        self.instance = instance
        self.shown = ""
        self.reads = 0
        self._timer: Timer | None = None

    @property
    def following(self) -> bool:
        return self._timer is not None

    def compose(self) -> ComposeResult:
        yield Static(self._title("reading…"), id="console-title")
        taken = taken_keys(self.portal.config.keys, self.BINDINGS)
        yield ViLog(id="console-log", auto_scroll=False, taken=taken)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self._read()

    def _title(self, status: str) -> str:
        return f"console {self.instance.name}  {self.instance.key} · {status}"

    @work(group="console", exclusive=True, exit_on_error=False, description="console output")
    async def _read(self) -> None:
        try:
            self.post_message(self.Read(await self.portal.console_output(self.instance)))
        except WMError as exc:
            self.post_message(self.Read(None, exc.message))

    @on(Read)
    def _on_read(self, message: Read) -> None:
        self.reads += 1
        log = self.query_one(Log)
        title = self.query_one("#console-title", Static)
        how = "following (f stops)" if self.following else "f follows"
        title.set_class(message.error is not None, "error")
        if message.error is not None:
            title.update(self._title(message.error))
            return
        text = printable(message.text or "")
        fresh = new_text(self.shown, text)
        if fresh:
            log.write(fresh, scroll_end=self.following)
            self.shown = text
        lines = log.line_count
        title.update(
            self._title(f"{lines} lines · {how}" if self.shown else f"no output yet · {how}")
        )

    def action_follow(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        else:
            self._timer = self.set_interval(FOLLOW_EVERY_S, self._read)
            self.query_one(Log).scroll_end(animate=False)
            self._read()

    def action_reload(self) -> None:
        self._read()

    def action_close(self) -> None:
        self.dismiss(None)
