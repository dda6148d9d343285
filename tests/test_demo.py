"""The demo cloud: three accounts on moto, a config that loads, and no Textual anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from winged_monkey.demo import seed
from winged_monkey.demo.seed import build_demo, running_demo
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import load_config


async def test_build_demo_fills_three_accounts_with_mixed_states(
    moto: MotoServer, tmp_path: Path
) -> None:
    workdir = tmp_path / "demo"
    config = build_demo(moto, workdir)

    assert [a.name for a in config.accounts] == ["dev", "dev-eu", "prod"]
    assert load_config(workdir / "config.toml", must_exist=True) == config
    written = (workdir / "config.toml").read_text()
    for var in (seed.ENV_DEV_SECRET, seed.ENV_PROD_SECRET, seed.ENV_PROD_TOKEN):
        assert os.environ[var] not in written  # the file names variables, never secrets
    assert config.refresh_interval <= 5
    portal = Portal(config, Store.open(workdir / "wm.sqlite3"))
    async for _ in portal.refresh():
        pass

    assert {s.name: s.phase for s in portal.statuses()} == dict.fromkeys(
        ["dev", "dev-eu", "prod"], "ok"
    )
    instances = portal.instances()
    assert len(instances) >= 10
    assert {i.state for i in instances} >= {
        InstanceState.RUNNING,
        InstanceState.STOPPED,
        InstanceState.TERMINATED,
    }
    assert {i.account for i in instances} == {"dev", "dev-eu", "prod"}
    assert {i.region for i in instances if i.account == "dev-eu"} == {"eu-west-1"}
    assert all(i.extra["tags"].keys() >= {"Name", "team", "env"} for i in instances)
    assert any(i.price_hourly for i in instances)
    prod_ids = {i.id for i in instances if i.account == "prod"}
    dev_ids = {i.id for i in instances if i.account == "dev"}
    assert prod_ids
    assert not prod_ids & dev_ids
    # prod is another AWS account, reached with STS temporary credentials (ASIA...).
    prod_key = config.account("prod").credentials.key
    assert prod_key is not None
    assert prod_key.startswith("ASIA")
    assert any(c.access_key == prod_key and c.action == "DescribeInstances" for c in moto.calls)
    await portal.close()


def test_running_demo_keeps_everything_in_its_workdir(tmp_path: Path) -> None:
    with running_demo(tmp_path / "w") as (config, store_path, server):
        assert store_path.parent == tmp_path / "w"
        assert (tmp_path / "w" / "config.toml").exists()
        assert all(a.endpoint and a.endpoint.port == server.port for a in config.accounts)
    assert not (tmp_path / "data").exists()  # WM_DATA_DIR (the user's dirs) untouched


def test_the_demo_never_imports_textual() -> None:
    code = (
        "import json, sys\n"
        "import winged_monkey.demo, winged_monkey.demo.server, winged_monkey.demo.seed\n"
        "import winged_monkey.demo.cloud\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert "winged_monkey.ui" not in loaded
