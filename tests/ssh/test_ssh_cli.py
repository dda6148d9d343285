"""`wm ssh` through the system's ssh to a real sshd: the remote command's witness file,
exit codes, a jump host, a host key that does not match, a key file that is not there."""

from __future__ import annotations

from pathlib import Path

from tests.ssh.conftest import Lab
from winged_monkey.cli.main import ExitCode


def test_ssh_runs_the_command_on_the_instance_and_passes_its_exit_code(
    lab: Lab, tmp_path: Path
) -> None:
    lab.write_config(ssh_user=f'"{lab.target.user}"', ssh_config=f'"{lab.ssh_config}"')
    witness = tmp_path / "made-by-ssh"
    done = lab.wm("ssh", f"dev/{lab.instance_id}", "--", "touch", str(witness))
    assert done.returncode == 0, done.stderr
    assert witness.exists()
    # Said before connecting: where, as whom, why.
    assert f"wm: ssh {lab.target.user}@{lab.public_ip} (web-1): public address" in done.stderr
    failed = lab.wm("ssh", "web-1", "--", "exit", "7")  # by name too
    assert failed.returncode == 7, failed.stderr


def test_ssh_goes_through_the_jump_host_to_a_private_address(lab: Lab, tmp_path: Path) -> None:
    lab.write_config(
        ssh_user=f'"{lab.target.user}"',
        ssh_config=f'"{lab.ssh_config}"',
        ssh_address='"private"',
        ssh_proxy_jump='"jump"',
    )
    printed = lab.wm("ssh", "--print", f"dev/{lab.instance_id}")
    assert printed.stdout.split() == [
        "ssh", "-F", str(lab.ssh_config), "-J", "jump", f"{lab.target.user}@{lab.private_ip}"
    ]  # fmt: skip
    witness = tmp_path / "via-jump"
    done = lab.wm("ssh", f"dev/{lab.instance_id}", "--", "touch", str(witness))
    assert done.returncode == 0, done.stderr
    assert witness.exists()
    assert "private address (ssh_address) via jump" in done.stderr
    # The jump host opened the forwarding to the target's port (sshd's own log says so).
    assert f"port {lab.target.port}" in lab.jump.log.read_text()
    assert lab.jump.logins() == 1


def test_a_host_key_that_does_not_match_is_refused_in_ssh_own_words(
    lab: Lab, tmp_path: Path
) -> None:
    lab.known_hosts.write_text(lab.target.known_host(lab.jump.host_key))  # another server's key
    lab.write_config(ssh_user=f'"{lab.target.user}"', ssh_config=f'"{lab.ssh_config}"')
    witness = tmp_path / "never"
    done = lab.wm("ssh", f"dev/{lab.instance_id}", "--", "touch", str(witness))
    assert done.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in done.stderr
    assert "Host key verification failed." in done.stderr
    assert not witness.exists()


def test_a_missing_key_file_is_explained_before_connecting(lab: Lab, tmp_path: Path) -> None:
    missing = tmp_path / "prod.pem"
    lab.write_config(ssh_identity=f'"{missing}"', ssh_config=f'"{lab.ssh_config}"')
    done = lab.wm("ssh", f"dev/{lab.instance_id}", "--", "true")
    assert done.returncode == ExitCode.CONFIG
    assert f"dev: ssh_identity {missing}: no such file" in done.stderr
    assert lab.target.logins() == 0


def test_options_that_turn_host_key_checks_off_are_refused(lab: Lab) -> None:
    lab.write_config(ssh_options='["StrictHostKeyChecking no"]')
    done = lab.wm("ssh", f"dev/{lab.instance_id}", "--", "true")
    assert done.returncode == ExitCode.CONFIG
    assert "wm never turns host-key checks off" in done.stderr
    assert lab.target.logins() == 0


def test_a_stopped_instance_is_refused_with_what_to_do(lab: Lab) -> None:
    lab.cloud.ec2().stop_instances(InstanceIds=[lab.instance_id])
    lab.write_config(ssh_config=f'"{lab.ssh_config}"')
    done = lab.wm("ssh", f"dev/{lab.instance_id}")
    assert done.returncode == ExitCode.NOT_FOUND
    assert f"web-1 (dev/{lab.instance_id}) is stopped: start it first" in done.stderr
    assert lab.target.logins() == 0
