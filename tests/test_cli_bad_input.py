"""What `wm` answers to input users get wrong: one line that says what to do, the exit code
the README promises, no traceback, no secret, and nothing done that was not asked for."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main

ACCOUNT = '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\n'


def wm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def said(result: Result, code: int, *words: str) -> None:
    """The exit code and the words a user reads, and no traceback (CliRunner keeps an
    exception that escaped click as `exception`; SystemExit is how click exits)."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


# -- wm events: time windows and limits ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--since", "99999999w"), ExitCode.USAGE, "'99999999w' is out of range: use an age"),
        (("--since", "9" * 23 + "m"), ExitCode.USAGE, "is out of range: use an age like 30m"),
        (("--until", "0001-01-01"), ExitCode.USAGE, "'0001-01-01' is out of range"),
        (("--since", "30m", "--until", "1h"), ExitCode.USAGE, "is not before --until"),
        (("--limit", "9" * 23), ExitCode.OK, "no events match"),
    ],
)
def test_an_events_window_or_limit_out_of_range_is_said(
    args: tuple[str, ...], code: ExitCode, words: str
) -> None:
    said(wm("events", *args), code, words)
