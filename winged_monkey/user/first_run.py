"""What a first run with no account says, the same words in the CLI and the TUI."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = """\
[[accounts]]
name = "dev"
provider = "ec2"
region = "us-east-1"
credentials = { aws_profile = "default" }"""


def no_accounts(config: Path) -> str:
    """Where the config is, and the two ways to start: the demo, or an account."""
    return (
        f"no accounts configured in {config}\n"
        "  try it on a built-in demo cloud: wm --demo\n"
        "  or add an account to that file, for example:\n"
        + "\n".join(f"    {line}" for line in EXAMPLE.splitlines())
        + "\n  (or import them: wm accounts import --aws, or --clouds-yaml for OpenStack)"
    )


def no_accounts_line(config: Path) -> str:
    """The same in one line, for a status strip."""
    return f"no accounts in {config}: add [[accounts]] there, or try a demo with `wm --demo`"
