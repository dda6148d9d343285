"""Secrets for an account: OS keyring, an env var, a command, a prompt; or botocore's own
resolution for AWS (`aws_profile`, or an EC2 account that names no credentials).

A secret is held in memory only. Nothing here logs or formats a secret value;
error messages name where we looked, never what we found.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable

from winged_monkey import aws
from winged_monkey import credential_commands as commands
from winged_monkey.account import (
    KEYRING_MISSING,
    KEYRING_SERVICE,
    KEYRING_UNAVAILABLE,
    AccountConfig,
    Secrets,
    elsewhere,
    secret_env_name,
    shown_secret_env,
)
from winged_monkey.errors import CredentialError, WMError

__all__ = [
    "KEYRING_MISSING",
    "KEYRING_SERVICE",
    "KEYRING_UNAVAILABLE",
    "CredentialResolver",
    "Prompt",
    "Secrets",
    "elsewhere",
    "secret_env_name",
    "store_in_keyring",
]
COMMAND_TIMEOUT = 30.0

#: Asks a person for the secret of an account: (account, hint) -> secret or None.
Prompt = Callable[[str, str], str | None]


class CredentialResolver:
    """Resolves and caches each account's secrets for the session."""

    def __init__(self, prompt: Prompt | None = None, *, terminal: bool = True) -> None:
        #: Whether a credential command may use wm's terminal (credential_commands.py):
        #: not under the TUI, which draws there, nor in `wm serve`.
        self.terminal = terminal
        #: Accounts whose question is open or waiting for another's: a person's time, which
        #: no deadline counts.
        self.asking: set[str] = set()
        #: Seconds each account's finished questions took (a person's time, as above).
        self._asked: dict[str, float] = {}
        self._prompt: Prompt | None = None
        self.prompt = prompt
        self._cache: dict[str, Secrets] = {}

    @property
    def prompt(self) -> Prompt | None:
        """Asked last, when no other source has a secret (a terminal, or the TUI's dialog);
        one question at a time, each naming its account, though accounts resolve at once."""
        return self._prompt

    @prompt.setter
    def prompt(self, prompt: Prompt | None) -> None:
        # Wrapped wherever it is set: the TUI sets its dialog once the app exists, and a
        # question open in it is a person's time, which no deadline counts.
        self._prompt = self._one_at_a_time(prompt) if prompt is not None else None

    def asked(self, account: str) -> float:
        """Seconds the account's finished questions have taken a person."""
        return self._asked.get(account, 0.0)

    def resolve(self, account: AccountConfig) -> Secrets:
        if account.name not in self._cache:
            self._cache[account.name] = self._resolve(account)
        return self._cache[account.name]

    def forget(self, name: str) -> None:
        self._cache.pop(name, None)

    def _one_at_a_time(self, prompt: Prompt) -> Prompt:
        """`prompt` behind a lock: accounts resolve in parallel threads, and two questions
        at once would interleave on one terminal."""
        lock = threading.Lock()

        def ask(account: str, what: str) -> str | None:
            self.asking.add(account)
            began = time.monotonic()
            try:
                with lock:
                    return prompt(account, what)
            finally:
                self._asked[account] = self.asked(account) + time.monotonic() - began
                self.asking.discard(account)

        return ask

    def _resolve(self, account: AccountConfig) -> Secrets:
        creds = account.credentials
        name = account.name
        tried: list[str] = []
        if aws.uses_botocore(account):  # the aws CLI's own chain and profiles
            identity = aws.resolve(account, self.prompt, terminal=self.terminal)
            return Secrets(
                account=name, source=identity.source, tried=(identity.source,), aws=identity
            )

        key = creds.key
        key_env_unset = None  # said by Secrets.require_key, should the key be needed
        if key is None and creds.key_env:
            key = os.environ.get(creds.key_env) or None
            key_env_unset = None if key else creds.key_env

        token = os.environ.get(creds.token_env) if creds.token_env else None

        secret: str | None = None
        secret_env_unset = None  # said by Secrets.require_secret, should no source give one
        source = "none"
        if creds.keyring:
            secret, note = _from_keyring(name)
            tried.append(note)
            source = "keyring"
        if secret is None and creds.secret_env:
            value = os.environ.get(creds.secret_env)
            secret = value or None
            shown = creds.secret_env if secret else shown_secret_env(creds.secret_env)
            tried.append(f"env {shown}" + ("" if secret else _unset_or_empty(value)))
            secret_env_unset = None if secret else creds.secret_env
            source = f"env {creds.secret_env}"
        if secret is None and creds.secret_command:
            secret = _from_command(creds.secret_command, name, terminal=self.terminal)
            tried.append("secret_command")
            source = "secret_command"
        if secret is None and self.prompt is not None and _needs_secret(account):
            secret = self.prompt(name, "secret")
            tried.append("prompt")
            source = "prompt"
        if secret is None:
            source = "none"
        return Secrets(
            account=name,
            key=key,
            secret=secret,
            token=token,
            source=source,
            tried=tuple(tried),
            key_env_unset=key_env_unset,
            secret_env_unset=secret_env_unset,
            env_empty=frozenset(
                name for name in (key_env_unset, secret_env_unset) if name and name in os.environ
            ),
            key_is=_key_is(account) if key is None else "key id",
            takes_aws_profile=account.takes_aws_profile,
        )


