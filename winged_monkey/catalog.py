"""What an account can launch: items, sizes with prices, locations, key pairs, networks, quota,
and for n-tier apps (Capability.APPS) a template's form, its environment files, a preview
of a launch and how an update ended.

Backends answer with these models (Capability.CATALOG, QUOTAS, LAUNCH, APPS); the catalog
view, the launch wizard, `wm catalog`, `wm launch`, `wm where` and `wm app` consume them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from winged_monkey.models import Quota as Quota  # one limit: with the models (Unlisted's)

ItemKind = Literal["image", "template", "deployable"]


class CatalogItem(BaseModel):
    """One launchable thing on one account: an image, a HOT template, a deployable."""

    model_config = ConfigDict(frozen=True, defer_build=True)

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
    #: The CPU architecture an image needs ("x86_64", "arm64"), where the provider says.
    arch: str | None = None
    #: The least RAM (MB) and root disk (GB) a size must have to run the image (Glance's
    #: min_ram and min_disk, which Nova enforces); None: no minimum said.
    min_ram_mb: int | None = None
    min_disk_gb: int | None = None


class Size(BaseModel):
    """A flavour/instance type. None means unknown; a 0.0 price in the data is unknown too."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    name: str
    vcpus: int | None = None
    ram_mb: int | None = None
    disk_gb: int | None = None
    price_hourly: float | None = Field(default=None, description="USD per hour; None: unknown.")
    #: The CPU architecture ("x86_64", "arm64"), where known: an image runs only on its own.
    arch: str | None = None


class Choice(BaseModel):
    """A location, key pair or network: an id to pass back and a name to show."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    name: str
    zone: str | None = Field(
        None, description="The location it belongs to (a subnet's zone); None: any."
    )


class AccountCatalog(BaseModel):
    """Everything one account offers for a launch, fetched once and cached by the portal."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account: str
    provider: str
    region: str | None = None
    items: tuple[CatalogItem, ...] = ()
    sizes: tuple[Size, ...] = ()
    locations: tuple[Choice, ...] = ()
    key_pairs: tuple[Choice, ...] = ()
    networks: tuple[Choice, ...] = ()
    quotas: tuple[Quota, ...] = ()
    #: Parts the provider would not give (key pairs refused, an image named in config
    #: gone), in words, so a view can say what is missing instead of showing nothing.
    notes: tuple[str, ...] = ()
    #: Whether the provider's public images can be searched (`/`, `wm catalog --search`):
    #: vSphere, Heat and an aggregator have none, and a search there read "0 images match".
    searchable: bool = False
    #: What to do when `items` is empty, in the provider's terms ("mark a powered-off VM
    #: as a template"), said where the items would be.
    empty_hint: str = ""


class LaunchSpec(BaseModel):
    """What a launch asks for besides the item: the name, where, and how many. One model
    for both sides of `wm serve`: LaunchRequest adds the item, the wire's LaunchIn the
    pool deployable."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    size: str | None = None
    location: str | None = None
    key_pair: str | None = None
    network: str | None = None
    count: int = Field(1, ge=1, le=100)
    parameters: dict[str, str] = Field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """These fields alone, to build the other side's model from."""
        return {name: getattr(self, name) for name in LaunchSpec.model_fields}


class LaunchRequest(LaunchSpec):
    """What the wizard or `wm launch` asks a backend to create."""

    item: str = Field(description="A CatalogItem id (image id, template path, deployable id).")
    kind: ItemKind = "image"

    def instance_names(self) -> list[str]:
        """`name` alone, or `name-1` … `name-N` for several (as Nova names a multi-create),
        so each one can be told apart and named to `wm stop`."""
        if self.count == 1:
            return [self.name]
        return [f"{self.name}-{n}" for n in range(1, self.count + 1)]


class ParameterConstraint(BaseModel):
    """One constraint on a template parameter, as the cloud's validation states it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: Literal["allowed_values", "range", "length", "allowed_pattern", "custom"] | str
    #: allowed_values: the values; range/length: min and max (either may be None);
    #: allowed_pattern: the regex; custom: the constraint's name.
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    description: str = ""


class TemplateParameter(BaseModel):
    """One field of a launch form, built from the cloud's own validation answer."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    type: str = Field("string", description="string, number, boolean, json, comma_delimited_list")
    label: str = ""
    description: str = ""
    default: str | None = None
    hidden: bool = Field(False, description="Masked on screen and never logged.")
    constraints: tuple[ParameterConstraint, ...] = ()


class TemplateForm(BaseModel):
    """What a template asks for before a launch (Backend.template_form)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account: str
    template: str = Field(description="The template's path, as a CatalogItem id.")
    description: str = ""
    parameters: tuple[TemplateParameter, ...] = ()


class EnvironmentFile(BaseModel):
    """An environment file offered with a template (Backend.environment_files); `default`
    when a launch given no environments uses it (the one named after the template)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    path: str
    default: bool = False

    @property
    def name(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]


class Previewed(BaseModel):
    """One resource a launch would create, as the cloud's preview says (Backend.preview_app)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    type: str
    #: The nested stack it belongs to ("web" for the app's `web`), "" for the app's own.
    nested_in: str = ""
    #: 0 for the app's own resources, 1 for a nested stack's, and so on.
    depth: int = 0


class UpdateEnd(BaseModel):
    """How an app's update ended, as the cloud says it (Backend.update_finished)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    #: The update completed; False: the cloud says it failed (`reason`).
    ok: bool
    #: The provider's own word for it (Heat's UPDATE_COMPLETE or UPDATE_FAILED).
    status: str
    reason: str = ""
