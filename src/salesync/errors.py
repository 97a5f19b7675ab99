"""salesync's own exception tree; each class's docstring is its default message.

* SalesyncError
  + ConfigurationError     bad SALESYNC_* settings: fix the environment
  + DatabaseUnavailable    the database cannot be reached
  + NotFound               the item does not exist or is not visible to the caller
  + PermissionDenied       the caller may not do this
  + InvalidInput           the request is wrong; nothing was changed
  + Conflict               the request clashes with the current state
"""

from __future__ import annotations


class SalesyncError(Exception):
    """salesync failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigurationError(SalesyncError):
    """The configuration is invalid."""


class DatabaseUnavailable(SalesyncError):
    """The database cannot be reached."""


class NotFound(SalesyncError):
    """Not found."""


class PermissionDenied(SalesyncError):
    """You are not allowed to do this."""


class InvalidInput(SalesyncError):
    """The input is invalid; nothing was changed."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(SalesyncError):
    """The request conflicts with the current state."""
