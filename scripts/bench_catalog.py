"""`:catalog` (the TUI's catalog view) at an EC2 account's real sizes: opening it and
taking a search's answer, at N images beside a small catalog in the same run.

    .venv/bin/python scripts/bench_catalog.py [IMAGES ...] [--sizes 800] [--accounts 2] [--runs 5]

Each account offers IMAGES images (default 2000 and 10000: a team's nightly AMIs, moto's
own scale) of mixed CPUs (a third arm64, some with a min_ram) and `--sizes` sizes (800:
about every EC2 type libcloud knows in us-east-1), half of them arm64. The portal is a
stand-in that hands the catalogs over at once, so what is timed is the view alone: from
`:catalog` to every row shown, and from a search's answer (50 public images) to the rows
shown with the cursor on the first. The baseline is the same view over 100 images per
account, in the same process; the ratio says how the view grows with the catalog (rows
grow IMAGES/100 times; a view that is linear in rows has a ratio near that or below).
Times in ms, the median of `--runs`, at 80x24.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App

from winged_monkey.backend import Capability
from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, Quota, Size
from winged_monkey.engine.catalogs import CatalogUpdate
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.user.config import Config


def sizes(count: int) -> tuple[Size, ...]:
    return tuple(
        Size(
            id=f"x{n}.large",
            name=f"x{n}.large",
            vcpus=2 + n % 64,
            ram_mb=512 * (1 + n % 128),
            price_hourly=None if n % 9 == 0 else 0.004 + n / 1000,
            arch="arm64" if n % 2 else "x86_64",
        )
        for n in range(count)
    )


def items(account: str, count: int, public: bool = False) -> tuple[CatalogItem, ...]:
    return tuple(
        CatalogItem(
            account=account,
            kind="image",
            id=f"ami-{'p' if public else ''}{n:012x}",
            name=f"{'ubuntu' if public else 'build'}-{n:05d}-web-server",
            description=f"nightly build {n}",
            provider="ec2",
            needs=("a size", "a key pair to log in (optional)"),
            public=public,
            arch=("arm64" if n % 3 == 0 else "x86_64") if n % 5 else None,
            min_ram_mb=2048 if n % 7 == 0 else None,
        )
        for n in range(count)
    )


class Portal:
    """What CatalogScreen asks of the portal, answered from memory at once."""

    def __init__(self, accounts: int, images: int, size_count: int) -> None:
        self.config = Config()
        self.names = [f"acct-{n}" for n in range(accounts)]
        shared = sizes(size_count)
        self.found = {
            name: AccountCatalog(
                account=name,
                provider="ec2",
                region="us-east-1",
                items=items(name, images),
                sizes=shared,
                locations=tuple(Choice(id=f"us-east-1{z}", name=f"us-east-1{z}") for z in "abc"),
                quotas=(Quota(resource="instances", limit=20, used=3),),
            )
            for name in self.names
        }

    def catalog_accounts(self) -> list[str]:
        return list(self.names)

    def cached_catalog(self, account: str) -> AccountCatalog | None:
        return None

    def capabilities(self, account: str) -> frozenset[Capability]:
        return frozenset({Capability.CATALOG, Capability.LAUNCH})

    async def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        for name in names or self.names:
            yield CatalogUpdate(name, self.found[name])

    async def search_images(self, account: str, query: str, limit: int = 50) -> list[CatalogItem]:
        return list(items(account, limit, public=True))


async def until(app: App[Any], done: Any, deadline: float = 600.0) -> None:
    ends = time.monotonic() + deadline
    while not done():
        if time.monotonic() > ends:
            raise SystemExit("the view did not finish within its deadline")
        await asyncio.sleep(0.001)


async def once(accounts: int, images: int, size_count: int) -> tuple[float, float]:
    """ms to open the view with every row, and to show a search's answer."""
    portal = Portal(accounts, images, size_count)
    app: App[None] = App()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CatalogScreen(portal, lambda: datetime.now(UTC))  # type: ignore[arg-type]
        began = time.perf_counter()
        await app.push_screen(screen)
        total = accounts * images
        await until(app, lambda: not screen.pending and screen.table.row_count == total)
        await pilot.pause()
        opened = (time.perf_counter() - began) * 1000
        found = await portal.search_images(portal.names[0], "ubuntu")
        began = time.perf_counter()
        screen.post_message(CatalogScreen.Found(portal.names[0], "ubuntu", found))
        await until(app, lambda: screen.table.row_count == total + len(found))
        await pilot.pause()
        searched = (time.perf_counter() - began) * 1000
    return opened, searched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", type=int, help="per account (default 2000 10000)")
    parser.add_argument("--sizes", type=int, default=800)
    parser.add_argument("--accounts", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    def median(images: int) -> tuple[float, float]:
        runs = [asyncio.run(once(args.accounts, images, args.sizes)) for _ in range(args.runs)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    print(f"# :catalog at 80x24, {args.accounts} accounts x {args.sizes} sizes; median ms")
    base_open, base_search = median(100)
    print(f"{'images':>7}  {'open':>8}  {'ratio':>6}  {'search':>8}  {'ratio':>6}")
    print(f"{100:>7}  {base_open:>8.0f}  {1:>6.2f}  {base_search:>8.0f}  {1:>6.2f}")
    for images in args.images or (2000, 10000):
        opened, searched = median(images)
        print(
            f"{images:>7}  {opened:>8.0f}  {opened / base_open:>6.2f}  "
            f"{searched:>8.0f}  {searched / base_search:>6.2f}"
        )


if __name__ == "__main__":
    main()
