"""A libvirt account's driver.uri, checked when the account is built: one holding a password
is refused without echoing it (libvirt takes none from its URI, wm would only print it),
and one missing is said in the config's words. libvirt's `test:///default` driver runs in
wm's own process, so these run a real libvirt with no daemon."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main
from winged_monkey_libcloud import libvirturi

GOOD = '[[accounts]]\nname = "good"\nprovider = "libvirt"\ndriver = { uri = "test:///default" }\n'
PASSWORD = "Sup3rSecretPw"
NEEDS_URI = (
    "a libvirt account needs driver.uri (e.g. qemu:///system, or qemu+ssh://user@host/system)"
)
NEEDS_URI = (
    "a libvirt account needs driver.uri (e.g. qemu:///system, or qemu+ssh://user@host/system)"
)


def wm(tmp_path: Path, account: str, *args: str) -> Result:
    config = tmp_path / "wm.toml"
    config.write_text(f'{GOOD}\n[[accounts]]\nname = "kvm"\nprovider = "libvirt"\n{account}\n')
    return CliRunner().invoke(main, ["--config", str(config), *args])


def said_for(account: str, said: str, done: Result) -> bool:
    """Whether `said` is told of `account`: `wm: kvm: ...` on stderr, or `kvm: FAILED: ...`."""
    lines = done.output.splitlines()
    return any(
        line.startswith((f"wm: {account}: ", f"{account}: FAILED: ")) and said in line
        for line in lines
    )


@pytest.mark.parametrize(
    "uri",
    [
        f"test://alice:{PASSWORD}@/default",
        f"qemu+tcp://alice:{PASSWORD}@ho st/system",  # libvirt's parser quotes it back
        f"qemu+ssh://alice:{PASSWORD}@[::1/system",  # urlsplit's refusal
    ],
)
@pytest.mark.parametrize("command", [("accounts", "test"), ("accounts",), ("ls",)])
def test_a_password_in_the_uri_is_refused_and_never_printed(
    tmp_path: Path, uri: str, command: tuple[str, ...]
) -> None:
    done = wm(tmp_path, f'driver = {{ uri = "{uri}" }}', *command)

    assert done.exit_code == ExitCode.CONFIG, done.output
    assert PASSWORD not in done.output
    said = (
        "driver.uri holds a password, which libvirt does not take from the URI and wm "
        "would print: drop it (qemu+ssh uses your ssh keys)"
    )
    assert said_for("kvm", said, done)
    assert "Traceback" not in done.output


def test_a_password_that_gets_through_is_masked_where_the_uri_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the refusal ever be skipped, the account's line and libvirt's own words
    ("Unable to parse URI qemu+tcp://alice:...@...") mask it."""
    monkeypatch.setattr(libvirturi, "check", lambda account: None)

    ok = wm(
        tmp_path, f'driver = {{ uri = "test://alice:{PASSWORD}@/default" }}', "accounts", "test"
    )
    assert "kvm: ok: libvirt at test://alice:***@/default: reachable" in ok.stdout, ok.output

    bad = wm(tmp_path, f'driver = {{ uri = "qemu+tcp://alice:{PASSWORD}@ho st/system" }}', "ls")
    assert "Unable to parse URI qemu+tcp://alice:***@ho st/system" in bad.stderr, bad.output
    for done in (ok, bad):
        assert PASSWORD not in done.output


@pytest.mark.parametrize(
    "uri", ["qemu:///system", "qemu+ssh://alice@kvm.lab/system", "qemu+ssh://[::1]:22/system"]
)
def test_a_uri_without_a_password_is_taken(uri: str) -> None:
    assert libvirturi.password(uri) is None


@pytest.mark.parametrize(
    ("account", "said"),
    [
        ("driver = {}", NEEDS_URI),
        ("", NEEDS_URI),
        (
            'endpoint = { host = "kvm.lab", port = 16509 }',
            f"{NEEDS_URI}: libvirt reads no endpoint, the host goes in the uri "
            "(qemu+ssh://user@host/system)",
        ),
        (
            'driver = { uri = ["qemu:///system"] }',
            'driver.uri must be a string in quotes: driver = { uri = "..." } '
            "(e.g. qemu:///system, or qemu+ssh://user@host/system)",
        ),
        (
            'uri = "qemu:///system"',
            "unknown key 'uri' for a libcloud account (it goes in the driver table: "
            'driver = { uri = "..." })',
        ),
    ],
    ids=["empty-driver", "no-driver", "endpoint", "not-a-string", "top-level"],
)
def test_a_missing_uri_fails_the_account_in_the_configs_words(
    tmp_path: Path, account: str, said: str
) -> None:
    for command in (("accounts",), ("ls",), ("accounts", "test")):
        done = wm(tmp_path, account, *command)
        assert done.exit_code == ExitCode.CONFIG, done.output
        assert said_for("kvm", said, done)
        assert "positional argument" not in done.output
        assert "virConnectOpen" not in done.output
    listed = wm(tmp_path, account, "ls")
    assert "good" in listed.stdout  # the other account still lists
