"""wm under a legacy locale, as some bastions still have (LANG=en_US.ISO-8859-1): Python's
stdout then takes only Latin-1, and a state glyph raised mid-table. PYTHONIOENCODING stands
in for the locale here (this machine has generated no Latin-1 locale); Python gives its
streams the same encoding either way."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import DEV_SECRET, Cloud
from tests.terminal import shown_on_a_terminal
from tests.test_ls_output import SECRET_ENV, WM, account

#: A name a cloud may hold: Latin-1 has the é, not the check mark.
NAME = "café-✓"


def run(config: Path, *args: str, encoding: str) -> tuple[int, str, str]:
    env = {**os.environ, "WM_CONFIG": str(config), "WM_DATA_DIR": str(config.parent / "data")}
    env |= {SECRET_ENV: DEV_SECRET, "PYTHONIOENCODING": encoding}
    done = subprocess.run([*WM, *args], env=env, capture_output=True, timeout=120, check=False)
    return done.returncode, done.stdout.decode(encoding), done.stderr.decode(encoding)


def test_ls_prints_its_table_without_glyphs_it_cannot_encode(cloud: Cloud, tmp_path: Path) -> None:
    ec2 = cloud.ec2()
    cloud.launch(ec2, "web-1")
    cloud.launch(ec2, NAME)
    config = tmp_path / "config.toml"
    config.write_text(account("dev", cloud.server.port), encoding="utf-8")

    in_utf8 = run(config, "ls", "--json", encoding="utf-8")
    live = run(config, "ls", "--width", "0", encoding="iso8859-1")
    cached = run(config, "ls", "--cached", "--width", "0", encoding="iso8859-1")
    as_json = run(config, "ls", "--json", encoding="iso8859-1")

    for code, _, err in (live, cached, as_json):
        assert code == 0, err
        assert "Traceback" not in err
    for _, table, _ in (live, cached):
        rows = [line.split() for line in table.split("\n\n")[0].splitlines()[1:]]
        if table is cached[1]:  # a cached state is as last seen: `~` marks it in ASCII
            assert all(row[:4] == ["~", "last", "seen", "running"] for row in rows), table
            rows = [[row[3], *row[6:]] for row in rows]  # the state, then after `N ago`
        # The state's word alone where its glyph has no Latin-1 byte; the name as far as
        # Latin-1 goes, a `?` for the rest.
        assert sorted(row[:3] for row in rows) == [
            ["running", "café-?", "dev"],
            ["running", "web-1", "dev"],
        ]
    # JSON is ASCII with escapes: the same document whatever the locale.
    assert json.loads(as_json[1])["instances"] == json.loads(in_utf8[1])["instances"]


def test_the_tui_says_to_start_in_a_utf8_locale(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "iso8859-1", "WM_DATA_DIR": str(tmp_path)}
    shown = shown_on_a_terminal([*WM, "--demo"], env)
    assert "encoding is iso8859-1" in shown
    assert "LC_ALL=C.UTF-8 wm" in shown
    assert "\x1b[?1049h" not in shown  # the screen was never taken over
    assert "Traceback" not in shown
