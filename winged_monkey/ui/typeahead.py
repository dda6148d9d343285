"""Keys typed ahead apply in order, each to what the key before it left.

Textual hands a key to the focused widget's queue and goes on to the next key at once, but
a key's binding runs only when the key has bubbled back up to the app. Keys that arrive
together (a fast typist, keys bunched by a slow SSH link, tmux send-keys, a paste without
bracketed paste) all went to the widget focused before the first: `:events⏎` on the
instances view ran `e` (ssh), `t` (timeline) and `s` (start) there before `:` opened the
view switcher. The app now holds a key while the one before it is on its way: a
`KeyHandled` posted behind that key reaches the app when the key has gone as far as it
goes; the held key is sent when what that key set off has been handled too (a dialog it
opened has mounted and taken the focus, a view it chose is shown). A dialog that a worker
pushes after an await (an app's servers read from its cloud, then a pick list) is none of
those: the worker wraps that await in `keys_wait`, and the keys typed meanwhile wait for
what follows it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import isawaitable
from itertools import count
from time import monotonic

from textual import events
from textual.dom import DOMNode
from textual.message import Message
from textual.message_pump import MessagePump

__all__ = ["STUCK_AFTER_S", "KeyHandled", "KeysWait", "Typeahead", "after_pending", "keys_wait"]

#: A key whose KeyHandled never came (its widget went away first) holds the next no longer.
STUCK_AFTER_S = 1.0


class KeyHandled(Message):
    """Posted to a key's widget right behind the key; it bubbles up to the app after it."""

    def __init__(self, token: int) -> None:
        super().__init__()
        self.token = token


class KeysWait(Message):
    """Posted to the app when a worker starts (`wait`) or ends an await that a dialog may
    follow (`keys_wait`)."""

    def __init__(self, wait: bool) -> None:
        super().__init__()
        self.wait = wait


@contextmanager
def keys_wait(app: MessagePump) -> Iterator[None]:
    """Keys typed while the body runs wait, then go to what follows it: a worker wraps an
    await after which it pushes a dialog, so those keys reach the dialog, not the view under
    it. The dialog must be pushed right after the body, before another await."""
    app.post_message(KeysWait(True))
    try:
        yield
    finally:
        app.post_message(KeysWait(False))


class Typeahead:
    """The key on its way, and the keys held behind it (no Textual calls here).

    A held key is sent in two steps: `settle` once the key before it was handled (or a view
    switch ended), then, when the screen has handled what that key set off (a dialog's
    mount, its dismissal, a view switch starting), `next_key`."""

    def __init__(self) -> None:
        self._held: deque[events.Key] = deque()
        self._tokens = count(1)
        #: The key on its way: the token its KeyHandled carries (0 while it is being sent).
        self._on_way: int | None = None
        self._sent_at = 0.0
        #: When the screen was last asked to settle before the next held key is sent.
        self._settling: float | None = None
        #: A view switch a key asked for is under way: the keys after it wait for the view.
        self.busy = False
        #: Workers in `keys_wait`: the keys wait for the dialog that may follow, a second
        #: at most from the first (a slow cloud must not take the keyboard: q, escape).
        self._waits = 0
        self._waiting_since = 0.0

    def hold(self, key: events.Key) -> bool:
        """Whether `key` must wait behind a key on its way, keys held, a view switch, or a
        worker's wait for a dialog (`keys_wait`, a second at most)."""
        self._forget_stuck()
        if self._on_way is None and not self._held and not self._paused():
            return False
        self._held.append(key)
        return True

    def sent(self) -> int:
        """A key goes to its widget: the token of the KeyHandled to post behind it."""
        self._on_way, self._sent_at = next(self._tokens), monotonic()
        return self._on_way

    def handled(self, token: int) -> None:
        """The key of `token` has gone as far as it goes (a late token changes nothing)."""
        if token == self._on_way:
            self._on_way = None

    def settle(self) -> bool:
        """Whether to let the screen settle now, then call `next_key`: a key is held, none
        on its way, no view switch or dialog under way, and the screen is not settling
        already."""
        if not self._sendable():
            return False
        if self._settling is not None and monotonic() - self._settling <= STUCK_AFTER_S:
            return False
        self._settling = monotonic()
        return True

    def next_key(self) -> events.Key | None:
        """The held key to send now, once the screen settled (None: it must wait still)."""
        self._settling = None
        if not self._sendable():
            return None
        self._on_way, self._sent_at = 0, monotonic()
        return self._held.popleft()

    def _sendable(self) -> bool:
        """A key is held, none is on its way, and no view switch or dialog is under way."""
        self._forget_stuck()
        return self._on_way is None and not self._paused() and bool(self._held)

    def wait(self, starts: bool) -> None:
        """A worker starts (or ends) an await that a dialog may follow (`keys_wait`)."""
        if starts and self._waits == 0:
            self._waiting_since = monotonic()
        self._waits += 1 if starts else -1

    def _paused(self) -> bool:
        waiting = self._waits > 0 and monotonic() - self._waiting_since <= STUCK_AFTER_S
        return self.busy or waiting

    def _forget_stuck(self) -> None:
        # Its KeyHandled never came (its widget went away first): hold nothing behind it.
        if self._on_way is not None and monotonic() - self._sent_at > STUCK_AFTER_S:
            self._on_way = None


def after_pending(focused: DOMNode, callback: Callable[[], object]) -> None:
    """Call `callback` on the app once what the last key set off has been handled: the
    messages a key's binding posted to the focused widget (an input's Submitted, a list's
    Selected) bubble up the same way, so the callback follows them up, a queue at a time,
    from the focused widget to its screen (a dialog's dismissal, a view chosen) and the
    app. (Not every widget's queue: the footer replaces its keys as the focus moves, and
    a removed widget never answers.)"""
    hops: list[DOMNode] = list(focused.ancestors_with_self)  # up to the screen and the app

    async def hop() -> None:
        while hops:
            if hops.pop(0).call_later(hop):
                return
        if isawaitable(result := callback()):
            await result

    if not hops.pop(0).call_later(hop):
        focused.app.call_later(hop)
