"""`wm catalog`, `wm launch` and `wm where` against the suite's real moto server: what a
user reads, the exit codes scripts rely on, and what the server saw (boto3, its call log)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import AMI, DEV_KEY, DEV_SECRET, Cloud
from tests.test_ls_output import in_a_terminal
from winged_monkey.cli.main import ExitCode, main


def account_toml(name: str, port: int, region: str = "us-east-1", extra: str = "") -> str:
    return (
        f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "{region}"\ntimeout = 10\n'
        f'endpoint = {{ host = "127.0.0.1", port = {port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", secret_env = "WM_TEST_SECRET", keyring = false }}\n'
        f"{extra}\n"
    )


@pytest.fixture
def wm(cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Wm:
    monkeypatch.setenv("WM_TEST_SECRET", DEV_SECRET)
    return Wm(cloud, tmp_path / "config.toml")  # the file WM_CONFIG names (conftest)


class Wm:
    def __init__(self, cloud: Cloud, config: Path) -> None:
        self.cloud = cloud
        self.config = config
        self.config.write_text(
            "action_poll_interval = 0.05\n"
            + account_toml("dev", cloud.server.port, extra=f'images = ["{AMI}"]')
            + account_toml("dev-eu", cloud.server.port, region="eu-west-1"),
            encoding="utf-8",
        )

    def add(self, toml: str) -> None:
        with self.config.open("a", encoding="utf-8") as f:
            f.write(toml)

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    def instances(self) -> list[dict[str, str]]:
        reply = self.cloud.ec2().describe_instances()
        return [
            {"id": i["InstanceId"], "state": i["State"]["Name"], "type": i["InstanceType"]}
            for r in reply["Reservations"]
            for i in r["Instances"]
        ]

    def launches_sent(self) -> int:
        return sum(1 for c in self.cloud.server.calls if c.action == "RunInstances")


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto checks image ids and instance types as AWS does (its own settings)."""
    from moto import settings

    monkeypatch.setattr(settings, "ENABLE_AMI_VALIDATION", True)
    monkeypatch.setattr(settings, "EC2_ENABLE_INSTANCE_TYPE_VALIDATION", True)


def test_catalog_lists_each_accounts_images_sizes_and_quota(wm: Wm) -> None:
    result = wm("catalog")
    assert result.exit_code == ExitCode.OK, result.stderr
    out = result.stdout
    assert "dev (ec2/us-east-1)" in out
    assert "dev-eu (ec2/eu-west-1)" in out
    assert AMI in out
    assert "ubuntu/images/" in out
    assert "t3.nano" in out  # among the cheapest sizes
    assert "more sizes (--sizes lists them all)" in out
    assert "quota: instances 0 used of 20" in out
    assert "us-east-1a" in out
    assert "no images or templates" in out  # dev-eu names none and owns none


def test_catalog_json_and_a_dead_account_failing_alone(wm: Wm) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = int(s.getsockname()[1])
    wm.add(account_toml("dead", dead))
    result = wm("catalog", "--json")
    assert result.exit_code == ExitCode.FAILED
    data = json.loads(result.stdout)
    assert [a["account"] for a in data["accounts"]] == ["dev", "dev-eu"]
    sizes = {s["id"]: s for s in data["accounts"][0]["sizes"]}
    assert sizes["t3.large"]["vcpus"] == 2
    assert sizes["t3.large"]["price_hourly"] > 0
    assert [e["account"] for e in data["errors"]] == ["dead"]
    assert "wm: dead: cannot reach 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_catalog_of_accounts_named_as_words(wm: Wm) -> None:
    """`wm catalog dev-eu` (click said 'Got unexpected extra argument (dev-eu)'): words
    name accounts as --account does, both together, each once; an unknown word is
    --account's error, naming the configured accounts, exit 3."""
    one = wm("catalog", "dev-eu")
    assert one.exit_code == ExitCode.OK, one.stderr
    assert "dev-eu (ec2/eu-west-1)" in one.stdout
    assert "dev (ec2/us-east-1)" not in one.stdout
    both = wm("catalog", "dev-eu", "dev", "--account", "dev-eu", "--json")
    assert both.exit_code == ExitCode.OK, both.stderr
    assert [a["account"] for a in json.loads(both.stdout)["accounts"]] == ["dev-eu", "dev"]
    found = wm("catalog", "dev", "--search", "ubuntu-xenial")
    assert found.exit_code == ExitCode.OK, found.stderr
    assert {line.split()[0] for line in found.stdout.splitlines()[1:]} == {"dev"}
    unknown = wm("catalog", "dev", "nope")
    assert unknown.exit_code == ExitCode.CONFIG
    assert "no account named 'nope' (configured: dev, dev-eu)" in unknown.stderr
    assert "unexpected extra argument" not in unknown.output


