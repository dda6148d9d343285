"""Appending imported accounts to the config file, keeping its content and comments.

One write, in one step: the new text is checked to be a config `wm` reads, secrets go to
the keyring first, then the file is replaced whole with its permissions kept.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from winged_monkey.errors import ConfigError
from winged_monkey.user.config import parse_config
from winged_monkey.user.credentials import store_in_keyring
from winged_monkey.user.importing import ImportedAccount


def add_to_config(
    path: Path,
    accounts: Iterable[ImportedAccount],
    *,
    store_secret: Callable[[str, str], None] | None = store_in_keyring,
) -> None:
    """Append the accounts to the config at `path`, keeping what is there.

    Refuses (before changing anything) a name the config already has. Secrets go to
    `store_secret` (the keyring) first, so a keyring that refuses leaves the config as
    it was; with `store_secret=None` none is stored.
    """
    import tomlkit  # only an import needs it
    from tomlkit.items import AoT

    adding = list(accounts)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        existing = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix it before importing") from None
    taken = {str(a.get("name")) for a in existing.get("accounts") or [] if isinstance(a, dict)}
    seen: dict[str, str] = {}  # name -> where it came from
    for account in adding:
        if account.name in taken:
            raise ConfigError(
                f"an account named {account.name} is already in {path}; nothing imported "
                "(import it under another name with --name, or remove the old one first)",
                account=account.name,
            )
        if account.name in seen:  # `[profile "qa team"]` and `[profile qa-team]`
            raise ConfigError(
                f"{seen[account.name]} and {account.source} would both be the account "
                f"{account.name}; nothing imported (import one of them alone, under another "
                "name: --cloud or --profile with --name)",
                account=account.name,
            )
        seen[account.name] = account.source

    document = tomlkit.parse(text)
    tables = document.get("accounts")
    if tables is None:
        tables = tomlkit.aot()
        document.append("accounts", tables)
    elif not isinstance(tables, AoT):
        raise ConfigError(
            f"{path}: `accounts` is written as an inline array; write each as an "
            "[[accounts]] table to let the import add to it"
        )
    for account in adding:
        table = tomlkit.table()
        table.trivia.indent = "\n"  # a blank line before each new [[accounts]]
        table.add(tomlkit.comment(f"imported from {account.source}"))
        for key, value in account.table.items():
            table.add(key, value)
        tables.append(table)
    updated = tomlkit.dumps(document)
    parse_config(tomllib.loads(updated), source=str(path))  # never write what `wm` can't read

    if store_secret is not None:
        for account in adding:
            if account.secret:
                store_secret(account.name, account.secret)
    _write(path, updated)


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions (a new one is 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
