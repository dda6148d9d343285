"""One typed hierarchy for every error a user may see; messages are meant for people."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class WMError(Exception):
    """Base of every error the portal explains to a user (never shown as a traceback)."""

    title = "Error"

    def __init__(self, message: str, *, account: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.account = account

    def __str__(self) -> str:
        return f"{self.account}: {self.message}" if self.account else self.message


class ConfigError(WMError):
    title = "Configuration error"

    #: The file and each of its problems, where one error says several (`in_file`).
    source: str | None = None
    problems: tuple[str, ...] = ()

    @classmethod
    def in_file(cls, source: str, problems: Sequence[str]) -> ConfigError:
        """Every problem found in the file `source`, on one line ("; ") where one line is
        all there is room for (an account's status, a log), and one a line for a terminal
        (`listed`)."""
        error = cls(f"{source}: " + "; ".join(problems))
        error.source, error.problems = source, tuple(problems)
        return error

    def listed(self) -> str:
        """The message for a terminal: several problems one a line under the file's name,
        where joined on one line five typos wrapped into a paragraph nobody could scan."""
        if self.source is None or len(self.problems) < 2:
            return str(self)
        lines = [f"{self.source}: {len(self.problems)} problems", *self.problems]
        return "\n  ".join(lines)


class PluginError(WMError):
    title = "Backend not available"


class CredentialError(WMError):
    title = "Credentials"


class BackendError(WMError):
    """A provider refused or failed; the message carries the provider's reason."""

    title = "Cloud error"


class RefusedAsRead(BackendError):
    """A provider's refusal said from the instance as the backend read it just after (Nova's
    bare 409): its words say its state now, so nothing is to be added of a state unknown."""


class PluginBug(BackendError):
    """A backend raised something other than a WMError: its bug, said as such (and never
    allowed to take the other accounts down)."""

    title = "Backend bug"


class InvalidRequest(BackendError):
    """The provider rejected what the user gave it (a template, its parameters, a name)."""

    title = "Invalid request"


class AuthError(BackendError):
    title = "Authentication failed"


class UnreachableError(BackendError):
    title = "Unreachable"


class ThrottledError(BackendError):
    """The provider asks for fewer requests (HTTP 429, or its own code such as EC2's
    RequestLimitExceeded); the poller may wait `retry_after` before the account's next poll."""

    title = "Throttled"

    def __init__(
        self, message: str, *, account: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, account=account)
        #: Seconds the provider asked to wait (its Retry-After header), None if it did not say.
        self.retry_after = retry_after


class ServerError(BackendError):
    """The provider answered with an HTTP error of its own (5xx, or a status with no better
    type); the message carries the status and the provider's text."""

    title = "Server error"

    def __init__(self, message: str, *, account: str | None = None, status: int) -> None:
        super().__init__(message, account=account)
        self.status = status


class AnswerLostError(UnreachableError):
    """A request sent (or maybe sent) whose answer never came whole: a change it asked for
    may have happened, and only an observation can tell."""

    title = "No answer"

    def __init__(self, message: str, *, account: str | None = None, intent: str = "") -> None:
        super().__init__(message, account=account)
        #: The key of the portal's intent for the change, when one was recorded before the
        #: call: its outcome, settled by a later observation, names it as cause.
        self.intent = intent


class DeadlineError(AnswerLostError):
    """The account's total deadline passed: the call was abandoned, its answer unknown."""

    title = "No answer"


#: A gateway's words for an answer it did not get from the server behind it (502 Bad
#: Gateway, 504 Gateway Timeout): the request was passed on, so what it asked for may have
#: happened; an action's outcome is unknown until a listing shows it, never "failed".
GATEWAY_LOST = frozenset({502, 504})


class GatewayLostError(ServerError, AnswerLostError):
    """A gateway's 502 or 504: a server error with its status and text, and an answer lost
    (the engine's unknown outcome: "the cloud may have acted")."""

    title = "No answer"


class ActionNotAllowed(WMError):
    title = "Not allowed"


class NotFoundError(WMError):
    title = "Not found"


class StoreError(WMError):
    title = "Local store"


def is_config_error(exc: BaseException) -> bool:
    """The config or the credentials are wrong, whether `wm` finds it (a typo, no secret, a
    backend not installed) or the cloud does (it refuses the credentials): the user's to
    fix, not a cloud's to answer (`wm` exits 3)."""
    return isinstance(exc, ConfigError | CredentialError | PluginError | AuthError)


def describe(exc: BaseException) -> str:
    """How a failure reads to a person: a WMError's own message; anything else is a
    plugin's bug, which must not take the other accounts down, so it becomes text naming
    its type (the one place that rule is written)."""
    if isinstance(exc, WMError):
        return exc.message
    return f"unexpected {type(exc).__name__}: {exc}"


def unlisted_words(name: object, phase: object, reason: object) -> str:
    """What a person reads of an account an aggregator's listing could not include
    (models.Unlisted.line), for `wm ls --cached` too, which reads the stored snapshot
    without pydantic: `the aggregator cannot list team-b: ...`."""
    if phase == "failed":
        return f"the aggregator cannot list {name}: {reason or 'its poll failed'}"
    return f"the aggregator has not listed {name} yet"


def nearest(key: str, valid: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The valid key a mistyped `key` most likely meant, if one is near: the "did you
    mean" of an account's keys, of the config's keys anywhere in the file, and of AWS
    profiles' names and keys (with a higher `cutoff`: every key of a profile is weighed
    there, not only a wrong one)."""
    import difflib  # only when a key is wrong

    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=cutoff)
    return close[0] if close else None


def nearest_said(key: str, valid: Iterable[str], cutoff: float = 0.6) -> str | None:
    """`nearest`, said: each valid key as near as the nearest ("'us-east-1' or
    'us-west-1'" for us-est-1, one letter from either), where `nearest` picks one."""
    import difflib

    def near(candidate: str) -> float:
        return difflib.SequenceMatcher(None, key, candidate).ratio()

    scored = sorted(((near(v), v) for v in set(valid)), key=lambda pair: (-pair[0], pair[1]))
    best = [v for score, v in scored if score >= cutoff and score == scored[0][0]] if scored else []
    return " or ".join(repr(v) for v in best[:3]) or None
