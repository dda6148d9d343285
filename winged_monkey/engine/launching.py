"""Launches of images and apps, followed until every new instance runs or fails, and
app previews and updates, over the catalog cache (winged_monkey.engine.catalogs).

`Portal.launch`, `launch_app`, `preview_app`, `update_app` and the portal's catalog
methods delegate here. A launch (or an update) is an action like
any other: an intent recorded before the call, then an outcome
(winged_monkey.engine.operations).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability, acting, watching_sends
from winged_monkey.catalog import LaunchRequest, Previewed
from winged_monkey.engine.accounts import Account, Accounts
from winged_monkey.engine.catalogs import Catalogs
from winged_monkey.engine.operations import ActionUpdate, Intent, Operations, follow_gaps
from winged_monkey.engine.ranking import find_size, shortfall, unfit
from winged_monkey.engine.streams import merge
from winged_monkey.errors import (
    ActionNotAllowed,
    AnswerLostError,
    InvalidRequest,
    UnreachableError,
    describe,
)
from winged_monkey.models import Instance, InstanceState
from winged_monkey.user.config import Config

#: A launch checks quota against a catalog at most this old (a summary just shown).
QUOTA_FRESH_S = 30.0
T = TypeVar("T")


class Launcher(Catalogs):
    """Launches, over the catalog cache they check quota against (the portal makes one
    on first use)."""

    def __init__(
        self,
        config: Config,
        accounts: Accounts,
        operations: Operations,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(accounts)
        self.config = config
        self.operations = operations
        self.clock = clock

    # -- launch -----------------------------------------------------------------------

    async def launch(
        self,
        account: str,
        request: LaunchRequest,
        *,
        follow: bool = True,
        user: str | None = None,
        environments: Sequence[str] | None = None,
        cause: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """`cause`: the key of the event that asked for it (wm serve's record of a request)."""
        if request.kind == "template":
            # The file itself, not its text: a backend gathers the files it reaches.
            async for update in self.launch_app(
                account,
                request.item,
                request.name,
                request.parameters,
                follow=follow,
                user=user,
                environments=environments,
                cause=cause,
            ):
                yield update
            self.forget(account)
            return
        holder, backend = await self._open(account)
        self._writable(holder, backend, "instances")
        size, where = None, (holder.config.provider or holder.config.backend, holder.config.region)
        if Capability.CATALOG in backend.capabilities:
            # Recent quota: a stale one could let through a launch the cloud then refuses.
            fresh = self.cached(account, QUOTA_FRESH_S) is not None
            catalog = await self.catalog(account, refresh=not fresh)
            size = find_size(catalog, request.size) if request.size else None
            where = (catalog.provider, catalog.region)
            # A size that cannot run the image is refused here, as the cloud would (EC2:
            # another CPU; Nova: under the image's min_ram or min_disk).
            item = next((i for i in catalog.items if i.id == request.item), None)
            named = [i for i in catalog.items if i.kind == "image" and i.name == request.item]
            if item is None and len(named) == 1:  # by its name, as the catalog shows it
                item = named[0]
                request = request.model_copy(update={"item": item.id})
            if item is not None and size is not None and (why := unfit(item, size)):
                raise InvalidRequest(why, account=account)
            blocked = shortfall(catalog.quotas, size, request.count)
            if blocked:
                raise InvalidRequest(
                    blocked + "; ask for a higher limit or launch fewer", account=account
                )
        pending = _row(account, request.name, request, where, "launch requested")
        started = time.monotonic()
        intent = await self.operations.intend(
            "launch", Action.START, pending, self.clock(), user, cause=cause
        )
        # Several may show the request's own name first (one EC2 RunInstances names them
        # alike, then each its own): either is theirs while the call is out.
        alike = [request.name] * request.count if request.count > 1 else []
        self.operations.links.expect(
            intent.key, intent.action, intent.account, [*request.instance_names(), *alike]
        )
        try:
            ids = await self._call(intent, pending, started, backend.launch(request), backend)
        finally:
            self.forget(account)
        names = request.instance_names() if len(ids) == request.count else [request.name] * len(ids)
        rows = [
            _row(account, i, request, where, "launch requested", name)
            for i, name in zip(ids, names, strict=True)
        ]
        if size is not None:
            rows = [r.model_copy(update={"price_hourly": size.price_hourly}) for r in rows]
        async for update in self._follow(holder, backend, intent, rows, started, follow):
            yield update

    async def launch_app(
        self,
        account: str,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        *,
        follow: bool = True,
        user: str | None = None,
        environments: Sequence[str] | None = None,
        cause: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Validate and launch an app, then (with `follow`) follow it until it runs or fails.
        `cause`: as for `launch`."""
        holder, backend = await self._open(account)
        self._writable(holder, backend, "apps", needs=Capability.STACKS)
        pending = Instance(
            account=account,
            id=name,
            name=name,
            state=InstanceState.PENDING,
            raw_state="launch requested",
            provider=holder.config.backend,
            extra={"kind": "app"},
        )
        started = time.monotonic()
        intent = await self.operations.intend(
            "launch", Action.START, pending, self.clock(), user, cause=cause
        )
        self.operations.links.expect(intent.key, intent.action, intent.account, [name])
        call = backend.launch_app(template, name, parameters, environments)
        app_id = await self._call(intent, pending, started, call, backend)
        row = pending.model_copy(update={"id": app_id})
        async for update in self._follow(holder, backend, intent, [row], started, follow):
            yield update

    async def preview_app(
        self,
        account: str,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> list[Previewed]:
        """What a launch of `template` would create, by the cloud's own preview; nothing
        is created. ActionNotAllowed where the backend has no apps (Capability.APPS)."""
        _, backend = await self._open(account)
        backend.ensure_apps("preview")
        call = backend.preview_app(template, name, parameters, environments)
        return list(await self.accounts.within(account, call))

    async def update_app(
        self,
        app: Instance,
        parameters: Mapping[str, str],
        environments: Sequence[str] = (),
        *,
        template: str | None = None,
        follow: bool = True,
        user: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Update a running app with new `parameters` (the others kept; `template`: a new
        one instead of its own), then (with `follow`) follow it until the cloud says the
        update completed or failed (with its reason), or `action_timeout` passes; without,
        the cloud's acceptance is the outcome, as for a launch. Recorded as an "update"
        intent and its outcome; what listings see of the app meanwhile is the update's."""
        holder, backend = await self._open(app.account)
        backend.ensure_apps("update")
        self._writable(holder, backend, "apps", needs=Capability.STACKS)
        started, action = time.monotonic(), Action.START  # an update ends running, as a launch
        intent = await self.operations.intend("update", action, app, self.clock(), user)
        links = self.operations.links
        change = links.start(intent.key, action, app)
        moving = app.model_copy(update={"state": InstanceState.PENDING})
        call = backend.update_app(app, dict(parameters), list(environments), template)
        try:
            marker = await self._call(intent, app, started, call)
        except AnswerLostError:
            links.ended(change, "unknown")  # the cloud may be updating it: a listing settles it
            raise
        except BaseException:
            links.ended(change, "failed")  # refused (or abandoned): nothing to observe
            raise
        in_flight = self.operations.in_flight
        self.operations.fly(intent, app, moving)
        holder.put(moving)
        final = ActionUpdate(action, moving, "unknown", "stopped following before the outcome")
        try:
            yield ActionUpdate(
                action, moving, "requested", f"{app.name} update requested", intent.key
            )
            if follow:
                final = await self._until_updated(app, backend, marker, action)
                holder.read(final.instance)
            else:  # accepted is the outcome asked for
                final = ActionUpdate(action, moving, "done", f"{app.name} update accepted")
            final = replace(final, intent=intent.key)
            yield final
        finally:
            in_flight.pop(app.key, None)
            await self.operations.settle(intent, final, time.monotonic() - started)
            links.ended(change, final.phase)

    async def _until_updated(
        self, app: Instance, backend: Backend, marker: str | None, action: Action
    ) -> ActionUpdate:
        """The update's end as the cloud's events say it, and the row as it is then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.action_timeout
        gaps = follow_gaps(self.config.action_poll_interval)  # as an action's: most end quickly
        while loop.time() < deadline:
            await asyncio.sleep(next(gaps))
            try:
                ended = await self.accounts.within(
                    app.account, backend.update_finished(app, marker)
                )
            except AnswerLostError:
                continue  # a missed look is not a failed update; look again
            if ended is None:
                continue
            fresh = await self.accounts.within(app.account, backend.get_instance(app.id)) or app
            if ended.ok:
                return ActionUpdate(action, fresh, "done", f"{app.name} updated ({ended.status})")
            message = f"{app.name}: {ended.status}: {ended.reason}"
            return ActionUpdate(action, fresh, "failed", message)
        limit = f"{self.config.action_timeout:g} s"
        return ActionUpdate(action, app, "timeout", f"{app.name} still updating after {limit}")

    def _writable(
        self, holder: Account, backend: Backend, what: str, needs: Capability | None = None
    ) -> None:
        if holder.config.read_only:
            raise ActionNotAllowed(f"account {holder.name} is read-only", account=holder.name)
        wanted = {Capability.LAUNCH} | ({needs} if needs else set())
        if not wanted <= backend.capabilities:
            raise ActionNotAllowed(
                f"{holder.config.backend}/{holder.config.provider} accounts cannot launch "
                f"{what} here",
                account=holder.name,
            )

    async def _call(
        self,
        intent: Intent,
        pending: Instance,
        started: float,
        call: Awaitable[T],
        backend: Backend | None = None,
    ) -> T:
        """The launch call under the account's deadline; a refusal or no answer is the
        intent's outcome (unknown when no answer came: the cloud may have created it). A
        backend that passes the call on to another portal may send the intent's key along.
        A launch's expectation (`Links.expect`) ends with a refusal, is bounded
        when no answer comes, and an answer's rows take it over (`_follow`)."""
        answer = "unknown"  # also when abandoned: the cloud may have created it
        try:
            with acting(intent.key), watching_sends() as sends:
                result = await self.accounts.within(pending.account, call)
            answer = "requested"
            return result
        except AnswerLostError as exc:
            if backend is not None and backend.SAYS_SENDING and not sends.sent:
                # Lost before the creating request went out (a validation, a sign-in).
                answer = "failed"
                message = f"{exc.message}; the launch was not sent: nothing was created"
                refused = pending.model_copy(update={"raw_state": "launch not sent"})
                update = ActionUpdate(Action.START, refused, "failed", message, seen=False)
                await self.operations.settle(intent, update, time.monotonic() - started)
                raise UnreachableError(message, account=exc.account) from exc
            # Said once: a `wm serve`'s launch lost so says it already, in its own words.
            tail = "the cloud may have created it; the next poll will tell"
            message = exc.message if exc.message.endswith(tail) else f"{exc.message}: {tail}"
            update = ActionUpdate(Action.START, pending, "unknown", message)
            await self.operations.settle(intent, update, time.monotonic() - started)
            # Said so to the caller too: "cut short" alone reads as a failure to retry.
            raise AnswerLostError(message, account=exc.account, intent=intent.key) from exc
        except Exception as exc:
            answer = "failed"
            refused = pending.model_copy(update={"raw_state": "launch refused"})
            # No instance came of it: "pending" was never seen, no state is logged.
            update = ActionUpdate(Action.START, refused, "failed", describe(exc), seen=False)
            await self.operations.settle(intent, update, time.monotonic() - started)
            raise
        finally:
            if answer != "requested":
                self.operations.links.answered(intent.key, answer)

    async def _follow(
        self,
        holder: Account,
        backend: Backend,
        intent: Intent,
        rows: list[Instance],
        started: float,
        follow: bool,
    ) -> AsyncIterator[ActionUpdate]:
        """Show the new rows at once, then follow each until it runs or fails; each one's
        outcome is recorded against the launch's intent."""
        in_flight = self.operations.in_flight
        finals: dict[str, ActionUpdate] = {}
        for row in rows:
            holder.put(row)
            self.operations.fly(intent, row, row)  # the cloud's answer: observed
            # What a listing sees of it is the launch's.
            self.operations.links.start(intent.key, intent.action, row, launch=True)
            finals[row.id] = ActionUpdate(
                Action.START, row, "requested", f"{row.name} launch requested", intent.key
            )
        # Linked by id now; what a listing linked by name in the meantime, the rows took over
        # (in this same step: no listing runs between the answer's rows and this).
        self.operations.links.answered(intent.key, "requested")
        try:
            for row in rows:
                yield finals[row.id]
            if not follow:  # accepted is the outcome asked for
                finals = {k: replace(u, phase="done") for k, u in finals.items()}
                return
            streams = [self.operations.follow(backend, Action.START, row) for row in rows]
            async for update in merge(streams):
                if update.phase == "done":  # "started" is a start's word; say what happened
                    update = replace(update, message=f"{update.instance.name} launched, running")
                update = replace(update, intent=intent.key)
                holder.read(update.instance)  # newer than a listing sent before it
                finals[update.instance.id] = update
                yield update
        finally:
            for row in rows:
                in_flight.pop(row.key, None)
                final = finals[row.id]
                if not final.finished:
                    final = replace(
                        final,
                        phase="unknown",
                        message="stopped following before the outcome was seen",
                    )
                part = row.id if len(rows) > 1 else ""
                await self.operations.settle(intent, final, time.monotonic() - started, part)
                self.operations.links.launched(row.key, final.phase)


def _row(
    account: str,
    ident: str,
    request: LaunchRequest,
    where: tuple[str, str | None],
    raw: str,
    name: str | None = None,
) -> Instance:
    """The row shown until the first poll of the new instance answers."""
    return Instance(
        account=account,
        id=ident,
        name=name or request.name,
        state=InstanceState.PENDING,
        raw_state=raw,
        provider=where[0],
        region=where[1],
        size=request.size,
        image=request.item,
    )
