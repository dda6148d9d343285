"""The README's config examples stay valid configs (docs that drift are worse than none)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from winged_monkey.user.config import parse_config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_toml_example_in_the_readme_is_a_valid_config() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        config = parse_config(tomllib.loads(block), source="README.md")
        assert config.accounts, block
