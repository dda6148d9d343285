"""A variable the credentials name that is set but empty (`export WM_SECRET=`: `env`
lists it) is said to be empty, not "not set", which would send the user looking for a
typo in its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_credentials import accounts_test


@pytest.mark.parametrize(
    ("keyring", "tried"),
    [("keyring = false, ", "env E4_SECRET"), ("", "keyring (no entry); env E4_SECRET")],
    ids=["no-keyring", "keyring"],
)
def test_a_secret_env_set_but_empty_is_said_to_be_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring: str, tried: str
) -> None:
    monkeypatch.setenv("E4_SECRET", "")
    said = accounts_test(tmp_path, f'key = "AKIAX", {keyring}secret_env = "E4_SECRET"').stdout
    assert f"e4: FAILED: no secret found (tried {tried} (set but empty))" in said
    assert "not set" not in said
    if keyring:  # no keyring to store one in: the variable is what to fix
        assert (
            "(set but empty)): give E4_SECRET, the variable secret_env names, the secret "
            "before running wm\n"
        ) in said


def test_a_key_env_set_but_empty_is_said_to_be_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E4_KEY", "")
    monkeypatch.setenv("E4_SECRET", "s3cr3t-never-echoed")
    said = accounts_test(
        tmp_path, 'key_env = "E4_KEY", keyring = false, secret_env = "E4_SECRET"'
    ).stdout
    assert (
        "e4: FAILED: key_env E4_KEY is set but empty: give it the key id before running wm, "
        "or set credentials.key\n"
    ) in said
    assert "s3cr3t" not in said


def test_a_secret_env_not_set_is_still_said_to_be_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("E4_SECRET", raising=False)
    said = accounts_test(
        tmp_path, 'key = "AKIAX", keyring = false, secret_env = "E4_SECRET"'
    ).stdout
    assert "e4: FAILED: no secret found (tried env E4_SECRET (not set))" in said