def test_catalog_search_shows_public_images_on_demand(wm: Wm) -> None:
    result = wm("catalog", "--account", "dev", "--search", "ubuntu-xenial")
    assert result.exit_code == ExitCode.OK
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ACCOUNT", "IMAGE", "NAME", "DESCRIPTION"]
    assert len(lines) > 1
    assert all("ubuntu-xenial" in line for line in lines[1:])


def test_a_search_matching_more_than_it_shows_says_so(wm: Wm) -> None:
    """'ubuntu' matches tens of thousands of public AMIs on AWS: the 50 shown read as all
    there were. Here 60 public images of one name on moto."""
    ec2 = wm.cloud.ec2()
    for n in range(60):
        image = ec2.register_image(Name=f"nightly-{n:02d}", RootDeviceName="/dev/xvda")
        ec2.modify_image_attribute(
            ImageId=image["ImageId"], LaunchPermission={"Add": [{"Group": "all"}]}
        )
    result = wm("catalog", "--account", "dev", "--search", "nightly")
    assert result.exit_code == ExitCode.OK
    assert len(result.stdout.splitlines()) == 1 + 50
    assert result.stderr == (
        "wm: dev: more than 50 public images match 'nightly', the newest 50 found shown: "
        "search for more of the name (ubuntu-noble-24.04-arm64)\n"
    )
    result = wm("catalog", "--account", "dev", "--search", "nightly-5")
    assert len(result.stdout.splitlines()) == 1 + 10
    assert result.stderr == ""


def test_launch_several_and_wait_until_running(wm: Wm) -> None:
    result = wm(
        "launch",
        AMI,
        "--account",
        "dev",
        "--size",
        "t3.micro",
        "--count",
        "2",
        "--name",
        "web",
        "--wait",
        "--yes",
    )
    assert result.exit_code == ExitCode.OK, result.stderr
    on_server = wm.instances()
    assert len(on_server) == 2
    assert {i["state"] for i in on_server} == {"running"}
    for instance in on_server:
        assert f"dev/{instance['id']}: ok: web-" in result.stdout
    assert "web-1 is running" in result.stdout  # several are named web-1, web-2
    assert "web-2 is running" in result.stdout


def test_launch_needs_confirmation_without_a_terminal(wm: Wm) -> None:
    result = wm("launch", AMI, "--account", "dev", "--size", "t3.micro", "--count", "2")
    assert result.exit_code == ExitCode.DECLINED
    assert "needs confirmation; pass --yes" in result.stderr
    assert "about $0.0208/h" in result.stderr  # 2 x t3.micro at libcloud's $0.0104
    assert wm.instances() == []


def test_launch_rejected_by_the_cloud_exits_3_with_its_reason(wm: Wm, strict: None) -> None:
    result = wm(
        "launch", "ami-0123456789abcdef0", "--account", "dev", "--size", "t3.micro", "--yes"
    )
    assert result.exit_code == ExitCode.CONFIG
    assert "InvalidAMIID.NotFound" in result.stderr
    assert result.stderr.startswith("wm: dev: wm-ami-0123456789abcdef0 rejected: ec2 refused")
    result = wm("launch", AMI, "--account", "dev", "--size", "t3.gigantic", "--yes")
    assert result.exit_code == ExitCode.CONFIG
    assert "InvalidInstanceType" in result.stderr
    assert wm.instances() == []


def test_launch_over_quota_stops_before_any_call(wm: Wm) -> None:
    wm.add(account_toml("small", wm.cloud.server.port, extra="limits = { vcpus = 2 }"))
    wm.cloud.server.clear_calls()
    result = wm("launch", AMI, "--account", "small", "--size", "t3.large", "--count", "2", "--yes")
    assert result.exit_code == ExitCode.CONFIG
    assert "launching 2 x t3.large needs 4 vCPUs; 2 of 2 remain" in result.stderr
    assert wm.launches_sent() == 0


