"""The wizard's steps for an image: its size, where it runs, and its key pair and network
(a template asks for its parameters instead: launch_template.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from winged_monkey.catalog import Choice
from winged_monkey.engine.ranking import fits, unfit
from winged_monkey.ui.screens.launch_frame import WizardFrame
from winged_monkey.ui.widgets.catalog_text import by_price, monthly, size_cells
from winged_monkey.ui.widgets.vi_keys import ViOptionList, taken_keys

NONE_ID = ""  # the option id of "(none)" / "(provider default)"


class InstanceSteps(WizardFrame):
    """Size, location, key pair and network: the steps of an image's launch."""

    @property
    def vi_taken(self) -> frozenset[str]:
        """The vi keys the user's keymap gives to something else: they do not move here."""
        return taken_keys(self.portal.config.keys, self.BINDINGS)

    # -- size ----------------------------------------------------------------------

    async def _show_size(self) -> None:
        catalog = self.plan.catalog
        assert catalog is not None
        spec = self.plan.size_spec(catalog.account)
        options = ViOptionList(id="wizard-sizes", compact=True, taken=self.vi_taken)
        header = Text(
            f"{'size':<15}{'cpu':<7}{'vCPU':>5}{'RAM':>8}{'disk':>8}{'per hour':>12}"
            f"{'per month':>13}",
            style="bold",
        )
        await self.body.mount_all([Static(header, classes="wizard-header"), options])
        sizes = by_price(catalog.sizes)
        for size in sizes:
            name, vcpus, memory, disk, price = size_cells(size)
            line = Text(
                f"{name[:14]:<15}{(size.arch or '?')[:6]:<7}{vcpus:>5}{memory:>8}{disk:>8}"
                f"{price:>12}{monthly(size.price_hourly):>13}"
            )
            if not fits(size, spec) or unfit(self.plan.offers[catalog.account], size):
                line.stylize("dim")
            options.add_option(Option(line, id=size.id))
        ids = [s.id for s in sizes]
        chosen = self.choices.size
        if chosen is not None and chosen.id in ids:
            options.highlighted = ids.index(chosen.id)
        self.hint(f"Sizes on {catalog.account}; dim: not {spec}. ? = price unknown.")
        options.focus()

    @on(OptionList.OptionSelected, "#wizard-sizes")
    async def _on_size(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        catalog = self.plan.catalog
        assert catalog is not None
        size = next(s for s in catalog.sizes if s.id == event.option.id)
        why = unfit(self.plan.offers[catalog.account], size)
        if why:  # the cloud would refuse it: said here, not after the summary
            self.error(why)
            return
        self.choices.size = size
        await self._advance()

    # -- location, key pair and network ---------------------------------------------

    def _choice_list(
        self, ident: str, choices: Sequence[Choice], none: str, current: Choice | None
    ) -> OptionList:
        options = ViOptionList(
            Option(Text(none, style="dim"), id=NONE_ID),
            *[
                # The id once: a name that holds it already (a subnet's) is shown alone;
                # the cloud's words as text, not markup.
                Option(Text(c.name if c.id in c.name else f"{c.name}  ({c.id})"), id=c.id)
                for c in choices
            ],
            id=ident,
            compact=True,
            taken=self.vi_taken,
        )
        ids = [NONE_ID, *[c.id for c in choices]]
        options.highlighted = ids.index(current.id) if current and current.id in ids else 0
        return options

    async def _show_location(self) -> None:
        catalog = self.plan.catalog
        assert catalog is not None
        options = self._choice_list(
            "wizard-locations", catalog.locations, "(the provider's default)", self.choices.location
        )
        await self.body.mount(options)
        self.hint(f"Where on {catalog.account} ({catalog.region or catalog.provider}).")
        options.focus()

    @on(OptionList.OptionSelected, "#wizard-locations")
    async def _on_location(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.location = self._chosen(
            self.plan.catalog.locations if self.plan.catalog else (), event
        )
        await self._advance()

    @staticmethod
    def _chosen(choices: Sequence[Choice], event: OptionList.OptionSelected) -> Choice | None:
        return next((c for c in choices if c.id == event.option.id), None)

    async def _show_access(self) -> None:
        catalog = self.plan.catalog
        assert catalog is not None
        widgets: list[Any] = []
        widgets.append(Static(Text("Key pair (for ssh)", style="bold")))
        if catalog.key_pairs:
            widgets.append(
                self._choice_list(
                    "wizard-keys", catalog.key_pairs, "(no key pair)", self.choices.key_pair
                )
            )
        else:  # said, not skipped: without one, ssh with a key will not get in
            widgets.append(
                Static(
                    Text(
                        f"none on {catalog.account}: the instances get no ssh key. "
                        "Create a key pair in the cloud first if you will log in.",
                        style="yellow",
                    ),
                    id="wizard-no-keys",
                )
            )
        networks = self._networks()
        if networks:
            widgets.append(Static(Text("Network", style="bold")))
            widgets.append(
                self._choice_list(
                    "wizard-networks", networks, "(the default)", self.choices.network
                )
            )
        await self.body.mount_all(widgets)
        self.hint("enter picks; the next list follows.")
        lists = self.body.query(OptionList)
        if lists:
            lists.first().focus()

    def _networks(self) -> list[Choice]:
        """The account's networks, only those of the chosen zone once one was chosen."""
        catalog, where = self.plan.catalog, self.choices.location
        found = list(catalog.networks) if catalog else []
        if where is None:
            return found
        return [n for n in found if n.zone is None or n.zone in (where.id, where.name)]

    @on(OptionList.OptionSelected, "#wizard-keys")
    async def _on_key_pair(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.key_pair = self._chosen(
            self.plan.catalog.key_pairs if self.plan.catalog else (), event
        )
        networks = self.query("#wizard-networks")
        if networks:
            networks.first().focus()
        else:
            await self._advance()

    @on(OptionList.OptionSelected, "#wizard-networks")
    async def _on_network(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.network = self._chosen(self._networks(), event)
        await self._advance()
