"""The user's configuration: TOML, validated by pydantic, errors that name file, account and field.

Secrets never live here: an account names where its secret comes from.
"""

from __future__ import annotations

import codecs
import functools
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from winged_monkey.account import AccountConfig, Credentials, Endpoint
from winged_monkey.backend_settings import (
    SECRET_KEYS,
    SHARED_KEYS,
    SharedSettings,
    secret_hint,
    unknown_keys,
)
from winged_monkey.config_words import in_words, meant
from winged_monkey.errors import ConfigError, WMError, nearest

__all__ = [
    "AccountConfig",
    "BrokenAccount",
    "Config",
    "Credentials",
    "Endpoint",
    "EventsConfig",
    "config_text",
    "describe_each",
    "load_config",
    "parse_config",
    "read_config",
]


class BrokenAccount(AccountConfig):
    """An [[accounts]] table refused when the config loaded, kept under its name: using the
    account raises its `refusal` (a ConfigError, in the words the whole file's check has for
    it), and the other accounts work. Never made from the file (see `parse_config`)."""

    #: What is wrong with the table, without the file's path: the problem comes first where
    #: a line is short (the TUI's account strip at 80 columns).
    problem: str = ""
    #: The file the table is in ("" when the words need no file: a server's clients').
    source: str = ""

    @classmethod
    def of(cls, table: dict[str, Any], problem: str, source: str) -> BrokenAccount:
        """The placeholder of `table` (named by a valid name): what it says of its backend,
        provider and region, when they are text, for the lists that show them."""
        shown: dict[str, Any] = {
            k: v for k in ("backend", "provider", "region") if isinstance(v := table.get(k), str)
        }
        credentials = _credentials_of(table.get("credentials"))
        if credentials is not None:  # its secret is not the keyring's: set-secret says so
            shown["credentials"] = credentials
        return cls.model_construct(name=table["name"], problem=problem, source=source, **shown)

    @property
    def refusal(self) -> str:
        return f"{self.problem} (in {self.source})" if self.source else self.problem

    def refused(self) -> ConfigError:
        return ConfigError(self.refusal)


def _credentials_of(table: object) -> Credentials | None:
    """Where a refused account with `keyring = false` takes its secret from instead (its
    secret_env and secret_command, when its credentials are valid): only that, as the
    config's check of its account validates it again, and nothing else is needed."""
    if not isinstance(table, dict) or table.get("keyring") is not False:
        return None
    try:
        valid = Credentials.model_validate(table)
    except ValidationError:  # a value refused there may be the secret itself: not kept
        return Credentials(keyring=False)
    return Credentials(
        keyring=False, secret_env=valid.secret_env, secret_command=valid.secret_command
    )


class EventsConfig(BaseModel):
    """How much of the event log to keep (`[events]`); both limits may apply at once."""

    # Upper bounds here and below keep the dates and deadlines made from them in range.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)

    max_age_days: float = Field(
        90.0,
        ge=0,
        le=36_500,
        description="Delete events older than this many days; 0 keeps every age.",
    )
    max_count: int = Field(
        1_000_000,
        ge=0,
        le=10**12,
        description="Keep at most this many of the newest events; 0: no cap.",
    )


class Config(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)

    refresh_interval: float = Field(15.0, ge=1, le=86_400, description="Seconds between polls.")
    busy_refresh_interval: float = Field(
        3.0, ge=0.1, le=3600, description="Seconds between polls while an action is in flight."
    )
    action_poll_interval: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="Seconds between checks of an instance an action is following.",
    )
    action_timeout: float = Field(
        600.0, gt=0, le=86_400, description="Give up following an action after."
    )
    keys: dict[str, str] = Field(
        default_factory=dict, description="Binding id to keys, e.g. stop = 'x,ctrl+x'."
    )
    events: EventsConfig = Field(default_factory=EventsConfig)
    accounts: tuple[AccountConfig, ...] = ()
    serve: dict[str, Any] = Field(
        default_factory=dict,
        description="`wm serve`'s own settings (validated by winged_monkey.serve.settings).",
    )

    @field_validator("keys")
    @classmethod
    def _keys_are_keys(cls, keys: dict[str, str]) -> dict[str, str]:
        # The ids are the views' (user/binding_ids.py, which they take them from): Textual
        # ignores an id no binding has, so a typo would leave the key as it was, unsaid.
        # Read for a [keys] table only: not every command's to import.
        from winged_monkey.user import binding_ids

        known = frozenset(i.value for i in binding_ids.BindingId)
        for binding_id, written in keys.items():
            if binding_id not in known:
                close = nearest(binding_id, known)
                hint = f"did you mean {close!r}? " if close else ""
                raise ValueError(
                    f"{binding_id} = {written!r}: {binding_id!r} is not a binding id "
                    f"({hint}the ids: {binding_ids.listed()})"
                )
            for key in written.split(","):
                if not _is_key(key.strip()):
                    which = f": {key.strip()!r}" if "," in written else ""
                    raise ValueError(
                        f"{binding_id} = {written!r}{which} is not a key (write keys as x, R, "
                        "ctrl+x, shift+tab, f5, slash, question_mark; several with commas)"
                    )
        return keys

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, accounts: tuple[AccountConfig, ...]) -> tuple[AccountConfig, ...]:
        seen: set[str] = set()
        for account in accounts:
            if account.name in seen:
                raise ValueError(f"account name {account.name!r} is used twice")
            seen.add(account.name)
        return accounts

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts) or "none"
        raise ConfigError(f"no account named {name!r} (configured: {known})")


