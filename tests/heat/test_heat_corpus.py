"""wm gathers a template's files and environments exactly as python-heatclient does
(`openstack stack create -t T -e E1 -e E2`): the corpus of tests/heat/corpus.py, each
case's request body compared with heatclient's (the Heat venv's), and files that cannot
be read named in the error."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.heat.conftest import Projects, heat_account
from tests.heat.corpus import CASES, FAILING, NOT_UTF8, TINY, write_corpus
from tests.heat.test_heat_cli import Cli
from tests.heat.test_heat_files import heatclient_body
from tests.heat.tree import write_tree
from winged_monkey.cli.main import ExitCode
from winged_monkey.errors import InvalidRequest
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend
from winged_monkey_heat.files import FileError, gather

#: heatclient's gathering of every case at once: name -> body, or the error it raised.
HEATCLIENT = """
import json, sys
from heatclient.common import template_utils
from oslo_serialization import jsonutils
answers = {}
for name, (template, envs) in json.load(sys.stdin).items():
    try:
        files, tpl = template_utils.process_template_path(template)
        env_urls = []
        env_files, env = template_utils.process_multiple_environments_and_files(
            env_paths=envs, env_list_tracker=env_urls)
    except Exception as exc:
        answers[name] = {"error": str(exc)}
        continue
    body = {"template": tpl, "files": dict(list(files.items()) + list(env_files.items())),
            "environment": env}
    if env_urls:
        body["environment_files"] = env_urls
    answers[name] = {"body": json.loads(jsonutils.dumps(body))}
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def paths(root: Path, template: str, envs: tuple[str, ...]) -> tuple[str, list[str]]:
    return str(root / template), [str(root / e) for e in envs]


