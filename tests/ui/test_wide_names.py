"""Names in CJK or with emoji take two cells a character: the name column is cut by cells,
so a wide name takes no more room than a latin one and the price, age and size stay
on screen."""

from __future__ import annotations

import re
from pathlib import Path

from rich.cells import cell_len

from tests.ui.conftest import FIXED_NOW, cached_app, fixed_instances, settle
from tests.ui.on_screen import SIZE, main_of
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountSnapshot
from winged_monkey.ui import format as fmt

WIDE = "日本語のとても長いサーバー名前🚀テスト"


def test_a_wide_name_is_cut_to_the_cells_it_may_take() -> None:
    cut = fmt.one_line(WIDE, 12)
    assert cell_len(cut) <= 12
    assert cut.endswith("…")
    assert fmt.one_line("web-1", 12) == "web-1"
    # A control character from a cloud's name never reaches the terminal.
    assert fmt.one_line("bad\x1b[2Jname\x9b", 20) == "bad?[2Jname?"


async def test_a_wide_name_leaves_the_price_on_screen_at_80x24(
    cached_portal: Portal, tmp_path: Path
) -> None:
    (base,) = fixed_instances("dev", ["web-1"], "us-east-1", 1)
    wide = base.model_copy(update={"id": "i-0wide", "name": WIDE + "-with-a-long-ascii-tail"})
    cached_portal.store.save_snapshot(
        AccountSnapshot(account="dev", fetched_at=FIXED_NOW, instances=(base, wide))
    )
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        lines = [table.render_line(y).text for y in range(table.size.height)]
        (row,) = [line for line in lines if "日本語" in line]
        assert "…" in row
        # The price (unknown: the account failed), age and size stay, as they do beside a
        # latin name.
        assert re.search(r" 54\.1\.0\.10 +\? +5m ", row), row
        assert "t3.micro" in row
