"""The `wm` console script: winged_monkey.cli.main's click group, except for `wm ls --cached`.

A status line runs `wm ls --cached` every few seconds, and importing the CLI (click,
pydantic, asyncio, the portal) costs many times its whole answer, which is one read of
the store (winged_monkey.cli.cached). So a command line that is exactly a cached listing
is answered here with the standard library; anything else (help, a typo, --demo, a
config this quick reading cannot use) goes to click, which runs the same code or says
what is wrong. No process is kept between commands and nothing else is special-cased.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path  # winged_monkey.user.paths imports it anyway


def main() -> None:
    """The console script's entry point."""
    from winged_monkey.terminal.encoding import forgive

    forgive(sys.stdout)  # a legacy locale: `?` for a glyph, not a traceback mid-table
    forgive(sys.stderr)
    try:
        code = _cached_listing(sys.argv[1:])
    except BrokenPipeError:  # `wm ls --cached | head -1`: quiet, exit 1, as click does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    if code is not None:
        sys.exit(code)
    collect_less_often()
    from winged_monkey.cli.main import main as cli

    try:
        cli(prog_name="wm")
    finally:
        # Only if a credential command ran: `wm --help` does not import what commands use.
        commands = sys.modules.get("winged_monkey.credential_commands")
        if commands is not None:
            commands.stop_running()


#: Collections of the middle generation between two of the oldest (CPython's default: 10).
FULL_COLLECTION_AFTER = 1000


def collect_less_often() -> None:
    """Collect the oldest generation, every object alive, a hundred times less often.

    CPython does so whenever what survived the younger collections has grown by a quarter.
    A poll of a large account makes hundreds of thousands of objects that live a while
    (libcloud's parsed reply and nodes, wm's rows), so each poll of 15,000 EC2 instances
    ran some thirty full collections, each longer than the last: the screen froze for up
    to 1.6 s at a time, 14 s a poll (every thread waits on a collection). Cycles still die
    in the young generations, where nearly all are made."""
    import gc

    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)


def _cached_listing(args: list[str]) -> int | None:
    """The exit code of `wm [--config PATH] ls --cached [ACCOUNT]... [--json] [--account
    NAME]... [--kind KIND] [--width N]` run here; None for any other command line."""
    options = _parse(args)
    if options is None:
        return None
    config, accounts, kind, as_json, width = options
    names = _account_names(config)
    if not names or any(a not in names for a in accounts):
        return None  # click names the configured accounts, or says there are none
    from winged_monkey.cli import cached
    from winged_monkey.terminal.render import output_width
    from winged_monkey.user import paths

    return cached.run(
        paths.store_path(),
        accounts or names,
        kind,
        as_json=as_json,
        width=output_width(width),
        out=sys.stdout,
        err=sys.stderr,
    )


Options = tuple[Path | None, list[str], str | None, bool, int | None]


def _parse(args: list[str]) -> Options | None:
    words = _split_equals(args)
    config: Path | None = None
    if words[:1] == ["--config"] and len(words) >= 2:
        from winged_monkey.user.paths import given_path  # as click's option reads it

        config, words = given_path(words[1]), words[2:]
    if words[:1] != ["ls"] or "--cached" not in words:
        return None
    accounts: list[str] = []
    kind: str | None = None
    as_json = False
    width: int | None = None
    rest = iter(words[1:])
    for word in rest:
        if word == "--cached":
            continue
        if word == "--json":
            as_json = True
        elif word in ("--account", "--kind", "--width"):
            value = next(rest, None)
            if value is None or value.startswith("-"):
                return None
            if word == "--account":
                accounts.append(value)
            elif word == "--kind" and value in ("instance", "app"):
                kind = value
            elif word == "--width" and value.isdigit():
                width = int(value)
            else:
                return None
        elif word and not word.startswith("-"):
            accounts.append(word)  # `wm ls --cached dev`, as --account dev
        else:
            return None
    return config, list(dict.fromkeys(accounts)), kind, as_json, width


def _split_equals(args: list[str]) -> list[str]:
    words: list[str] = []
    for arg in args:
        name, equals, value = arg.partition("=")
        words.extend([name, value] if equals and name.startswith("--") else [arg])
    return words


def _account_names(config: Path | None) -> list[str]:
    """The configured accounts' names, in order; [] when the config cannot be read here."""
    import re  # tomllib imports it anyway
    import tomllib

    from winged_monkey.names import ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN
    from winged_monkey.user import paths

    path = config or paths.config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    accounts = data.get("accounts")
    if not isinstance(accounts, list):
        return []
    names = [a.get("name") for a in accounts if isinstance(a, dict)]
    # A name the config refuses, or one used twice: click says so, and exits 3, as every
    # other command does.
    allowed = re.compile(ACCOUNT_NAME_PATTERN)
    if not all(
        isinstance(n, str) and len(n) <= ACCOUNT_NAME_MAX and allowed.fullmatch(n) for n in names
    ):
        return []
    return [str(n) for n in names] if len(set(names)) == len(names) else []
