"""One typed hierarchy for every error a user may see; messages are meant for people."""

from __future__ import annotations


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


class PluginError(WMError):
    title = "Backend not available"


class CredentialError(WMError):
    title = "Credentials"


class BackendError(WMError):
    """A provider refused or failed; the message carries the provider's reason."""

    title = "Cloud error"


class InvalidRequest(BackendError):
    """The provider rejected what the user gave it (a template, its parameters, a name)."""

    title = "Invalid request"


class AuthError(BackendError):
    title = "Authentication failed"


class UnreachableError(BackendError):
    title = "Unreachable"


class ActionNotAllowed(WMError):
    title = "Not allowed"


class NotFoundError(WMError):
    title = "Not found"


class StoreError(WMError):
    title = "Local store"
