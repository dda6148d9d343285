"""Actions on instances, with honest outcomes.

An action is first an intent in the event log (who, what, when: outcome "requested"),
written before its call is sent, so a crash mid-action still leaves its trace. Then an
outcome linked to it (`Event.cause`): ok, refused (the call was refused as sent, nothing
done: a `wm serve`'s 409), failed (the provider said no, or the backend broke), timeout
(observed, but not in the target state in time) or unknown (no answer, or nothing
observed since). An intent still open (unknown, or left by a process that died) is
settled by the next listing of its account that shows where the instance went.
Nothing here reports a state it did not observe.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from winged_monkey.actions import Action, refusal
from winged_monkey.backend import ACTION_CAPABILITY, Backend, Capability, acting
from winged_monkey.engine.accounts import Accounts
from winged_monkey.engine.links import Links
from winged_monkey.engine.recorder import Recorder
from winged_monkey.errors import (
    ActionNotAllowed,
    AnswerLostError,
    PluginBug,
    RefusedAsRead,
    WMError,
    describe,
)
from winged_monkey.models import Event, EventSource, Instance, InstanceState
from winged_monkey.user.config import Config

ActionPhase = Literal["requested", "progress", "done", "failed", "timeout", "unknown"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "timeout", "unknown"})
#: The first look at the instance comes right after the call; then these gaps, up to
#: `action_poll_interval`. A quick provider (Nova ends a stop in about 0.25 s) is seen
#: ending at its own pace; a slow one costs one more call in its first second.
FIRST_GAPS_S = (0.0, 0.25, 0.5, 1.0)
#: Looks in a row that observe nothing (a failed call, or a row its source says it could
#: not list) before the follow ends as unknown: one account that cannot be seen does not
#: hold an action (and `wm stop`) for the whole `action_timeout`. Missed looks that have
#: lasted the account's `timeout` end it sooner (each look that hangs costs a timeout).
MISSED_LOOKS = 5


def follow_gaps(poll_interval: float) -> Iterator[float]:
    """The waits before each look at what an action (or an update) changes: `FIRST_GAPS_S`,
    then `poll_interval` for good, none longer than it."""
    first = (min(gap, poll_interval) for gap in FIRST_GAPS_S)
    return itertools.chain(first, itertools.repeat(poll_interval))


@dataclass(frozen=True)
class ActionUpdate:
    """Progress of one action on one instance, as the engine follows it."""

    action: Action
    instance: Instance
    phase: ActionPhase
    message: str = ""
    #: The key of the action's intent in the event log ("" before it is recorded).
    intent: str = ""
    #: A finished one: the provider refused it as sent (ActionNotAllowed from the call: a
    #: `wm serve`'s 409), nothing done; said as a refusal (`wm` exits 4), not a failure.
    refused: bool = False
    #: False: `instance.state` was not observed (a launch refused before any instance, a
    #: failure on a row whose account could not be listed): logged as no new state.
    seen: bool = True

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED


@dataclass(frozen=True)
class Intent:
    """An action requested and not yet settled by an answer or an observation."""

    key: str
    kind: str
    action: Action
    account: str
    target: str
    target_name: str
    at: datetime
    user: str | None


@dataclass(frozen=True)
class Flight:
    """An action under way on one row: what was asked (`kind`, as the log names it), when and
    by whom, the row as last observed when it was asked, and the row the engine shows
    meanwhile (`shown`: its prediction, e.g. `stopping` for a stop; for a launch, the cloud's
    answer). A listing or the action's follow puts a newer row in its place: observed."""

    kind: str
    at: datetime
    user: str | None
    observed: Instance
    shown: Instance

    def seen(self, row: Instance) -> Instance:
        """`row`, the engine's row now, as last observed: the prediction is not."""
        return self.observed if row is self.shown else row


