"""A backend that needs no cloud: `instances` synthetic machines per account.

It is the smallest complete plugin: it lists, and it starts and stops its machines in
memory (a stopped one stays stopped until this process ends). The rows are the same on
every run for the same account name and `instances`, so benchmarks compare like with like.

    [[accounts]]
    name = "synth-01"
    backend = "synthetic"
    instances = 500            # rows this account lists (default 100)

The account keys are declared in `SyntheticSettings`, registered in the light
`winged_monkey.settings` entry-point group too, so `wm` checks a config (a typo such as
`instance = 5` is an error naming the key) without importing the backend, and never asks
for a secret this backend does not use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from pydantic import Field, ValidationError

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability
from winged_monkey.backend_settings import BackendSettings, own_settings
from winged_monkey.errors import ActionNotAllowed, ConfigError
from winged_monkey.models import Instance, InstanceState

__all__ = ["SyntheticBackend", "SyntheticSettings", "synthetic_instances"]

#: Rows are dated from here, so ages are the same on every run.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
DEFAULT_COUNT = 100
_ROLES = ("web", "api", "db", "cache", "worker", "batch", "ci", "gpu")
_SIZES = (("t3.micro", 0.0104), ("t3.small", 0.0208), ("m5.large", 0.096), ("r5.xlarge", None))
_REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
_S = InstanceState
_STATES = (_S.RUNNING, _S.RUNNING, _S.STOPPED, _S.RUNNING, _S.PENDING, _S.ERROR, _S.SUSPENDED)


class SyntheticSettings(BackendSettings):
    """The keys a synthetic account may carry besides the portal's own."""

    NEEDS_SECRET: ClassVar[bool] = False  # no prompt, no keyring lookup needed

    instances: int = Field(DEFAULT_COUNT, ge=0, description="Rows this account lists.")


def synthetic_instances(account: str, count: int) -> list[Instance]:
    """`count` varied rows for `account` (states, sizes, prices, addresses, ages)."""
    net = sum(account.encode()) % 250
    rows = []
    for n in range(count):
        state = _STATES[n % len(_STATES)]
        size, price = _SIZES[n % len(_SIZES)]
        rows.append(
            Instance(
                account=account,
                id=f"syn-{n:06d}",
                name=f"{_ROLES[n % len(_ROLES)]}-{n}",
                state=state,
                raw_state=str(state),
                provider="synthetic",
                region=_REGIONS[n % len(_REGIONS)],
                size=size,
                public_ips=(f"203.0.{net}.{n % 250}",) if state is _S.RUNNING else (),
                private_ips=(f"10.{net}.{n // 250 % 250}.{n % 250}",),
                created_at=EPOCH - timedelta(minutes=7 * n),
                price_hourly=price,
            )
        )
    return rows


class SyntheticBackend(Backend):
    """Lists `instances` rows; start and stop change them in memory."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.LIST, Capability.START, Capability.STOP}
    )
    SETTINGS: ClassVar[type[BackendSettings] | None] = SyntheticSettings

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        try:
            settings = SyntheticSettings.model_validate(own_settings(account))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"{where}: {first['msg']}", account=account.name) from None
        self._rows = {i.id: i for i in synthetic_instances(account.name, settings.instances)}

    async def list_instances(self) -> list[Instance]:
        return list(self._rows.values())

    async def get_instance(self, instance_id: str) -> Instance | None:
        return self._rows.get(instance_id)  # one row, not a listing

    async def act(self, action: Action, instance: Instance) -> None:
        self.ensure_writable()
        target = {Action.START: _S.RUNNING, Action.STOP: _S.STOPPED}.get(action)
        if target is None:
            raise ActionNotAllowed(f"synthetic rows cannot {action}", account=self.account.name)
        current = self._rows[instance.id]
        self._rows[instance.id] = current.model_copy(
            update={"state": target, "raw_state": str(target)}
        )