def load_config(path: Path, *, must_exist: bool = False, per_account: bool = False) -> Config:
    """Read and validate the config; a missing default file is an empty config. With
    `per_account`, one account's own mistake fails that account alone (`parse_config`)."""
    text = read_config(path, must_exist=must_exist)
    if text is None:
        return Config()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {_toml_error(exc)}") from None
    return parse_config(data, source=str(path), per_account=per_account)


def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, and what it means where its words are its parser's."""
    said = str(exc)
    whole = re.match(r"Cannot mutate immutable namespace \(((?:'[^']*',? ?)+)\)(.*)", said)
    if whole is None:
        return said
    key = ".".join(re.findall(r"'([^']*)'", whole.group(1)))
    meaning = (
        f"{key} is written whole (`{key} = ...`) and then again as a table ([{key}] or "
        f"[[{key}]]){whole.group(2)}: TOML takes one or the other"
    )
    return meaning + ("; write every account as a [[accounts]] table" if key == "accounts" else "")


def read_config(path: Path, *, must_exist: bool = True) -> str | None:
    """The config file's text (None if it is missing and need not exist), or a
    ConfigError naming the path: what every command that reads the file says of it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"{path}: no such file") from None
        return None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a directory, not a config file: name the file itself "
            f"(e.g. {path / 'config.toml'}) in --config or WM_CONFIG"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    return config_text(path, raw)


def config_text(path: Path, raw: bytes) -> str:
    """The file's bytes as text: UTF-8, as TOML is, with the BOM Windows editors write
    taken off; anything else is refused with how to save it."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or raw.count(0) * 4 > len(raw):
        # NUL is never in a TOML file, but every ASCII character of UTF-16 carries one.
        raise ConfigError(f"{path}: not UTF-8 text (saved as UTF-16?): save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}): save it as UTF-8"
        ) from None


#: Modifiers and named keys as Textual spells them (textual.keys.Keys; tests/
#: test_config_refusals.py checks every one of Textual's is taken here).
_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED_KEYS = frozenset(
    {"escape", "enter", "return", "tab", "space", "backspace", "delete", "insert", "newline"}
    | {"home", "end", "pageup", "pagedown", "up", "down", "left", "right"}
    | {f"f{n}" for n in range(1, 25)}
)
#: Textual's few short names of punctuation keys (textual.keys.KEY_NAME_REPLACEMENTS).
_SHORT_NAMES = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def _is_key(key: str) -> bool:
    """Whether `key` is one key as Textual's bindings spell it: a printable character, or
    modifiers and a key's name (`ctrl+x`, `shift+tab`, `question_mark`)."""
    if len(key) == 1:
        return key.isprintable() and not key.isspace()
    *modifiers, name = key.split("+")
    if not name or any(m not in _MODIFIERS for m in modifiers):
        return False
    return (len(name) == 1 and name.isprintable()) or name in _NAMED_KEYS | _punctuation()


@functools.cache
def _punctuation() -> frozenset[str]:
    """The names Textual gives the ASCII punctuation keys ('question_mark', 'slash')."""
    names = set()
    for code in range(33, 127):
        if not chr(code).isalnum():
            name = unicodedata.name(chr(code)).lower().replace("-", "_").replace(" ", "_")
            names.add(_SHORT_NAMES.get(name, name))
    return frozenset(names)


