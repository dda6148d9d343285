"""Domains shaped like users' own, on libvirt's test driver loaded from a node file
(`test:///path.xml`, in wm's own process): names holding characters a terminal obeys, and
states the test driver's API cannot reach (its node file sets any `runstate`)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main

#: U+009B is CSI as one character: `\x9b2J` clears an xterm's screen; U+202E reverses
#: what follows on the line. libvirt takes both in a domain's name (XML carries them).
CSI_NAME = "web\u009b2J\u202egpj.exe"
DOMAIN = """<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
<name>{name}</name><uuid>{uuid}</uuid><memory>262144</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><test:runstate>{state}</test:runstate></domain>"""


def node(tmp_path: Path, *domains: tuple[str, str, int]) -> str:
    """A test driver's uri holding `domains` (name, uuid, virDomainState)."""
    path = tmp_path / "node.xml"
    body = "".join(DOMAIN.format(name=n, uuid=u, state=s) for n, u, s in domains)
    path.write_text(f"<node>{body}</node>", encoding="utf-8")
    return f"test://{path}"


def wm(tmp_path: Path, uri: str, *args: str) -> Result:
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "kvm"\nprovider = "libvirt"\ndriver = {{ uri = "{uri}" }}\n'
    )
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_an_action_on_a_domain_named_with_terminal_controls_prints_none(
    tmp_path: Path,
) -> None:
    """`wm ls` showed the name with `?` for each control; `wm start` then printed it raw
    (`kvm/...: ok: web\\x9b2J... started`), a CSI sent to the user's terminal."""
    uuid = "6b1b2c4e-0000-4000-8000-000000000001"
    uri = node(tmp_path, (CSI_NAME, uuid, 5))

    listed = wm(tmp_path, uri, "ls", "--width", "200")
    started = wm(tmp_path, uri, "start", f"kvm/{uuid}", "--yes")

    assert "web?2J?gpj.exe" in listed.output, listed.output
    assert started.exit_code == ExitCode.OK, started.output
    assert f"kvm/{uuid}: ok: web?2J?gpj.exe started" in started.output.splitlines()
    for done in (listed, started):
        assert "\u009b" not in done.output
        assert "\u202e" not in done.output
