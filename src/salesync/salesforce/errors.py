"""Salesforce failures as typed exceptions, split by what the caller can do about them.

The tree (each class's docstring is its default message)::

    * SalesforceError            .error_code .message .fields .status .category .raw
      + IntermittentError        retry later with backoff
        - NetworkError           no answer: timeout, refused or reset connection
        - RequestLimitExceeded   the org is over an API limit: pause until the window frees up
      + AuthenticationError      the connection is broken: the rep must reconnect
        - SessionExpired         401 INVALID_SESSION_ID: refresh the access token once
        - RefreshTokenRevoked    invalid_grant on refresh; .reason says why
      + AccessOrValidationError  needs an admin or a data fix (permissions, rules, FLS)
        - ApiDisabled            API_CURRENTLY_DISABLED / API_DISABLED_FOR_ORG
      + OtherError               our bug or an unknown failure; permanent

The class is picked from the error *code* through the one catalog
(:mod:`salesync.domain.error_catalog`), never from the HTTP status alone. Three body shapes are
read: top-level arrays ``[{errorCode, message, fields}]``, collection/composite items
``{statusCode, message, fields}`` and OAuth ``{error, error_description}`` (API-FACTS §2.3).
httpx exceptions are translated once, in :func:`translate_transport_errors`, with the cause
chained (``raise ... from exc``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx

from salesync.domain import error_catalog
from salesync.domain.categories import ErrorCategory
from salesync.salesforce.results import ApiErrorDetail, CollectionItemResult, error_details

# The INVALID_SESSION_ID variant a refresh can't fix (API-FACTS §2.3: jsforce stops on it).
_NOT_FOR_REST = "not valid for use with the rest api"


class SalesforceError(Exception):
    """Salesforce refused the request."""

    category: ClassVar[ErrorCategory] = ErrorCategory.OTHER

    def __init__(
        self,
        message: str | None = None,
        *,
        error_code: str = "",
        fields: Sequence[str] = (),
        status: int | None = None,
        raw: object = None,
        details: Sequence[ApiErrorDetail] = (),
    ) -> None:
        #: Salesforce's message, or the class docstring when none was sent.
        self.message: str = message or (self.__doc__ or "").strip().splitlines()[0]
        #: The catalog code (errorCode, statusCode, OAuth-derived, HTTP_<n> or network).
        self.error_code: str = error_code
        #: Fields named by the error.
        self.fields: tuple[str, ...] = tuple(fields)
        #: HTTP status, None when no answer arrived.
        self.status: int | None = status
        #: The parsed body (or its text) exactly as received.
        self.raw: object = raw
        #: Every entry of the error array, the first being the one above.
        self.details: tuple[ApiErrorDetail, ...] = tuple(details)
        #: For collection calls that failed part-way: results of the chunks that were done.
        self.partial_results: tuple[CollectionItemResult, ...] = ()
        super().__init__(f"{error_code}: {self.message}" if error_code else self.message)

    @property
    def diagnostic(self) -> error_catalog.CatalogEntry:
        """Message, cause and fix for the Diagnostics page."""
        return error_catalog.lookup(self.error_code or error_catalog.UNKNOWN_CODE)

    @property
    def record_gone(self) -> bool:
        """True when the record does not exist or is deleted (a delete may count as done)."""
        return self.error_code in ("NOT_FOUND", "ENTITY_IS_DELETED")


class IntermittentError(SalesforceError):
    """Salesforce failed for a passing reason; retry later."""

    category = ErrorCategory.INTERMITTENT


class NetworkError(IntermittentError):
    """Salesforce could not be reached or did not answer in time."""


class RequestLimitExceeded(IntermittentError):
    """The org is over its Salesforce API limit; wait until the 24-hour window frees up."""


class AuthenticationError(SalesforceError):
    """The Salesforce connection is no longer valid; reconnect."""

    category = ErrorCategory.AUTHENTICATION


class SessionExpired(AuthenticationError):
    """The Salesforce session expired or is invalid."""


class RevocationReason(enum.StrEnum):
    """Why Salesforce refused a refresh token (msia-rules CONN-10)."""

    EXPIRED = "expired"
    INACTIVE_USER = "inactive user"
    INACTIVE_ORG = "inactive org"
    IP_RESTRICTED = "ip restricted"
    OTHER = "other"


_REASON_BY_CODE = {
    "EXPIRED_ACCESS": RevocationReason.EXPIRED,
    "INACTIVE_USER": RevocationReason.INACTIVE_USER,
    "INACTIVE_ORGANIZATION": RevocationReason.INACTIVE_ORG,
    "INVALID_GRANT": RevocationReason.IP_RESTRICTED,
}


class RefreshTokenRevoked(AuthenticationError):
    """Salesforce no longer accepts the refresh token; the rep must connect again."""

    @property
    def reason(self) -> RevocationReason:
        """Expired, inactive user, inactive org, IP restricted, or other."""
        return _REASON_BY_CODE.get(self.error_code, RevocationReason.OTHER)


class AccessOrValidationError(SalesforceError):
    """Salesforce refused the change: a permission, rule or setting needs a person."""

    category = ErrorCategory.ACCESS_VALIDATION


class ApiDisabled(AccessOrValidationError):
    """API access is disabled for this Salesforce user or org."""


class OtherError(SalesforceError):
    """Salesforce refused the request for a reason salesync does not expect."""

    category = ErrorCategory.OTHER


_CLASS_BY_CODE: dict[str, type[SalesforceError]] = {
    "REQUEST_LIMIT_EXCEEDED": RequestLimitExceeded,
    "API_CURRENTLY_DISABLED": ApiDisabled,
    "API_DISABLED_FOR_ORG": ApiDisabled,
    error_catalog.NETWORK_TIMEOUT: NetworkError,
    error_catalog.NETWORK_ERROR: NetworkError,
}
_CLASS_BY_CATEGORY: dict[ErrorCategory, type[SalesforceError]] = {
    ErrorCategory.INTERMITTENT: IntermittentError,
    ErrorCategory.AUTHENTICATION: AuthenticationError,
    ErrorCategory.ACCESS_VALIDATION: AccessOrValidationError,
    ErrorCategory.OTHER: OtherError,
}


def error_class(code: str, status: int | None, message: str = "") -> type[SalesforceError]:
    """Pick the exception class for a code (catalog category, then a few special codes)."""
    if code == "INVALID_SESSION_ID":
        # The "not valid for use with the REST API" variant can't be fixed by refreshing.
        return AuthenticationError if _NOT_FOR_REST in message.lower() else SessionExpired
    special = _CLASS_BY_CODE.get(code)
    if special is not None:
        return special
    return _CLASS_BY_CATEGORY[error_catalog.classify(code, status)]


def error_from_details(
    details: Sequence[ApiErrorDetail], status: int | None, raw: object = None
) -> SalesforceError:
    """Build the exception for an error array (top-level, collection item or subresponse)."""
    if not details:
        code = error_catalog.http_status_code(status) if status else error_catalog.UNKNOWN_CODE
        return error_class(code, status)(None, error_code=code, status=status, raw=raw)
    first = details[0]
    cls = error_class(first.code, status, first.message)
    return cls(
        first.message or None,
        error_code=first.code,
        fields=first.fields,
        status=status,
        raw=raw,
        details=details,
    )


def error_from_response(response: httpx.Response, *, refreshing: bool = False) -> SalesforceError:
    """Translate a Salesforce error answer into the matching exception.

    Parameters
    ----------
    response:
        An answer with status >= 300 (its body already read).
    refreshing:
        True when the answer is to a refresh_token grant: ``invalid_grant`` then means the
        refresh token is dead (:class:`RefreshTokenRevoked`).
    """
    body = _body(response)
    status = response.status_code
    if isinstance(body, dict) and "error" in body:
        return _oauth_error(body, status, refreshing=refreshing)
    if status == 300:
        # Several records match the external id; the body lists them (API-FACTS §2.6).
        code = error_catalog.http_status_code(300)
        return error_class(code, status)(None, error_code=code, status=status, raw=body)
    details = error_details(body) if isinstance(body, list) else ()
    return error_from_details(details, status, raw=body)


def _oauth_error(body: dict[str, Any], status: int, *, refreshing: bool) -> SalesforceError:
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    code = error_catalog.oauth_error_code(error, description)
    message = f"{error}: {description}" if description else error
    cls: type[SalesforceError] = error_class(code, status)
    if refreshing and error.lower() == "invalid_grant":
        cls = RefreshTokenRevoked
    return cls(message, error_code=code, status=status, raw=body)


def _body(response: httpx.Response) -> object:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


@contextmanager
def translate_transport_errors() -> Iterator[None]:
    """Turn httpx exceptions into :class:`SalesforceError` subclasses, chaining the cause.

    The precise httpx error stays available as ``exc.__cause__``.
    """
    try:
        yield
    except httpx.TimeoutException as exc:
        # A timeout after sending may still have saved the change (API-FACTS: Idempotent creates).
        raise NetworkError(
            f"Salesforce did not answer in time ({type(exc).__name__})",
            error_code=error_catalog.NETWORK_TIMEOUT,
        ) from exc
    except httpx.TransportError as exc:
        raise NetworkError(
            f"Could not reach Salesforce ({type(exc).__name__}: {exc})",
            error_code=error_catalog.NETWORK_ERROR,
        ) from exc
    except httpx.HTTPError as exc:
        raise OtherError(f"HTTP failure talking to Salesforce: {exc}") from exc
