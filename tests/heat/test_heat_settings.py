"""A Heat account's URLs as the user writes them: a mistake is the key's error, with what
to write, before any request."""

from __future__ import annotations

import pytest

from winged_monkey.errors import ConfigError
from winged_monkey.user.config import AccountConfig
from winged_monkey_heat.settings import read_settings


@pytest.mark.parametrize(
    ("key", "url", "said"),
    [
        (
            "endpoint_url",
            "http://127.0.0.1:8004/v1 ",
            'must have no spaces: "http://127.0.0.1:8004/v1"',
        ),
        (
            "auth_url",
            " https://keystone:5000/v3",
            'must have no spaces: "https://keystone:5000/v3"',
        ),
        (
            "endpoint_url",
            "http://heat:80o4/v1",
            "must have a port from 1 to 65535 after the host's ':'",
        ),
    ],
)
def test_a_url_with_a_space_or_a_bad_port_is_refused_naming_the_key(
    key: str, url: str, said: str
) -> None:
    account = AccountConfig.model_validate(
        {"name": "apps", "backend": "heat", key: url, "project": "lab", "project_name": "lab"}
    )
    with pytest.raises(ConfigError) as info:
        read_settings(account)
    assert str(info.value).startswith(f"apps: Heat account: {key}: {said}")


def test_a_url_is_kept_without_its_trailing_slash() -> None:
    account = AccountConfig.model_validate(
        {"name": "apps", "backend": "heat", "endpoint_url": "http://heat:8004/v1/", "project": "p"}
    )
    assert read_settings(account).endpoint_url == "http://heat:8004/v1"