def _unset_or_empty(value: str | None) -> str:
    """The note for a variable that gave nothing: `export X=` sets X, to nothing, and
    `env` lists it; "not set" would send the user looking for a typo in its name."""
    return " (not set)" if value is None else " (set but empty)"


def _needs_secret(account: AccountConfig) -> bool:
    """False when the account's backend declares it uses no secret: never prompt then."""
    from winged_monkey import plugins  # the backend API imports this module

    try:
        settings = plugins.settings(account.backend)
    except WMError:
        return True
    return settings is None or settings.needs_secret(account)


def _key_is(account: AccountConfig) -> str:
    """What the account's key is, as its backend says ("user name"), for a missing key's
    words; "key id" when it cannot say."""
    from winged_monkey import plugins  # the backend API imports this module

    try:
        settings = plugins.settings(account.backend)
    except WMError:
        return "key id"
    return (settings.key_is(account) if settings is not None else None) or "key id"


def _from_keyring(account: str) -> tuple[str | None, str]:
    """Look in the keyring; an unusable keyring (headless, no D-Bus) is a note, not a crash."""
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring

        if isinstance(keyring.get_keyring(), FailKeyring):
            return None, f"{KEYRING_MISSING} on this host)"
        value = keyring.get_password(KEYRING_SERVICE, account)
    except Exception as exc:  # D-Bus and backend errors come in many types
        return None, f"{KEYRING_UNAVAILABLE}: {type(exc).__name__})"
    return value, "keyring" + ("" if value else " (no entry)")


def keyring_usable() -> bool:
    """Whether this host has a keyring `wm accounts set-secret` can store into."""
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring

        return not isinstance(keyring.get_keyring(), FailKeyring)
    except Exception:  # D-Bus and backend errors come in many types
        return False


def store_in_keyring(account: str, secret: str, *, instead: str | None = None) -> None:
    """Store the secret; a host without a usable keyring is told `instead` (what fits the
    command at hand), else where the secret can live."""
    advice = instead or elsewhere(account)
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring

        if isinstance(keyring.get_keyring(), FailKeyring):
            raise CredentialError(
                f"this host has no keyring backend (common over SSH on a server): {advice}",
                account=account,
            )
        keyring.set_password(KEYRING_SERVICE, account, secret)
    except CredentialError:
        raise
    except Exception as exc:
        raise CredentialError(
            f"the keyring refused the secret ({type(exc).__name__}): {advice}",
            account=account,
        ) from None


def _from_command(command: str, account: str, *, terminal: bool) -> str:
    hint = "" if terminal else f"; {commands.no_terminal('secret_command')}"
    try:
        done = commands.run(shlex.split(command), timeout=COMMAND_TIMEOUT, terminal=terminal)
    except (OSError, ValueError) as exc:
        raise CredentialError(f"secret_command could not run: {exc}", account=account) from None
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"secret_command took longer than {COMMAND_TIMEOUT:.0f} s" + hint,
            account=account,
        ) from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or [""])[0][:200]
        raise CredentialError(
            f"secret_command exited with {done.returncode}"
            + (f": {first}" if first else "")
            + hint,
            account=account,
        )
    # The first line, as `pass show` prints the password above the entry's other lines
    # (login:, url:); the whole output went out as the secret, newlines and all.
    value = (done.stdout.strip().splitlines() or [""])[0].strip()
    if not value:
        raise CredentialError(
            "secret_command printed nothing" + hint,
            account=account,
        )
    return value
