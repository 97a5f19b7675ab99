"""Error categories that decide how a failed Salesforce call is retried or shown."""

from __future__ import annotations

import enum


class ErrorCategory(enum.StrEnum):
    """What a caller can do about a failure (DESIGN §3 error handling)."""

    #: Temporary trouble (timeouts, row locks, 5xx): retry with backoff.
    INTERMITTENT = "intermittent"
    #: The OAuth connection is broken: pause until the rep reconnects.
    AUTHENTICATION = "authentication"
    #: Missing permission or a validation rule said no: needs a person, shown on Diagnostics.
    ACCESS_VALIDATION = "access_validation"
    #: Anything not classified; treated as permanent.
    OTHER = "other"