@pytest.fixture(scope="module")
def heatclient(heat_python: Path, corpus: Path) -> dict[str, Any]:
    failing = {**FAILING, **NOT_UTF8}
    both = {**CASES, **{name: case[:2] for name, case in failing.items()}}
    cases = {name: paths(corpus, *case) for name, case in both.items()}
    done = subprocess.run(
        [str(heat_python), "-c", HEATCLIENT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers


@pytest.mark.parametrize("name", CASES)
def test_the_body_is_heatclients(name: str, corpus: Path, heatclient: dict[str, Any]) -> None:
    template, envs = paths(corpus, *CASES[name])
    theirs = heatclient[name]
    assert "body" in theirs, theirs
    ours = json.loads(json.dumps(gather(template, envs).body()))
    assert ours == theirs["body"]


@pytest.mark.parametrize("name", FAILING)
def test_a_file_that_cannot_be_read_is_named(
    name: str, corpus: Path, heatclient: dict[str, Any]
) -> None:
    template, envs, missing, by = FAILING[name]
    assert "error" in heatclient[name]  # heatclient refuses it too
    with pytest.raises(FileError) as caught:
        gather(*paths(corpus, template, envs))
    named_in = f" (named in {by})" if by else ""
    assert str(caught.value) == (
        f"Could not fetch contents for {(corpus / missing).as_uri()}: "
        f"No such file or directory{named_in}"
    )


@pytest.mark.parametrize("name", NOT_UTF8)
def test_a_file_that_is_not_utf8_is_named_with_its_line(
    name: str, corpus: Path, heatclient: dict[str, Any]
) -> None:
    """A Latin-1 template read as base64 said "Template format version not found." (and
    an environment "not a valid YAML mapping"); the file is fine but for its encoding."""
    template, envs, wrong, line = NOT_UTF8[name]
    assert "error" in heatclient[name]  # heatclient refuses it too
    with pytest.raises(FileError) as caught:
        gather(*paths(corpus, template, envs))
    kind = "environment" if envs else "template"
    byte = "0xff" if "UTF-16" in name else "0xe9"
    assert str(caught.value) == (
        f"Error parsing {kind} {(corpus / wrong).as_uri()}: line {line} is not UTF-8 text "
        f"(byte {byte}): save the file as UTF-8"
    )


LINKED = """
heat_template_version: 2018-08-31
resources:
  setup:
    type: OS::Heat::TestResource
    properties:
      value: {get_file: scripts/setup.sh}
outputs:
  script:
    value: {get_attr: [setup, output]}
"""


async def test_a_template_linked_into_the_templates_folder_launches(
    heat: Projects, tmp_path: Path
) -> None:
    """~/heat-templates/web.yaml -> ~/src/infra/web.yaml: its files are beside the target
    (as `openstack stack create` reads them), not beside the link."""
    (tmp_path / "src" / "scripts").mkdir(parents=True)
    (tmp_path / "src" / "web.yaml").write_text(LINKED)
    (tmp_path / "src" / "scripts" / "setup.sh").write_text("echo from src\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "web.yaml").symlink_to(tmp_path / "src" / "web.yaml")
    backend = heat.backend("linked", templates=str(tmp_path / "templates"))
    (item,) = (await backend.catalog()).items
    assert (item.name, item.needs) == ("web", ())
    stack_id = await backend.launch_app("web", "linked", {})
    assert heat.wait("linked", stack_id) == "CREATE_COMPLETE"
    reply = heat.witness("linked", "GET", f"/stacks/{stack_id}")
    assert reply.json()["stack"]["outputs"][0]["output_value"] == "echo from src\n"


CYCLE = "heat_template_version: 2018-08-31\nresources:\n  inner: {{type: {}}}\n"


async def test_a_template_that_reaches_itself_is_named_not_a_crash(
    heat: Projects, tmp_path: Path
) -> None:
    """heatclient recurses until Python gives up; wm says which files loop, and the other
    templates of the folder are still offered."""
    (tmp_path / "a.yaml").write_text(CYCLE.format("lib/b.yaml"))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "b.yaml").write_text(CYCLE.format("../a.yaml"))
    (tmp_path / "self.yaml").write_text(
        CYCLE.format("OS::Heat::None") + "  v: {get_file: self.yaml}\n"
    )
    (tmp_path / "good.yaml").write_text(CYCLE.format("OS::Heat::None"))
    backend = heat.backend("loop", templates=str(tmp_path))
    found = {item.name: item.description for item in (await backend.catalog()).items}
    assert found["good"] == "No description"  # Heat's words for a valid one without
    assert found["a"] == "not valid: a.yaml reaches itself: a.yaml > lib/b.yaml > a.yaml"
    assert found["self"] == "not valid: self.yaml reaches itself: self.yaml > self.yaml"
    assert found["lib/b"].startswith("not valid: b.yaml reaches itself: b.yaml > ../a.yaml >")


def test_wm_app_launch_names_the_missing_file_and_who_named_it(
    heat: Projects, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    cli = Cli(heat, tmp_path)
    cli.add_heat("lab")
    done = cli.run("app", "launch", str(corpus / "app/missing/deep.yaml"), "--account", "lab")
    assert done.exit_code == ExitCode.CONFIG
    assert done.stderr == (
        f"wm: lab: deep.yaml rejected: Could not fetch contents for "
        f"{(corpus / 'app/lib/no.txt').as_uri()}: No such file or directory "
        "(named in ../lib/reaches_missing.yaml)\n"
    )
    assert heat.witness("lab", "GET", "/stacks").json()["stacks"] == []


SLOW_URL = """
heat_template_version: 2018-08-31
resources:
  v:
    type: OS::Heat::TestResource
    properties:
      value: {{get_file: "{}"}}
"""


@pytest.mark.parametrize(
    ("path", "why"),
    [("/setup.sh", "no answer in 1 s"), ("/set up.sh", "URL can't contain control characters")],
)
async def test_a_url_that_does_not_answer_fails_within_the_accounts_timeout(
    tmp_path: Path, path: str, why: str
) -> None:
    """On a slow link a template's file at a URL that never answers held `wm app launch`
    (and the wizard) forever; heatclient waits forever too."""
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}{path}"
        (tmp_path / "web.yaml").write_text(SLOW_URL.format(url))
        account = heat_account("slow", "http://127.0.0.1:9/v1").model_copy(update={"timeout": 1})
        backend = HeatBackend(account, Secrets(account="slow"))
        started = time.monotonic()
        with pytest.raises(InvalidRequest) as caught:
            await backend.bundle(str(tmp_path / "web.yaml"))
        assert time.monotonic() - started < 10
        await backend.close()
    assert caught.value.account == "slow"
    assert caught.value.message.startswith(f"Could not fetch contents for {url}: {why}")
    assert caught.value.message.endswith(" (named in web.yaml)")


#: Environments whose sections Heat refuses with a bare 400 -> what wm says instead.
WRONG_SECTIONS = {
    # Every entry under a section commented out: the section is null.
    "parameter_defaults:\n  size: 2\nresource_registry:\n#  My::Thing: lib/thing.yaml\n": (
        'environment has empty section "resource_registry": Heat refuses it; give it '
        "entries or delete the line"
    ),
    "event_sinks:\n  type: zaqar-queue\n  target: app-events\n": (
        'environment section "event_sinks" is a mapping: Heat takes a list there'
    ),
    "parameter_defaults:\n- greeting: hi\n": (
        'environment section "parameter_defaults" is a list: Heat takes a mapping there'
    ),
}


@pytest.mark.parametrize("text", WRONG_SECTIONS)
def test_an_environment_section_heat_refuses_is_named(
    text: str, heat: Projects, tmp_path: Path, heat_python: Path
) -> None:
    """`resource_registry:` with every line under it commented out, `event_sinks` a
    mapping: heatclient sends them, and Heat refuses them with a 400 that gives no
    reason, which `wm app launch` printed ("The server could not comply with the request
    since it is either malformed or otherwise incorrect.")."""
    tree = write_tree(tmp_path / "tree")
    env = tree / "wrong_env.yaml"
    env.write_text(text)
    body = heatclient_body(heat_python, tree / "web.yaml", env)
    body.update(stack_name="x", parameters={"greeting": "hi"})
    refused = heat.witness("lab", "POST", "/stacks/preview", json=body)
    assert refused.status_code == 400  # heatclient's own request, refused with no reason
    assert refused.json()["explanation"].startswith("The server could not comply")
    cli = Cli(heat, tmp_path)
    cli.add_heat("lab")
    done = cli.run("app", "launch", str(tree / "web.yaml"), "--account", "lab", "-e", str(env))
    assert done.exit_code == ExitCode.CONFIG
    assert done.stderr == (
        f"wm: lab: web.yaml rejected: Error parsing environment {env.as_uri()}: "
        f"{WRONG_SECTIONS[text]}\n"
    )
    assert heat.witness("lab", "GET", "/stacks").json()["stacks"] == []


def test_a_yaml_error_in_an_environment_names_its_line_not_the_password(
    heat: Projects, tmp_path: Path
) -> None:
    """A password YAML cannot read (`@` cannot start a value) was quoted with the lines
    around it, PyYAML's way: on the terminal and, as the launch's outcome, in the event
    log. Its line and column say where; the file's text stays in the file."""
    tree = write_tree(tmp_path / "tree")
    env = tree / "passwords_env.yaml"
    env.write_text("parameter_defaults:\n  greeting: hi\n  AdminPassword: @dm1n-s3cret\n")
    cli = Cli(heat, tmp_path)
    cli.add_heat("lab")
    done = cli.run("app", "launch", str(tree / "web.yaml"), "--account", "lab", "-e", str(env))
    assert done.exit_code == ExitCode.CONFIG
    assert done.stderr == (
        f"wm: lab: web.yaml rejected: Error parsing environment {env.as_uri()}: found "
        "character '@' that cannot start any token (line 3, column 18)\n"
    )
    events = cli.run("events", "--json")
    assert "cannot start any token (line 3, column 18)" in events.stdout
    assert "s3cret" not in events.stdout
    # A template's line is counted from the file's top (heatclient parses it stripped).
    (tree / "blank_first.yaml").write_text("\n\n" + TINY + "resources:\n  a: {type: x\n")
    with pytest.raises(FileError, match=r"'<stream end>' \(line 5, column 14\)$"):
        gather(tree / "blank_first.yaml")


@pytest.mark.parametrize("base", ["lib/", "ABS/lib", None])
def test_a_base_url_that_is_not_a_url_is_named(
    base: str | None, heat: Projects, tmp_path: Path, heat_python: Path
) -> None:
    """A registry's base_url written as a folder (relative, absolute or empty) left every
    file under it "unknown url type: 'lib/thing.yaml'", as heatclient fails on it."""
    tree = write_tree(tmp_path / "tree")
    env = tree / "based_env.yaml"
    given = None if base is None else base.replace("ABS", str(tree))
    env.write_text(json.dumps({"resource_registry": {"base_url": given, "My::T": "thing.yaml"}}))
    with pytest.raises(subprocess.CalledProcessError):
        heatclient_body(heat_python, tree / "web.yaml", env)  # heatclient refuses it too
    cli = Cli(heat, tmp_path)
    cli.add_heat("lab")
    done = cli.run("app", "launch", str(tree / "web.yaml"), "--account", "lab", "-e", str(env))
    assert done.exit_code == ExitCode.CONFIG
    shown = repr(given) if given else "empty"
    assert done.stderr == (
        f"wm: lab: web.yaml rejected: based_env.yaml: base_url {shown} is not a URL, so "
        "thing.yaml cannot be read: write base_url as file:///path/to/folder/ or "
        "https://host/path/\n"
    )
