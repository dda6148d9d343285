"""Screenshots of the main screen over the demo cloud: `.venv/bin/python scripts/screenshots.py`.

Starts the moto demo in a temporary directory, runs the app headless at each size,
waits until every account has answered and saves `screenshots/main-WxH.svg`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from winged_monkey.demo.seed import build_demo
from winged_monkey.demo.server import MotoServer
from winged_monkey.portal import Portal
from winged_monkey.store import Store
from winged_monkey.ui.app import WMApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZES = ((80, 24), (120, 36))
DEADLINE_S = 60.0


async def shoot(portal: Portal, size: tuple[int, int], out: Path) -> Path:
    app = WMApp(portal, portal.config, title_suffix="demo")
    async with app.run_test(size=size) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_S
        while any(s.phase in ("loading", "stale") for s in portal.statuses()):
            if loop.time() > deadline:
                raise SystemExit(f"accounts still loading after {DEADLINE_S:g} s")
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        width, height = size
        name = f"main-{width}x{height}.svg"
        app.save_screenshot(filename=name, path=str(out))
    return out / name


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with MotoServer() as server, tempfile.TemporaryDirectory(prefix="wm-shots-") as tmp:
        server.seed(42)
        config = build_demo(server, Path(tmp))
        for size in SIZES:
            store = Store.open(Path(tmp) / f"store-{size[0]}.sqlite3")
            try:
                saved = asyncio.run(shoot(Portal(config, store), size, OUT))
            finally:
                store.close()
            print(saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
