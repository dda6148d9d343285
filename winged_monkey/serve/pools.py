"""Pool deployables and matching weights: the `[serve.pools.NAME]` part of the server's config.

    [serve.pools.alpha]
    window_hours = 24            # the track record counts launches and polls this recent
    weights = { price = 1, quality = 2, speed = 0, polls = 0.5 }
    priority = { team-a = 1 }    # higher first, whatever the score; default 0

    [[serve.pools.alpha.deployables]]
    name = "web"
    description = "nginx on Debian 12"
    vcpus = 1
    ram_mb = 512
    images = { team-a = "ami-0abc", team-c = "ami-0def" }   # account -> its image
    templates = { heat-lab = "templates/web.yaml" }         # account -> its HOT template

Checked when the server starts: a typo is an error naming the key, an account must be in
the pool, a deployable must name at least one account.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from winged_monkey.names import POOL_NAME

#: What a pool deployable may be called: it travels in URLs and in `team/POOL/NAME`, as
#: the pool's name does.
NAME_PATTERN = f"^{POOL_NAME}$"


class Weights(BaseModel):
    """How much each part of an account's score counts (0 ignores the part)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price: float = Field(1.0, ge=0, description="Per 100% above the cheapest fitting price.")
    quality: float = Field(
        1.0, ge=0, description="Per share of the account's recent launches that failed."
    )
    speed: float = Field(0.0, ge=0, description="Per minute of median time to running.")
    polls: float = Field(0.5, ge=0, description="Per share of the account's polls that failed.")


class PoolDeployable(BaseModel):
    """One deployable of a pool: what it needs and how each account realises it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    vcpus: int | None = Field(None, ge=1, description="At least this many vCPUs.")
    ram_mb: int | None = Field(None, ge=1, description="At least this much RAM, in MB.")
    disk_gb: int | None = Field(None, ge=1, description="At least this root disk, where known.")
    arch: str | None = Field(None, description="x86_64 or arm64; default: any.")
    images: dict[str, str] = Field(default_factory=dict, description="Account -> image id.")
    templates: dict[str, str] = Field(
        default_factory=dict, description="Account -> HOT template (a Heat account)."
    )

    @model_validator(mode="after")
    def _somewhere(self) -> PoolDeployable:
        if not self.images and not self.templates:
            raise ValueError(f"deployable {self.name!r} names no account (images or templates)")
        both = set(self.images) & set(self.templates)
        if both:
            raise ValueError(
                f"deployable {self.name!r}: {', '.join(sorted(both))} has both an image "
                "and a template; give one"
            )
        return self

    def realisations(self) -> dict[str, tuple[str, str]]:
        """Account -> (kind, item), in the config's order."""
        found = {a: ("image", i) for a, i in self.images.items()}
        found.update({a: ("template", t) for a, t in self.templates.items()})
        return found


class PoolSettings(BaseModel):
    """`[serve.pools.NAME]`: how the server chooses among the pool's accounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_hours: float = Field(
        24.0, gt=0, le=24 * 90, description="Launches and polls this recent make the record."
    )
    recent_launches: int = Field(
        20, ge=1, le=1000, description="At most this many of the newest launches count."
    )
    weights: Weights = Field(default_factory=Weights)
    priority: dict[str, int] = Field(
        default_factory=dict, description="Account -> priority; higher is tried first."
    )
    deployables: tuple[PoolDeployable, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> PoolSettings:
        names = [d.name for d in self.deployables]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"deployable {doubled[0]!r} is defined twice")
        return self

    def deployable(self, name: str) -> PoolDeployable | None:
        return next((d for d in self.deployables if d.name == name), None)

    def problems(self, pool: str, accounts: list[str]) -> list[str]:
        """What in this section names an account outside the pool."""
        found = []
        for account in self.priority:
            if account not in accounts:
                found.append(f"priority names {account!r}, not an account of pool {pool!r}")
        for deployable in self.deployables:
            for account in deployable.realisations():
                if account not in accounts:
                    found.append(
                        f"deployable {deployable.name!r} names {account!r}, "
                        f"not an account of pool {pool!r}"
                    )
        return found
