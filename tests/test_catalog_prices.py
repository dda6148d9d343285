"""`wm catalog` shows prices and unknown disks as the TUI does (moto, libcloud's prices)."""

from __future__ import annotations

from tests.test_catalog_cli import Wm, wm  # noqa: F401 (the fixture)
from winged_monkey.cli.main import ExitCode
from winged_monkey.ui.widgets.catalog_text import hourly


def test_catalog_prices_read_as_in_the_tui(wm: Wm) -> None:  # noqa: F811
    result = wm("catalog", "--account", "dev")
    assert result.exit_code == ExitCode.OK, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  t3")}
    nano, a_nano = rows["t3.nano"], rows["t3a.nano"]
    # Four places, as the TUI: t3a.nano ($0.0047) and t3.nano ($0.0052) are told apart.
    assert "$0.0047/h" in a_nano
    assert "$0.0052/h" in nano
    assert hourly(0.0047) == "$0.0047/h"
    assert "/mo" in nano
    assert " - " not in nano  # an unknown disk is "?", as in the TUI
    assert "?" in nano  # EBS-only: libcloud knows no disk size
    assert "HOURLY" in result.stdout
