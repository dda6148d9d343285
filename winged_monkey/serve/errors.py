"""Errors the aggregator answers with: a status, a stable code, a message for a person."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        outcome_href: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        #: Where the outcome of a change whose answer was lost will be (ErrorOut's).
        self.outcome_href = outcome_href


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, {"WWW-Authenticate": "Bearer"})


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def no_answer(message: str, outcome_href: str | None = None) -> ApiError:
    """The cloud's answer to a change was lost (cut short, a deadline): the change may have
    happened, so a client must say unknown, not failed (502 backend_failed is a refusal).
    `outcome_href`: where its outcome will be, when the portal recorded its intent (also
    the Location, as a 202's: a script follows it the same way)."""
    headers = {"Location": outcome_href} if outcome_href else None
    return ApiError(504, "no_answer", message, headers, outcome_href)


#: The code for each status the framework itself may answer with.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    502: "backend_failed",
    503: "unavailable",
}