def parse_config(data: dict[str, Any], *, source: str, per_account: bool = False) -> Config:
    """The config in `data` (read from `source`), or a ConfigError saying every problem.

    With `per_account`, a problem confined to one [[accounts]] table that has a valid name
    (an unknown key, a value of the wrong type or out of range, in the table or its
    credentials, endpoint or driver) refuses that account alone: it is kept as a
    BrokenAccount carrying the words the whole file's check has for it. Any other problem
    (a top-level key, a duplicate name, a table without a valid name) still refuses the file,
    with every problem said, as without `per_account`."""
    try:
        return _parse(data, source)  # a right file is checked once, as without per_account
    except ConfigError as exc:
        if not (per_account and isinstance(data.get("accounts"), list)):
            raise
        whole = exc
    kept = [_account_or_broken(table, source) for table in data["accounts"]]
    try:
        return _parse({**data, "accounts": kept}, source)
    except ConfigError:
        raise whole from None  # a problem outside one account's table: the whole file's


def _parse(data: dict[str, Any], source: str) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        # The unknown keys too: checked after validation, a typo beside a wrong value was
        # said only once that value was mended, on the next run.
        said = [*describe_each(exc, data), *_unknown_keys_of_tables(data)]
        raise ConfigError.in_file(source, said) from None
    problems = [
        f"account {account.name!r}: {problem}"
        for account in config.accounts
        for problem in _unknown_keys(account)
    ]
    problems += [
        f"account {account.name!r}, {problem}"
        for account in config.accounts
        for problem in _shared_problems(account.settings)
    ]
    if problems:
        raise ConfigError.in_file(source, problems)
    return config


def _unknown_keys_of_tables(data: dict[str, Any]) -> list[str]:
    """The unknown keys of each named [[accounts]] table, read from the tables as written
    (for a file that did not validate: only their keys are looked at)."""
    tables = data.get("accounts")
    problems = []
    for table in tables if isinstance(tables, list) else ():
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            continue
        if not isinstance(table.get("backend", ""), str):
            continue
        account = AccountConfig.model_construct(**table)  # unvalidated: its keys alone
        problems += [f"account {table['name']!r}: {p}" for p in _unknown_keys(account)]
        problems += [f"account {table['name']!r}, {p}" for p in _shared_problems(table)]
    return problems


def _shared_problems(settings: dict[str, Any]) -> list[str]:
    """What is wrong with the keys any account may carry (`pool`, the ssh_* keys), which no
    backend checks: said when the config loads, as the account's own keys are, not left
    for `wm serve` or `wm ssh` to find."""
    shared = {key: value for key, value in settings.items() if key in SHARED_KEYS}
    try:
        SharedSettings.model_validate(shared)
    except ValidationError as exc:
        return describe_each(exc, shared, root=SharedSettings)
    return []


def _account_or_broken(table: Any, source: str) -> Any:
    """`table` as it is, or its BrokenAccount if a problem is confined to it and it has a
    valid name (a table that cannot be named is left for the whole file's check)."""
    if not isinstance(table, dict):
        return table
    one = {"accounts": [table]}
    try:
        _parse(one, source)
    except ConfigError as exc:
        try:
            Config.model_validate({"accounts": [{"name": table.get("name")}]})
        except ValidationError:
            return table  # no valid name to fail it under
        return BrokenAccount.of(table, _unnamed(exc.problems, table["name"]), source)
    return table


def _unnamed(problems: tuple[str, ...], name: str) -> str:
    """One account's problems without its name, which whoever shows them puts first: the
    TUI's strip read `✗ prod failed: account 'prod', field timeout: must be a numbe…`."""
    named = (f"account {name!r}, ", f"account {name!r}: ")
    return "; ".join(
        next((p.removeprefix(n) for n in named if p.startswith(n)), p) for p in problems
    )


def _unknown_keys(account: AccountConfig) -> list[str]:
    """Keys of the account that neither the portal nor its backend reads (a backend that
    is not installed is reported when the account is used)."""
    if not account.settings:
        return []
    from winged_monkey import plugins  # it imports the backend API, which imports this module

    # The file's own settings, which TOML puts in the last account when written below it.
    top_level = set(Config.model_fields) - {"accounts"}
    return unknown_keys(account, plugins.settings(account.backend), top_level=top_level)


def describe_each(
    exc: ValidationError,
    data: dict[str, Any],
    *,
    root: type[BaseModel] = Config,
    within: tuple[str, ...] = (),
) -> list[str]:
    """pydantic's errors for `data` (validated by `root`, found at `within` in the file) in
    the file's words, one for each: where, and what to write."""
    return [_describe(error, data, root, within) for error in exc.errors()]