class Operations:
    """Runs, follows and records actions; settles open intents from what polls observe."""

    def __init__(
        self,
        config: Config,
        accounts: Accounts,
        recorder: Recorder,
        clock: Callable[[], datetime],
        user: str,
    ) -> None:
        self.config = config
        self.accounts = accounts
        self.recorder = recorder
        self.clock = clock
        self.user = user
        #: The instances an action is being followed on now, by key (ACCOUNT/ID).
        self.in_flight: dict[str, Flight] = {}
        self._open: dict[str, dict[str, Intent]] = {}  # account -> intent key -> intent
        #: The instances actions of ours are changing, until a listing shows where each
        #: led: what that listing observed changing is linked to the action's intent. An
        #: unknown outcome's link lasts the follow deadline at most.
        self.links = Links(clock, config.action_timeout)

    # -- what may run ------------------------------------------------------------------

    def busy(self, account: str | None = None) -> bool:
        """True while an action is followed (on `account`, or anywhere)."""
        if account is None:
            return bool(self.in_flight)
        return any(key.partition("/")[0] == account for key in self.in_flight)

    def effective(self, action: Action, instance: Instance) -> Action:
        """The action that carries out `action` here: starting a suspended instance resumes
        it where the backend has a separate resume (Nova, libvirt, vSphere)."""
        if (
            action is Action.START
            and instance.state is InstanceState.SUSPENDED
            and Capability.RESUME in self.accounts.capabilities(instance.account)
        ):
            return Action.RESUME
        return action

    def refusal(self, action: Action, instance: Instance) -> str | None:
        """Why `action` cannot run on `instance` now, or None when it can."""
        action = self.effective(action, instance)
        account = self.accounts.find(instance.account)
        if account is None:
            return f"account {instance.account!r} is not configured"
        if account.config.read_only:
            return f"account {instance.account} is read-only"
        flight = self.in_flight.get(instance.key)
        # A poweroff is what a stop still under way (its guest not shutting down) needs:
        # it runs beside the stop's follow, which then sees the row stopped.
        if flight is not None and not (action is Action.POWEROFF and flight.kind == "stop"):
            return f"{instance.name} already has an action in flight"
        backend = account.backend
        if backend is not None and ACTION_CAPABILITY[action] not in backend.capabilities:
            kind = "/".join(filter(None, (account.config.backend, account.config.provider)))
            # 'synthetic', a backend of no provider
            return backend.lacks(action) or f"{kind} cannot {action}"
        seen_now = self.seen_now(instance)
        # A row not seen now: neither the portal nor the backend refuses by its state (what
        # an aggregator's token may do there still holds).
        said = None
        if backend is not None:
            check = backend.refusal if seen_now else backend.refusal_unseen
            said = check(action, instance)
        if said is None and backend is not None and backend.retries(action, instance):
            return None  # the provider takes it again, though its state alone refuses it
        return refusal(action, instance, seen_now=seen_now, backend=said)

    async def read_refusal(self, action: Action, instance: Instance) -> str | None:
        """`refusal`, then what the backend reads from the provider now that would refuse
        it (Backend.read_refusal: a Heat app's resources), within the account's deadline.
        A read that fails refuses nothing: the action's call meets the same fault, and
        its outcome says it. A backend's bug is raised."""
        action = self.effective(action, instance)
        reason = self.refusal(action, instance)
        if reason:
            return reason
        backend = await self.accounts.backend(instance.account)
        try:
            return await self.accounts.within(
                instance.account, backend.read_refusal(action, instance)
            )
        except PluginBug:
            raise
        except WMError:
            return None

    def fly(self, intent: Intent, observed: Instance, shown: Instance) -> None:
        """`intent`'s action is under way on `observed`, shown as `shown` meanwhile."""
        who = intent.user or self.user
        self.in_flight[observed.key] = Flight(intent.kind, intent.at, who, observed, shown)

    def seen_now(self, instance: Instance) -> bool:
        """Whether the row's state was seen now: not a row of an account that failed its
        last poll (or only cached so far), nor one its source kept as last seen. The TUI
        dims the others; nobody knows their state now."""
        account = self.accounts.find(instance.account)
        if account is None:
            return instance.stale is None
        return account.status.unseen(instance) is None

    # -- running one -------------------------------------------------------------------

    async def run(
        self,
        action: Action,
        instance: Instance,
        *,
        user: str | None = None,
        cause: str | None = None,
        read: bool = False,
    ) -> AsyncIterator[ActionUpdate]:
        """Record the intent, send `action`, then follow the instance until its target
        state, a failure, or the end of what can be known. `user` names who asked in the
        event log (the aggregator's token user); default: ours. `cause`: the key of the
        event that asked for it (the aggregator's record of a client's request). `read`:
        the caller's `read_refusal` just allowed it; only `refusal` is asked again (no
        request), where a second reading asked the provider the same thing twice (a Heat
        app's resources, every nested stack's)."""
        action = self.effective(action, instance)
        if read:
            reason = self.refusal(action, instance)
        else:
            reason = await self.read_refusal(action, instance)
        if reason:
            raise ActionNotAllowed(reason, account=instance.account)
        account = self.accounts.get(instance.account)
        backend = await self.accounts.backend(instance.account)
        # An account that failed its last poll: a call that fails too is said as its.
        failed_poll = account.status.unseen(instance) == "failed"  # not "not listed": no poll ran
        # A failure leaves the row as it was: its state is known only if it was seen now.
        seen_before = self.seen_now(instance)
        started, at = time.monotonic(), self.clock()
        moving = instance.model_copy(update={"state": _moving_state(action, instance)})
        asker = user or self.user
        flight = Flight(str(action), at, asker, instance, moving)
        self.in_flight[instance.key] = flight
        try:
            intent = await self.intend(str(action), action, instance, at, user, cause=cause)
        except BaseException:  # cancelled while it is logged: nothing sent, the row is free
            self._land(instance.key, flight)
            raise
        change = self.links.start(intent.key, action, instance)
        final: ActionUpdate | None = None
        try:
            account.put(moving)
            yield ActionUpdate(action, moving, "requested", f"{action} requested", intent.key)
            observed: Instance | None = None
            try:
                with acting(intent.key):  # a backend may pass it on (Backend.act)
                    observed = await self.accounts.within(
                        instance.account, backend.act(action, instance)
                    )
            except AnswerLostError as exc:
                # The request may have reached the cloud: only an observation can tell.
                final = ActionUpdate(
                    action,
                    instance,
                    "unknown",
                    f"{exc.message}: the cloud may have acted; the next poll will tell",
                    intent.key,
                )
            except ActionNotAllowed as exc:  # refused as sent (a server read what refuses it)
                # Nothing done, and the provider read a state this row does not show (`web is
                # already stopped` of a row listed running): no new state to log.
                final = ActionUpdate(
                    action, instance, "failed", exc.message, intent.key, refused=True, seen=False
                )
            except PluginBug as exc:  # a backend's bug is the action's failure, said as such
                text = f"backend: {exc.message}"
                final = ActionUpdate(action, instance, "failed", text, intent.key, seen=seen_before)
            except WMError as exc:
                text = exc.message
                if failed_poll and not isinstance(exc, RefusedAsRead):
                    text += (
                        f" ({instance.account} failed its last poll too: {instance.name}'s "
                        "state now is unknown; its row shows the state last seen)"
                    )
                final = ActionUpdate(action, instance, "failed", text, intent.key, seen=seen_before)
            seen = _at_target(action, instance, observed)
            if final is None and seen is not None:
                # The call itself waited for the provider and read the instance then
                # (Backend.act): that reading is the outcome; there is nothing to follow.
                text = f"{seen.name} {action.ended_as(seen.state)} (observed as the call ended)"
                final = ActionUpdate(action, seen, "done", text, intent.key)
            if final is None:
                async for update in self.follow(backend, action, instance):
                    update = replace(update, intent=intent.key)
                    if update.finished:
                        final = update
                    else:
                        account.read(update.instance)
                        yield update
        finally:
            self._land(instance.key, flight)
            if final is None:  # cancelled: whatever happened, we did not see it
                final = ActionUpdate(
                    action,
                    instance,
                    "unknown",
                    "stopped following before the outcome was seen (the next poll will tell)",
                    intent.key,
                )
            if final.instance is instance:  # nothing read: the row it started from
                account.put(instance)
            else:  # what the call or the follow read: newer than a listing sent before it
                account.read(final.instance)
            await self.settle(intent, final, time.monotonic() - started)
            self.links.ended(change, final.phase)  # unknown: until `reconcile` settles it
        yield final

    def _land(self, key: str, flight: Flight) -> None:
        """`flight` ended: the row is free, unless a later action (a poweroff over a stop)
        flies on it now."""
        if self.in_flight.get(key) is flight:
            del self.in_flight[key]

    async def follow(
        self, backend: Backend, action: Action, instance: Instance
    ) -> AsyncIterator[ActionUpdate]:
        """Look at the instance right after the call, then at growing gaps, until it reaches
        the action's target (or its backend reads the action over: `Backend.ended`), goes
        to error, vanishes, `MISSED_LOOKS` looks in a row (or the
        account's timeout of looks) see nothing, or `action_timeout` passes. A look that
        fails, or finds a row its source could not list (stale), reports nothing: progress
        and outcomes are only what was seen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.action_timeout
        patience = self.accounts.get(instance.account).config.timeout
        last = (instance.state, instance.raw_state)
        seen: Instance | None = None
        missed, why = 0, ""
        blind_since = 0.0  # when the missed looks in a row began
        gaps = follow_gaps(self.config.action_poll_interval)
        while True:
            await asyncio.sleep(next(gaps))
            looked_at = loop.time()
            try:
                fresh = await self.accounts.within(
                    instance.account, backend.get_instance(instance.id)
                )
                blind = fresh.stale if fresh is not None else None  # as last listed, not now
            except Exception as exc:
                fresh, blind = None, describe(exc)
            if blind is not None:  # a missed look is not a failed action; look again
                missed, why = missed + 1, blind
                blind_since = looked_at if missed == 1 else blind_since
                # Seeing nothing for the account's timeout ends it too: looks that hang
                # cost a timeout each, and the user hears within one.
                now = loop.time()
                if now > deadline or missed >= MISSED_LOOKS or now - blind_since >= patience:
                    break
                continue
            missed = 0
            if fresh is None:
                stops = action in (Action.STOP, Action.POWEROFF)
                if action is Action.DESTROY or (stops and instance.transient):
                    gone = instance.model_copy(update={"state": InstanceState.TERMINATED})
                    said = f"{instance.name} {action.past}"
                    if stops:  # a transient one is gone once stopped
                        said += " (transient: gone once stopped)"
                    yield ActionUpdate(action, gone, "done", said)
                else:
                    yield ActionUpdate(action, instance, "failed", f"{instance.name} disappeared")
                return
            seen = fresh
            # A row its source (a `wm serve`) still follows the action on shows the state
            # last observed there, not the outcome: the outcome comes once it ends there.
            if fresh.requested is None:
                if (end := backend.ended(action, fresh)) is not None:  # the provider's word
                    yield ActionUpdate(action, fresh, end.phase, end.message)
                    return
                if action.reached(fresh.state, fresh.kind):
                    yield ActionUpdate(
                        action, fresh, "done", f"{fresh.name} {action.ended_as(fresh.state)}"
                    )
                    return
                if fresh.state is InstanceState.ERROR:
                    cause = str(fresh.extra.get("fault") or fresh.raw_state)
                    said = f"{fresh.name} went to error: {cause}"
                    yield ActionUpdate(action, fresh, "failed", said)
                    return
            if loop.time() > deadline:
                break
            if (fresh.state, fresh.raw_state) != last:
                # The provider's own word too: Nova's task ("active/powering-off") is news
                # even while the portal's state stays the same.
                last = (fresh.state, fresh.raw_state)
                raw = f" ({fresh.raw_state})" if fresh.raw_state.lower() != fresh.state else ""
                yield ActionUpdate(action, fresh, "progress", f"{fresh.name} is {fresh.state}{raw}")
        limit = f"{self.config.action_timeout:g} s"
        if missed or seen is None:
            since = "since the request" if seen is None else f"since it was {seen.state}"
            yield ActionUpdate(
                action,
                seen or instance,
                "unknown",
                f"{instance.name}: not seen {since} ({missed} looks in a row saw nothing: "
                f"{why}); the cloud may have acted: the next poll will tell",
            )
        else:
            said = f"{seen.name} still {seen.state} after {limit}"
            if seen.requested is not None:  # its source's follow of it had not ended either
                said += f" (its {seen.requested.action} still under way at its source)"
            step = backend.after_timeout(action, seen)
            yield ActionUpdate(action, seen, "timeout", f"{said}: {step}" if step else said)

    # -- the event log -----------------------------------------------------------------

    async def intend(
        self,
        kind: str,
        action: Action,
        target: Instance,
        at: datetime,
        user: str | None,
        *,
        cause: str | None = None,
    ) -> Intent:
        """Record that `action` (named `kind` in the log: "stop", "launch") is requested on
        `target`, before its call is sent; `cause`: the event that asked for it."""
        key = f"action:{target.account}:{target.id}:{kind}:{at.timestamp():.6f}"
        intent = Intent(key, kind, action, target.account, target.id, target.name, at, user)
        unseen = not self.seen_now(target)  # the state it was in when asked, if known
        event = Event(
            key=key,
            at=at,
            source=EventSource.ACTION,
            kind=kind,
            account=target.account,
            target=target.id,
            target_name=target.name,
            old_state=None if unseen else str(target.state),
            outcome="requested",
            user=user or self.user,
            cause=cause,
        )
        await self._write([event])
        return intent

    async def settle(
        self, intent: Intent, update: ActionUpdate, duration: float, part: str = ""
    ) -> None:
        """Record the action's outcome, linked to its intent (`part` tells apart the
        outcomes of one intent: the instances of one launch); an unknown one stays open
        until a poll observes the instance."""
        target = update.instance
        # A refusal is said as one (`wm events`, the server's events a client reads), not
        # counted with the failures: nothing was done.
        outcome = "refused" if update.refused else "ok" if update.phase == "done" else update.phase
        event = Event(
            key=f"{intent.key}:outcome" + (f":{part}" if part else ""),
            at=self.clock(),
            source=EventSource.ACTION,
            kind=intent.kind,
            account=intent.account,
            target=target.id,
            target_name=target.name or intent.target_name,
            new_state=str(target.state) if update.phase != "unknown" and update.seen else None,
            outcome=outcome,
            user=intent.user or self.user,
            detail=update.message,
            duration=round(duration, 3),
            cause=intent.key,
        )
        if outcome == "unknown":
            self._open.setdefault(intent.account, {})[intent.key] = intent
        await self._write([event])

    async def reconcile(
        self, account: str, listed: Mapping[str, Instance], observed: Sequence[Event] = ()
    ) -> list[Event]:
        """Record what the account's listing `observed` changed, each change an action of
        ours led to linked to its intent (`Links.link`); then settle the account's open intents
        by what the listing shows: the target reached (ok), or the end its backend reads
        (`Backend.ended`: a Heat check's), or neither after `action_timeout` (failed, as
        observed). Returns both. Intents left open by an earlier process are
        read from the log the first time (every time when replicas share the log: one that
        died may have left some)."""
        changes = self.links.link(account, observed, listed)
        await self._write(changes)
        if account not in self._open or self.recorder.store.shares_intents:
            none: list[Event] = []
            rows = await self.recorder.run(lambda: self.recorder.store.open_intents(account), none)
            found = (_intent(e) for e in rows)
            self._open[account] = {i.key: i for i in found if i is not None}
        now, settled = self.clock(), []
        held = self.accounts.find(account)
        backend = held.backend if held is not None else None
        for key, intent in list(self._open[account].items()):
            if f"{account}/{intent.target}" in self.in_flight:
                continue  # followed right now: its own outcome will come
            seen = listed.get(intent.target)
            if seen is None and intent.kind == "launch":  # its ids came with the lost answer
                seen = next((i for i in listed.values() if i.name == intent.target_name), None)
            if seen is not None and seen.stale is not None:
                continue  # as last seen by a source that could not list it: not observed now
            state = InstanceState.TERMINATED if seen is None else seen.state
            age = (now - intent.at).total_seconds()
            said = (
                f"observed {state}" if seen is not None else f"{intent.target_name} is not listed"
            )
            # what its backend reads as the action's end (a Heat check's), whatever the state
            end = backend.ended(intent.action, seen) if backend and seen else None
            if end is not None:
                outcome = "ok" if end.phase == "done" else "failed"
                detail = f"{end.message} ({age:.0f} s after the request)"
            # gone: only a destroy's target, whatever the row's kind was
            elif intent.action.reached(state, seen.kind if seen is not None else "instance"):
                outcome, detail = "ok", f"{said} {age:.0f} s after the request"
            elif age > self.config.action_timeout:
                outcome = "failed"
                detail = f"{said} {age:.0f} s after the request" + (
                    ": it did not take effect" if seen is not None else ""
                )
            else:
                continue
            del self._open[account][key]
            self.links.settled(f"{account}/{intent.target}", key)
            settled.append(
                Event(
                    key=f"{key}:settled",
                    at=now,
                    source=EventSource.ACTION,
                    kind=intent.kind,
                    account=account,
                    target=seen.id if seen else intent.target,
                    target_name=seen.name if seen else intent.target_name,
                    # gone from a whole listing: destroyed, as asked; else its state unseen
                    new_state=str(state) if seen or outcome == "ok" else None,
                    outcome=outcome,
                    user=intent.user,
                    detail=detail,
                    cause=key,
                )
            )
        await self._write(settled)
        return [*changes, *settled]

    async def _write(self, events: list[Event]) -> None:
        try:
            await self.recorder.append(events)
        except asyncio.CancelledError:
            # Leaving mid-write: the record matters more than the loop now (keys dedupe).
            self.recorder.safe(lambda: self.recorder.store.append_events(events), 0)
            raise


def _at_target(action: Action, instance: Instance, observed: object) -> Instance | None:
    """What `Backend.act` returned, when it is this instance read in the action's target
    state; None otherwise (nothing read, or not there yet: the engine follows)."""
    if (
        isinstance(observed, Instance)
        and observed.key == instance.key
        and action.reached(observed.state, observed.kind)
    ):
        return observed
    return None


def _moving_state(action: Action, instance: Instance) -> InstanceState:
    """What the row shows once the action is requested: its transition, except that
    destroying something already stopped does not go through "stopping"."""
    if action is Action.DESTROY and instance.state in (
        InstanceState.STOPPED,
        InstanceState.SUSPENDED,
    ):
        return instance.state
    return action.transition or instance.state


def _intent(event: Event) -> Intent | None:
    """The intent a "requested" event of the log records (a launch is followed as a start)."""
    try:
        action = Action("start" if event.kind == "launch" else event.kind)
    except ValueError:
        return None
    return Intent(
        event.key,
        event.kind,
        action,
        event.account,
        event.target,
        event.target_name,
        event.at,
        event.user,
    )
