"""Words a backend says for any `wm` (a command: "... may recover it: wm reset stuck"), with
the key that does the same on the instances view beside each command, as the user's keymap
sets it: the CLI's words stay whole (they run in another shell too), and the TUI says its
own way."""

from __future__ import annotations

import re
from collections.abc import Mapping

from winged_monkey.actions import Action

#: `wm VERB TARGET` (a closing backtick with it) where VERB is an action (`wm app update`
#: is not one).
_COMMAND = re.compile(r"\bwm (?P<verb>[a-z]+) (?P<target>[^\s`'\"),;:]+)`?")


def with_keys(text: str, keys: Mapping[Action, str]) -> str:
    """`text` with `(key K)` after each `wm VERB TARGET` whose action has the key K."""

    def keyed(found: re.Match[str]) -> str:
        try:
            key = keys.get(Action(found["verb"]))
        except ValueError:  # not an action's command (wm ls, wm app ...)
            key = None
        return f"{found[0]} (key {key})" if key else found[0]

    return _COMMAND.sub(keyed, text)