def _describe(
    error: Any, data: dict[str, Any], root: type[BaseModel], within: tuple[str, ...]
) -> str:
    loc = list(error["loc"])
    where = []
    if len(loc) >= 2 and loc[0] == "accounts" and isinstance(loc[1], int):
        accounts = data.get("accounts") or []
        name = accounts[loc[1]].get("name") if loc[1] < len(accounts) else None
        where.append(f"account {name!r}" if name else f"account #{loc[1] + 1}")
    fields = [str(part) for part in loc if not isinstance(part, int)]
    in_account = bool(where)
    shown = fields[1:] if in_account else [*within, *fields]  # an account's keys, from it
    if error["type"] == "extra_forbidden":
        close = _meant(fields, root, _reads_key(data, loc) if in_account else True)
        hint = f" (did you mean {'.'.join([*shown[:-1], close])!r}?)" if close else ""
        if fields[-2:-1] == ["credentials"] and fields[-1].lower() in SECRET_KEYS:
            hint = secret_hint(name if in_account and isinstance(name, str) else None)
        elif (
            in_account and root is Config and fields[-1] in set(Config.model_fields) - {"accounts"}
        ):
            table = ".".join(["accounts", *shown[:-1]])
            hint = (
                f": {fields[-1]} is a top-level setting: move it above the first [[accounts]] "
                f"(TOML puts keys after a table's header, here [{table}], into that table)"
            )
        return ", ".join([*where, f"unknown key {'.'.join(shown)!r}{hint}"])
    if shown:
        where.append("field " + ".".join(shown))
    # The TOML header of the table in error: an account's are under its [[accounts]].
    header = ".".join(["accounts", *shown] if in_account else shown)
    if error["type"] in ("dict_type", "model_type"):
        text = _not_a_table(header, error["input"], each=error["type"] == "dict_type")
        if in_account:
            text = text.replace("]", "] after the account's [[accounts]]", 1)
    elif error["type"] in ("tuple_type", "list_type") and isinstance(error["input"], dict):
        text = f"must be a list of tables: write [[{header}]] before each one, not [{header}]"
    elif error["type"] in ("tuple_type", "list_type") and header != "accounts":
        text = f'must be a list, in brackets: {shown[-1]} = ["...", "..."]'
    elif error["type"] in ("tuple_type", "list_type"):
        kind = _TOML_KINDS.get(type(error["input"]), "a date")
        text = f"must be [[accounts]] tables, one per account, not {kind}"
    else:
        text = in_words(error)
    prefix = ", ".join(where)
    return f"{prefix}: {text}" if prefix else text


#: What a TOML value is, in the words of TOML's documentation.
_TOML_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}


def _not_a_table(dotted: str, value: object, *, each: bool) -> str:
    """A table's key given another kind of value (`each`: a table of tables, one per name)."""
    write = f"[{dotted}.NAME] for each" if each else f"[{dotted}]"
    if isinstance(value, list):
        return f"must be a table, not a list: write {write}, not [[{dotted}]]"
    kind = _TOML_KINDS.get(type(value), "a date" if value is not None else "empty")
    return f"must be a table ({write}), not {kind}"


def _reads_key(data: dict[str, Any], loc: list[Any]) -> bool:
    """Whether the account at `loc` reads `credentials.key` (its backend says; yes when it
    cannot say), for a hint that names it."""
    table = data["accounts"][loc[1]]
    backend = table.get("backend", "libcloud") if isinstance(table, dict) else None
    if not isinstance(backend, str):
        return True
    from winged_monkey import plugins  # it imports the backend API, which imports this module

    try:
        settings = plugins.settings(backend)
    except WMError:
        return True
    if settings is None:
        return True
    return settings.key_is(AccountConfig.model_construct(**table)) is not None


def _meant(fields: list[str], root: type[BaseModel], reads_key: bool) -> str | None:
    """The key its table accepts that the unknown one likely means (`meant`), if any."""
    from typing import get_origin

    model = root
    names = iter(fields[:-1])
    for name in names:
        found = model.model_fields.get(name)
        inner = _model_in(found.annotation) if found is not None else None
        if found is None or inner is None:
            return None
        if get_origin(found.annotation) is dict:
            next(names, None)  # the table's own key, e.g. a pool's name
        model = inner
    valid = set(model.model_fields) - ({"key"} if model is Credentials and not reads_key else set())
    if fields[:1] == ["accounts"] and root is Config:
        return meant(fields[-1], valid, table=".".join(fields[1:-1]))
    return meant(fields[-1], valid, table=None)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: itself, optional, or the items of a tuple."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    from typing import get_args

    return next((m for a in get_args(annotation) if (m := _model_in(a)) is not None), None)
