"""salesync's own exception tree; each class's ``default_message`` is its docstring's words.

* SalesyncError
  + ConfigurationError     bad SALESYNC_* settings: fix the environment
  + DatabaseUnavailable    the database cannot be reached
  + NotFound               the item does not exist or is not visible to the caller
  + PermissionDenied       the caller may not do this
  + InvalidInput           the request is wrong; nothing was changed
  + Conflict               the request clashes with the current state
"""

from __future__ import annotations

from salesync.domain.wording import tr


class SalesyncError(Exception):
    """salesync failed."""

    #: The message when none is given (the docstring's words, marked for translation).
    default_message: str = tr("salesync failed.")

    def __init__(self, message: str | None = None) -> None:
        kind = type(self)
        if not message:
            # A subclass without its own marked default keeps its docstring, as before.
            own = kind.__dict__.get("default_message")
            message = own if own is not None else (kind.__doc__ or "").strip()
        super().__init__(message)

    @property
    def message(self) -> str:
        first = self.args[0]
        # A Translatable message stays one, so the web edge can show it in the reader's language.
        return first if isinstance(first, str) else str(first)


class ConfigurationError(SalesyncError):
    """The configuration is invalid."""

    default_message = tr("The configuration is invalid.")


class DatabaseUnavailable(SalesyncError):
    """The database cannot be reached."""

    default_message = tr("The database cannot be reached.")


class NotFound(SalesyncError):
    """Not found."""

    default_message = tr("Not found.")


class PermissionDenied(SalesyncError):
    """You are not allowed to do this."""

    default_message = tr("You are not allowed to do this.")


class InvalidInput(SalesyncError):
    """The input is invalid; nothing was changed."""

    default_message = tr("The input is invalid; nothing was changed.")

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(SalesyncError):
    """The request conflicts with the current state."""

    default_message = tr("The request conflicts with the current state.")
