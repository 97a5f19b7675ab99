"""The kinds of sales activity salesync logs to Salesforce as Tasks."""

from __future__ import annotations

import enum


class ActivityKind(enum.StrEnum):
    """A logged activity: a sent email, a tracked reply, or a call."""

    EMAIL = "email"
    REPLY = "reply"
    CALL = "call"

    @property
    def type_value(self) -> str:
        """The Task Type picklist value for this kind, exact case (API-5, REPLY-4)."""
        return _TYPE_VALUES[self]

    @property
    def task_subtype(self) -> str:
        """The write-once TaskSubtype for this kind (API-FACTS §1: Email or Call)."""
        return "Call" if self is ActivityKind.CALL else "Email"

    @property
    def activity_type(self) -> str:
        """The ``{{activity_type}}`` template value (API-6: Email, Call, InMail or Custom)."""
        return "Call" if self is ActivityKind.CALL else "Email"


_TYPE_VALUES = {
    ActivityKind.EMAIL: "Email",
    ActivityKind.REPLY: "Reply",
    ActivityKind.CALL: "Call",
}
