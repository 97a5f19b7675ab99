"""What can go wrong when salesync builds or sends an email, by what the caller can do about it.

* SalesyncError                       (salesync.errors)
  + MailError                         sending failed; ``retryable`` says whether to try again
    - MailServerUnavailable           cannot connect, timed out, or the server hung up / said 421
    - MailTlsFailed                   STARTTLS not offered, or the certificate is not trusted
    - MailAuthenticationFailed        the server refused the SMTP login, or offers no AUTH
    - MailRecipientsRefused           no To/Cc recipient was accepted; per-address code and text
    - MailRejected                    the server refused the sender or the message (code and text)
  + InvalidInput                      (salesync.errors)
    - InvalidMessage  (also ValueError)   the email cannot be built; nothing was sent
      . HeaderInjection               CR, LF or NUL in a header value
      . InvalidAddress                not a plain ``local@domain`` address
      . InvalidMessageId              not a ``<left@right>`` message id
"""

from __future__ import annotations

from salesync.errors import InvalidInput, SalesyncError

#: SMTP reply code for "service not available, closing transmission channel" (RFC 5321 §4.2.3).
SERVICE_NOT_AVAILABLE = 421


def is_transient_code(code: int) -> bool:
    """4yz replies are transient failures; 5yz are permanent (RFC 5321 §4.2.1)."""
    return 400 <= code < 500


class MailError(SalesyncError):
    """The email could not be sent."""

    #: Whether sending the same email again later may succeed.
    retryable: bool = False


class MailServerUnavailable(MailError):
    """The mail server cannot be reached right now; the email will be sent later."""

    retryable = True


class MailTlsFailed(MailError):
    """A secure connection to the mail server could not be set up; check the SMTP settings."""


class MailAuthenticationFailed(MailError):
    """The mail server refused the SMTP username or password; check the SMTP settings."""

    def __init__(
        self, message: str | None = None, *, code: int | None = None, text: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.text = text


class MailRecipientsRefused(MailError):
    """The mail server refused every recipient of the email."""

    def __init__(self, refused: dict[str, tuple[int, str]], message: str | None = None) -> None:
        super().__init__(message or _describe_refusals(refused))
        #: address -> (SMTP code, server text), for every refused envelope recipient.
        self.refused = dict(refused)
        self.retryable = bool(refused) and all(
            is_transient_code(code) for code, _ in refused.values()
        )


class MailRejected(MailError):
    """The mail server refused the email."""

    def __init__(self, code: int, text: str, *, command: str) -> None:
        super().__init__(f"The mail server refused the email at {command}: {code} {text}")
        self.code = code
        self.text = text
        #: The SMTP command that got the refusal (MAIL, DATA, ...).
        self.command = command
        self.retryable = is_transient_code(code)


def _describe_refusals(refused: dict[str, tuple[int, str]]) -> str:
    details = "; ".join(f"{address}: {code} {text}" for address, (code, text) in refused.items())
    return f"The mail server refused every recipient ({details})"


class InvalidMessage(InvalidInput, ValueError):
    """The email is invalid; nothing was sent."""


class HeaderInjection(InvalidMessage):
    """A header value holds a line break or NUL, which could forge extra headers."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must not contain CR, LF or NUL characters", field=field)


class InvalidAddress(InvalidMessage):
    """An email address is not valid."""

    def __init__(
        self, field: str, value: str, reason: str = "is not a valid email address"
    ) -> None:
        super().__init__(f"{field}: {value!r} {reason}", field=field)
        self.value = value


class InvalidMessageId(InvalidMessage):
    """A message id is not of the form ``<left@right>``."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field}: {value!r} is not a message id like <id@domain>", field=field)
        self.value = value