#: moto's Amazon Linux 2022 for Graviton: a public AMI whose architecture is arm64.
ARM_AMI = "ami-0e9271c829888680e"


def test_launch_of_an_arm_image_on_an_x86_type_stops_before_any_call(wm: Wm) -> None:
    """EC2 refuses an instance type of another CPU than the AMI's (moto does not check it,
    and launched it): wm says so before the call, and a Graviton type launches."""
    wm.add(account_toml("arm", wm.cloud.server.port, extra=f'images = ["{ARM_AMI}"]'))
    wm.cloud.server.clear_calls()
    result = wm("launch", ARM_AMI, "--account", "arm", "--size", "t3.micro", "--yes")
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        "wm: arm: wm-ami-0e9271c829888680e rejected: "
        "al2022-ami-2022.0.20220728.1-kernel-5.15-arm64 (ami-0e9271c829888680e) is an arm64"
        " image and t3.micro an x86_64 size: pick an arm64 size\n"
    )
    assert wm.launches_sent() == 0
    assert wm.instances() == []
    result = wm("launch", ARM_AMI, "--account", "arm", "--size", "t4g.micro", "--yes")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert [i["type"] for i in wm.instances()] == ["t4g.micro"]


def test_where_an_image_cannot_run_on_the_size_named_says_why(wm: Wm) -> None:
    """wm where t3.micro --item ARM_AMI said 'no size fits t3.micro arm64', as if t3.micro
    were not offered: it is, and the image cannot run on it."""
    wm.add(account_toml("arm", wm.cloud.server.port, extra=f'images = ["{ARM_AMI}"]'))
    result = wm("where", "t3.micro", "--item", ARM_AMI, "--json")
    assert result.exit_code == ExitCode.NOT_FOUND
    (only,) = json.loads(result.stdout)  # dev does not offer the image
    assert only["reason"] == (
        "no size fits t3.micro: al2022-ami-2022.0.20220728.1-kernel-5.15-arm64 "
        "(ami-0e9271c829888680e) is an arm64 image and t3.micro an x86_64 size: "
        "pick an arm64 size"
    )


def test_the_catalog_says_which_cpu_an_image_needs_and_each_size_has(wm: Wm) -> None:
    """A Graviton AMI: its NEEDS said 'a size' and the sizes had no CPU column, so the
    cheapest listed (t4g.nano, arm64) and the next (t3a.nano, x86_64) read alike."""
    wm.add(account_toml("arm", wm.cloud.server.port, extra=f'images = ["{ARM_AMI}"]'))
    result = wm("catalog", "--account", "arm")
    assert result.exit_code == ExitCode.OK, result.stderr
    lines = result.stdout.splitlines()
    (image,) = [line for line in lines if ARM_AMI in line]
    assert image.rstrip().endswith("an arm64 size; a key pair to log in (optional)")
    heading = next(i for i, line in enumerate(lines) if line.split()[:2] == ["SIZE", "CPU"])
    cheapest = {line.split()[0]: line.split()[1] for line in lines[heading + 1 : heading + 9]}
    assert cheapest["t4g.nano"] == "arm64"
    assert cheapest["t3.nano"] == "x86_64"


def test_launch_an_image_by_the_name_the_catalog_shows(wm: Wm) -> None:
    """wm catalog lists 'golden-web' on dev: wm launch golden-web sent the name to EC2 as
    an image id (AWS: InvalidAMIID.Malformed; moto ran it). It is that image."""
    ec2 = wm.cloud.ec2()
    builder = wm.cloud.launch(ec2, "builder")
    ami = ec2.create_image(InstanceId=builder, Name="golden-web")["ImageId"]
    result = wm("launch", "golden-web", "--account", "dev", "--size", "t3.micro", "--yes")
    assert result.exit_code == ExitCode.OK, result.stderr
    reply = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["wm-golden-web"]}])
    (launched,) = [i for r in reply["Reservations"] for i in r["Instances"]]
    assert launched["ImageId"] == ami


