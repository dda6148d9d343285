"""The TUI's way to an instance's shell: the server an app row stands for, then the system's
ssh in the same terminal while the app is suspended (App.suspend), then back where it was."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator

from textual.app import App, SuspendNotSupported

from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ActionNotAllowed
from winged_monkey.models import Instance
from winged_monkey.terminal import ssh
from winged_monkey.ui.screens.pick import PickScreen
from winged_monkey.ui.typeahead import keys_wait


async def server_of(app: App[object], portal: Portal, row: Instance) -> Instance | None:
    """The instance itself; for an app, its member server (asked when there are several;
    None if the user cancels). Run from a worker: it may wait for the user's choice."""
    if row.kind != "app":
        return row
    with keys_wait(app):  # the keys typed meanwhile go to the pick list, if one follows
        detail = await portal.app_detail(row, events=0)
    members = sorted(portal.members_elsewhere(row, detail).values(), key=lambda i: i.name)
    if not members:
        raise ActionNotAllowed(
            f"no configured account lists the servers of {row.name} "
            "(add the account of its compute service to reach them)"
        )
    if len(members) == 1:
        return members[0]
    choices = [(f"{m.name}  {m.key}  {m.state}", m.key) for m in members]
    chosen = await app.push_screen_wait(
        PickScreen(f"Servers of {row.name}", choices, portal.config.keys)
    )
    return next((m for m in members if m.key == chosen), None)


def plan_for(portal: Portal, instance: Instance) -> ssh.SshPlan:
    """How to log in (raises WMError with what to fix, before anything connects)."""
    return ssh.plan(
        instance, portal.account_config(instance.account), image_name=_image(portal, instance)
    )


def run_ssh(app: App[object], plan: ssh.SshPlan) -> str:
    """Suspend the app, run ssh in the terminal, come back; returns how it ended. When ssh
    fails (a changed host key, a refused login) its own words stay on screen until enter."""
    argv = plan.argv(ssh=ssh.ssh_client())
    try:
        with app.suspend(), _ctrl_c_is_for_ssh():
            print(f"wm: {plan.describe()}", flush=True)
            code = subprocess.run(argv, check=False).returncode
            if code != 0:
                input(f"wm: ssh {_ended(code)}; press enter to return to wm ")
    except SuspendNotSupported:
        raise ActionNotAllowed(
            "this terminal cannot hand over to ssh; run: " + plan.command_line()
        ) from None
    return f"ssh to {plan.instance.name} ended" + ("" if code == 0 else f" ({_ended(code)})")


def _ended(code: int) -> str:
    """How ssh ended, in words: a signal by its name (ctrl+c's SIGINT), not as the
    negative number subprocess gives it (`exited with -2`)."""
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"stopped by {name}" + (" (ctrl+c)" if -code == signal.SIGINT else "")


@contextlib.contextmanager
def _ctrl_c_is_for_ssh() -> Iterator[None]:
    """While ssh runs, ctrl+c interrupts ssh, not wm (the terminal sends SIGINT to both). A
    handler, not SIG_IGN: exec resets handlers, so ssh gets the default one."""
    try:
        before = signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    except ValueError:  # not the main thread: nothing to protect here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _image(portal: Portal, instance: Instance) -> str | None:
    """The image's name when the account's catalog is at hand (no network call)."""
    catalog = portal.cached_catalog(instance.account)
    if catalog is None or instance.image is None:
        return None
    for item in catalog.items:
        if item.id == instance.image:
            return item.name
    return None
