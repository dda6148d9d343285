"""`wm launch TEMPLATE` (the catalog's launch for Heat accounts) against the real Heat:
a template file goes through Heat's validation and is followed until the app runs."""

from __future__ import annotations

from pathlib import Path

from tests.heat.conftest import SMALL, Projects
from tests.heat.test_heat_cli import Cli
from tests.heat.test_heat_cli import cli as cli  # the fixture
from winged_monkey.cli.main import ExitCode


def test_wm_launch_a_template_follows_the_app_until_it_runs(cli: Cli, tmp_path: Path) -> None:
    heat: Projects = cli.heat
    cli.add_heat("lab")
    shop = tmp_path / "shop.yaml"
    shop.write_text(SMALL)

    declined = cli.run("launch", str(shop), "--account", "lab", "--param", "size=3")
    assert declined.exit_code == ExitCode.DECLINED
    assert "Launch app shop from" in declined.stderr
    assert heat.witness("lab", "GET", "/stacks").json()["stacks"] == []

    launched = cli.run(
        "launch", str(shop), "--account", "lab", "--param", "size=3", "--wait", "--yes"
    )
    assert launched.exit_code == ExitCode.OK, launched.output
    (line,) = launched.stdout.splitlines()
    assert line.startswith("lab/")
    assert line.endswith(": ok: shop is running")
    stack_id = line.split(":")[0].removeprefix("lab/")
    assert heat.status("lab", stack_id) == "CREATE_COMPLETE"

    wrong = cli.run(
        "launch", str(shop), "--account", "lab", "--name", "x", "--param", "size=lots", "--yes"
    )
    assert wrong.exit_code == ExitCode.CONFIG
    assert wrong.stderr.startswith("wm: lab: x rejected: ")
    assert "size" in wrong.stderr