def test_launch_an_image_needs_a_size(wm: Wm) -> None:
    result = wm("launch", AMI, "--account", "dev")
    assert result.exit_code == ExitCode.USAGE
    assert "an image needs --size" in result.stderr


def test_where_ranks_by_price_with_the_reason(wm: Wm) -> None:
    result = wm("where", "m5.large")
    assert result.exit_code == ExitCode.OK, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "ACCOUNT", "WHERE", "SIZE"]
    assert lines[1].split()[:4] == ["1", "dev", "ec2/us-east-1", "m5.large"]
    assert lines[2].split()[:4] == ["2", "dev-eu", "ec2/eu-west-1", "m5.large"]
    assert "m5.large (2 vCPU, 8 GB) at $0.0960/h" in lines[1]
    data = json.loads(wm("where", "t3.large", "--json").stdout)
    assert [d["account"] for d in data] == ["dev", "dev-eu"]
    assert data[1]["price_hourly"] is None  # unknown in the data: never free
    assert "price unknown" in data[1]["reason"]


def test_where_nothing_fits_exits_4(wm: Wm) -> None:
    result = wm("where", "4096cpu")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no account can launch 1 x 4096cpu" in result.stderr


def test_lists_and_notes_wrap_at_the_terminals_width_between_words(wm: Wm, tmp_path: Path) -> None:
    lines = in_a_terminal(tmp_path, "catalog", "--account", "dev", columns=44)
    start = next(n for n, line in enumerate(lines) if line.startswith("  locations: "))
    wrapped = [lines[start]]
    wrapped += [line for line in lines[start + 1 :] if line.startswith(" " * 13)]
    assert len(wrapped) > 1, lines
    assert max(len(line) for line in wrapped) <= 44, wrapped
    zones = " ".join(wrapped).removeprefix("  locations: ").replace(",", " ").split()
    assert zones == [f"us-east-1{z}" for z in "abcdef"], zones  # each whole, in order


def test_where_wraps_its_reasons_on_a_narrow_terminal(wm: Wm, tmp_path: Path) -> None:
    lines = in_a_terminal(tmp_path, "where", "t3.large", columns=80)
    assert lines[0].split() == ["#", "ACCOUNT", "WHERE", "SIZE", "HOURLY", "MONTHLY", "WHY"]
    assert max(len(line) for line in lines) <= 80, lines
    offset = lines[0].index("WHY")
    first = next(n for n, line in enumerate(lines) if line.startswith("1  dev "))
    reason = [lines[first][offset:]]
    reason += [line.strip() for line in lines[first + 1 :] if line.startswith(" " * offset)]
    assert len(reason) > 1, lines
    assert " ".join(reason).startswith("t3.large (2 vCPU, 8 GB) at $0.0")


def test_the_catalog_fits_an_80_column_terminal(wm: Wm, tmp_path: Path) -> None:
    lines = in_a_terminal(tmp_path, "catalog", "--account", "dev", columns=80)
    assert any(line.startswith("  image  ami-") for line in lines), lines
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]


def test_a_region_newer_than_libcloud_lists_sizes_from_ec2_unpriced(
    wm: Wm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ap-east-2: libcloud knows neither its sizes nor its prices. botocore resolves the
    credentials (libcloud accepts the region only then): the AWS_* variables here."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEV_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEV_SECRET)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    wm.add(
        '[[accounts]]\nname = "taipei"\nprovider = "ec2"\nregion = "ap-east-2"\n'
        f'endpoint = {{ host = "127.0.0.1", port = {wm.cloud.server.port}, secure = false }}\n'
        "credentials = { keyring = false }\n"
    )
    result = wm("catalog", "--account", "taipei")
    assert result.exit_code == ExitCode.OK, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "taipei (ec2/ap-east-2)"
    heading = next(i for i, line in enumerate(lines) if line.split()[:2] == ["SIZE", "CPU"])
    # No prices: the smallest first, not the first by name; ? for each price, never $0.
    assert lines[heading + 1].split() == ["t2.nano", "x86_64", "1", "512", "MB", "?", "?", "?"]
    assert "more sizes (--sizes lists them all)" in result.stdout
    notes = " ".join(result.stdout.split())  # as read, whatever the wrapping
    assert "note: prices: libcloud's bundled EC2 prices have none for ap-east-2" in notes
    assert "price_hourly" in notes
