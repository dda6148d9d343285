"""What an account can launch: items, sizes with prices, locations, key pairs, networks, quota.

Backends answer with these models (Capability.CATALOG, QUOTAS, LAUNCH); the catalog view,
the launch wizard, `wm catalog`, `wm launch` and `wm where` consume them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ItemKind = Literal["image", "template", "deployable"]


class CatalogItem(BaseModel):
    """One launchable thing on one account: an image, a HOT template, a deployable."""

    model_config = ConfigDict(frozen=True)

    account: str
    kind: ItemKind
    id: str = Field(description="What `launch` takes: an image id, a template path, ...")
    name: str
    description: str = ""
    provider: str
    #: What a launch of it needs, in words ("a size", "a key pair", "parameters: db_password").
    needs: tuple[str, ...] = ()
    #: Public images found by a search, as opposed to owned or named in config.
    public: bool = False


class Size(BaseModel):
    """A flavour/instance type. None means unknown; a 0.0 price in the data is unknown too."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    vcpus: int | None = None
    ram_mb: int | None = None
    disk_gb: int | None = None
    price_hourly: float | None = Field(default=None, description="USD per hour; None: unknown.")


class Choice(BaseModel):
    """A location, key pair or network: an id to pass back and a name to show."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str


class Quota(BaseModel):
    """One limit and its current use; None where the provider does not say."""

    model_config = ConfigDict(frozen=True)

    resource: Literal["instances", "vcpus", "ram_mb", "stacks"] | str
    limit: int | None = None
    used: int | None = None

    @property
    def remaining(self) -> int | None:
        if self.limit is None or self.limit < 0:  # Nova says -1 for unlimited
            return None
        return max(self.limit - (self.used or 0), 0)


class AccountCatalog(BaseModel):
    """Everything one account offers for a launch, fetched once and cached by the portal."""

    model_config = ConfigDict(frozen=True)

    account: str
    provider: str
    region: str | None = None
    items: tuple[CatalogItem, ...] = ()
    sizes: tuple[Size, ...] = ()
    locations: tuple[Choice, ...] = ()
    key_pairs: tuple[Choice, ...] = ()
    networks: tuple[Choice, ...] = ()
    quotas: tuple[Quota, ...] = ()


class LaunchRequest(BaseModel):
    """What the wizard or `wm launch` asks a backend to create."""

    model_config = ConfigDict(frozen=True)

    item: str = Field(description="A CatalogItem id (image id, template path, deployable id).")
    kind: ItemKind = "image"
    name: str
    size: str | None = None
    location: str | None = None
    key_pair: str | None = None
    network: str | None = None
    count: int = Field(1, ge=1, le=100)
    parameters: dict[str, str] = Field(default_factory=dict)
