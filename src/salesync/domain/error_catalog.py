"""One table from Salesforce error codes, OAuth errors and HTTP statuses to a category and fix text.

Every failure the Salesforce client can meet is named by a *catalog code*:

- a Salesforce ``errorCode`` (top-level error arrays) or ``statusCode`` (collection and composite
  items), e.g. ``UNABLE_TO_LOCK_ROW`` (API-FACTS §2.3);
- an OAuth ``error`` turned into a code by :func:`oauth_error_code`, e.g. ``invalid_grant`` with
  "inactive user" becomes ``INACTIVE_USER`` (msia-rules §1.13, CONN-10);
- ``HTTP_<status>`` for answers that carry no code (e.g. a bare 503 from a proxy);
- ``NETWORK_TIMEOUT`` / ``NETWORK_ERROR`` for failures before any answer arrived.

:func:`lookup` gives the Diagnostics text (message, cause, fix) written for a rep or an admin;
:func:`classify` gives the :class:`ErrorCategory` that drives retries. The category of every
code of msia-rules §1.13 is the one the spec documents; the others follow API-FACTS "Pitfalls:
Partial failures".
"""

from __future__ import annotations

from dataclasses import dataclass

from salesync.domain.categories import ErrorCategory

_I = ErrorCategory.INTERMITTENT
_AUTH = ErrorCategory.AUTHENTICATION
_AV = ErrorCategory.ACCESS_VALIDATION
_O = ErrorCategory.OTHER

#: Code used when the request timed out before Salesforce answered.
NETWORK_TIMEOUT = "NETWORK_TIMEOUT"
#: Code used when the connection failed (DNS, refused, reset, TLS).
NETWORK_ERROR = "NETWORK_ERROR"
#: Code used when a token response's signature does not match (API-FACTS §3).
TOKEN_SIGNATURE_MISMATCH = "TOKEN_SIGNATURE_MISMATCH"
#: Code used for a code Salesforce sent that this table does not know.
UNKNOWN_CODE = "UNKNOWN_CODE"


@dataclass(frozen=True)
class CatalogEntry:
    """What one error code means, and what a person can do about it."""

    #: The catalog code (upper case), e.g. ``UNABLE_TO_LOCK_ROW``.
    code: str
    #: How the failure is retried or shown.
    category: ErrorCategory
    #: One line for the Diagnostics page.
    message: str
    #: Why it usually happens.
    cause: str
    #: What the rep or the Salesforce admin should do.
    fix: str
    #: Where the rule comes from.
    source: str


def _e(
    code: str, category: ErrorCategory, message: str, cause: str, fix: str, source: str
) -> CatalogEntry:
    return CatalogEntry(code, category, message, cause, fix, source)


_SPEC = "msia-rules §1.13"
_FACTS = "API-FACTS §2.3"
_RECONNECT = "Disconnect Salesforce under Settings → Salesforce → Connections, then connect again."

# The one table. msia-rules §1.13 rows first (categories as documented), then API-FACTS codes.
_ENTRIES: tuple[CatalogEntry, ...] = (
    # --- msia-rules §1.13 ---
    _e(
        "API_CURRENTLY_DISABLED",
        _AV,
        "API access is disabled for this Salesforce user.",
        'The user\'s profile or permission sets lack the "API Enabled" permission.',
        'Ask your Salesforce admin to grant "API Enabled" to your profile or a permission set.',
        _SPEC,
    ),
    _e(
        "AUTHENTICATION_FAILURE",
        _AUTH,
        "Salesforce refused the sign-in (authentication failure).",
        "The stored connection could not be authenticated.",
        _RECONNECT,
        _SPEC,
    ),
    _e(
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        _AV,
        "Salesforce could not save the record: a trigger failed or write access is missing.",
        "1) An Apex trigger or flow on the object raised an error; 2) the user has no write "
        "permission on the object.",
        "1) Ask your admin to review the trigger or flow named in the details; 2) grant write "
        "access to the object, or turn off the feature that writes to it.",
        _SPEC,
    ),
    _e(
        "CANNOT_UPDATE_CONVERTED_LEAD",
        _O,
        "The lead has been converted and can't be updated.",
        "An activity was logged against a lead that was converted to a contact.",
        "Report it to support; the activity should be logged on the converted contact.",
        _SPEC,
    ),
    _e(
        "ENTITY_IS_LOCKED",
        _AV,
        "The record is locked for editing.",
        "An approval process has locked the record.",
        "Wait until the approval is approved or rejected, then retry.",
        _SPEC,
    ),
    _e(
        "EXPIRED_ACCESS",
        _AUTH,
        "The Salesforce connection has expired.",
        "The refresh token expired or was revoked (Salesforce session and refresh-token policies).",
        _RECONNECT,
        _SPEC,
    ),
    _e(
        "FAILED_WRITE",
        _I,
        "Salesforce did not finish writing the record (end of file reached).",
        "Salesforce was slow, often because of long-running triggers.",
        "It is retried automatically; if it keeps happening, ask your admin to review triggers.",
        _SPEC,
    ),
    _e(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        _AV,
        "A validation rule in Salesforce rejected the record.",
        "A custom validation rule's condition was not met; the details show its message.",
        "Ask your admin to adjust the validation rule, or fix the data it names, then retry.",
        _SPEC,
    ),
    _e(
        "FIELD_FILTER_VALIDATION_EXCEPTION",
        _AV,
        "A value does not exist or does not match the field's filter criteria.",
        "Existing data on the record breaks a lookup filter that Salesforce enforces on update.",
        "Fix the data on the record in Salesforce, then retry.",
        _SPEC,
    ),
    _e(
        "FIELD_INTEGRITY_EXCEPTION",
        _AV,
        "A field value is not valid for Salesforce.",
        "Existing data on the record (e.g. a state that doesn't match the country) or a related "
        "id of the wrong type.",
        "Fix the data on the record in Salesforce, then retry.",
        _SPEC,
    ),
    _e(
        "INACTIVE_ORGANIZATION",
        _AUTH,
        "The Salesforce organization is inactive.",
        "The org was deactivated or its trial ended.",
        _RECONNECT,
        _SPEC,
    ),
    _e(
        "INACTIVE_USER",
        _AUTH,
        "The Salesforce user is inactive.",
        "The connected Salesforce user was deactivated or frozen.",
        "Ask your admin to reactivate the user, then disconnect and connect again.",
        _SPEC,
    ),
    _e(
        "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
        _I,
        "Salesforce is in maintenance and refuses changes.",
        "The org is in a maintenance window.",
        "It is retried automatically after the window.",
        _SPEC,
    ),
    _e(
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        _AV,
        "No access to the record the task is related to.",
        "The user can't see or edit the Lead, Contact, Account or Opportunity the task points at.",
        "Ask your admin to share the related record with you, then retry.",
        _SPEC,
    ),
    _e(
        "INSUFFICIENT_ACCESS_OR_READONLY",
        _AV,
        "Insufficient access rights on the record.",
        "The user can't edit the record (sharing or object permissions).",
        "Ask your admin to grant edit access, or turn off logging to that object for this user.",
        _SPEC,
    ),
    # msia-rules §1.13 files INVALID_FIELD under Intermittent (seen with Net::ReadTimeout). For a
    # genuinely unknown column the retry only helps after a fresh describe drops the field
    # (API-FACTS "Pitfalls: Field-level security"), which the sync engine does on INVALID_FIELD*.
    _e(
        "INVALID_FIELD",
        _I,
        "Salesforce did not accept a field in the request.",
        "A timeout on a slow org, or a field that was removed or hidden by field-level security.",
        "It is retried automatically after re-reading the org's fields; if it persists, ask your "
        "admin to review customizations on the object.",
        _SPEC,
    ),
    _e(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        _AV,
        "Unable to create or update a field.",
        "Field-level security makes the field read-only for this user, or the field is "
        "read-only by nature.",
        "Ask your admin to give the user edit access to the field named in the details.",
        _SPEC,
    ),
    _e(
        "INVALID_GRANT",
        _AUTH,
        "Salesforce refused the connection from this server's IP address.",
        "The org's IP restrictions do not include this server.",
        "Ask your Salesforce admin to allow this server's IP addresses, then reconnect.",
        _SPEC,
    ),
    _e(
        "INVALID_TYPE",
        _AV,
        "The user can't access this kind of Salesforce record.",
        "The object (e.g. Lead) is not visible to the user, so queries on it fail.",
        "Ask your admin to grant Read and Edit on the object, or turn off logging to it.",
        _SPEC,
    ),
    _e(
        "QUERY_TIMEOUT",
        _I,
        "A Salesforce query ran too long.",
        "The org was slow (large data or triggers).",
        "It is retried automatically; if it keeps happening, ask your admin to review the org.",
        _SPEC,
    ),
    _e(
        "REQUEST_LIMIT_EXCEEDED",
        _I,
        "The org is over a Salesforce API limit.",
        "Too many API calls in the rolling 24-hour window, or too many long-running requests at "
        "once.",
        "Work resumes when the window frees up; an admin can buy more API calls or lower "
        "salesync's share.",
        _SPEC,
    ),
    _e(
        "REQUIRED_FIELD_MISSING",
        _AV,
        "Required fields are missing on the record.",
        "A field marked required in Salesforce is empty; Salesforce enforces it on every update.",
        "Fill the fields named in the details in Salesforce, then retry from salesync.",
        _SPEC,
    ),
    _e(
        "SERVER_UNAVAILABLE",
        _I,
        "Salesforce is too busy right now.",
        "Salesforce performance problems.",
        "It is retried automatically; if it keeps happening, ask your admin to review triggers.",
        _SPEC,
    ),
    _e(
        "TXN_SECURITY_NO_ACCESS",
        _AV,
        "A Salesforce security policy blocked the operation.",
        "A transaction security policy in the org refuses this kind of request.",
        "Ask your Salesforce admin about the org's transaction security policies.",
        _SPEC,
    ),
    _e(
        "UNABLE_TO_LOCK_ROW",
        _I,
        "Salesforce could not lock the record.",
        "Another process (often a trigger, or many emails to one record) was editing it.",
        "It is retried automatically; if it keeps happening, ask your admin to review triggers.",
        _SPEC,
    ),
    _e(
        "UNKNOWN_EXCEPTION",
        _O,
        "Salesforce reported an unknown internal error.",
        "An unhandled exception inside Salesforce.",
        "File a case with Salesforce, quoting the numbers in the details.",
        _SPEC,
    ),
    # --- API-FACTS §2.3 and the pitfalls list ---
    _e(
        "INVALID_SESSION_ID",
        _AUTH,
        "The Salesforce session expired or is invalid.",
        "The access token expired and could not be refreshed, or the session is not valid for "
        "the REST API.",
        _RECONNECT,
        _FACTS,
    ),
    _e(
        "NOT_FOUND",
        _O,
        "The requested Salesforce resource does not exist.",
        "A wrong URL, API version or record id.",
        "Report it to support.",
        _FACTS,
    ),
    _e(
        "ENTITY_IS_DELETED",
        _AV,
        "The record has been deleted in Salesforce.",
        "Someone deleted the record (it may still be in the Recycle Bin).",
        "Restore the record from the Recycle Bin, or dismiss this item.",
        _FACTS,
    ),
    _e(
        "STRING_TOO_LONG",
        _AV,
        "A text value is longer than the Salesforce field allows.",
        "The field is shorter than the value (custom fields may be shorter than expected).",
        "Ask your admin to lengthen the field named in the details, then retry.",
        _FACTS,
    ),
    _e(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        _AV,
        "A picklist value is not allowed.",
        "The field is a restricted picklist and the value is not one of its values.",
        "Ask your admin to add the value to the picklist, then retry.",
        _FACTS,
    ),
    _e(
        "JSON_PARSER_ERROR",
        _O,
        "Salesforce could not read the request.",
        "salesync sent a value Salesforce could not parse.",
        "Report it to support.",
        _FACTS,
    ),
    _e(
        "MALFORMED_QUERY",
        _O,
        "Salesforce could not parse a query.",
        "salesync built a query Salesforce does not accept.",
        "Report it to support.",
        _FACTS,
    ),
    _e(
        "MALFORMED_ID",
        _O,
        "A Salesforce id is malformed.",
        "An id stored for this record is not a valid Salesforce id.",
        "Check the Salesforce id on the person or task, then retry.",
        _FACTS,
    ),
    _e(
        "INVALID_CROSS_REFERENCE_KEY",
        _AV,
        "A related record id is not valid.",
        "The Lead, Contact or related record no longer exists or is of the wrong type.",
        "Check the Salesforce ids on the person (it may have been merged or deleted), then retry.",
        _FACTS,
    ),
    _e(
        "DUPLICATE_VALUE",
        _AV,
        "A unique field already holds this value on another record.",
        "A field marked Unique (e.g. the activity id field) has a duplicate.",
        "Ask your admin to check the record named in the details.",
        _FACTS,
    ),
    _e(
        "API_DISABLED_FOR_ORG",
        _AV,
        "This Salesforce edition has no API access.",
        "API access needs Enterprise, Unlimited, Performance or Developer edition, or "
        "Professional edition with the API add-on.",
        "Ask your Salesforce account team to enable API access for the org.",
        _FACTS,
    ),
    _e(
        "EXCEEDED_ID_LIMIT",
        _O,
        "Too many changed records to list at once.",
        "getUpdated/getDeleted would return more than 600,000 ids.",
        "A smaller time window is needed; report it to support if it persists.",
        _FACTS,
    ),
    _e(
        "INVALID_REPLICATION_DATE",
        _O,
        "The change window asked of Salesforce is not allowed.",
        "The start is older than Salesforce keeps changes, or the window is under a minute.",
        "salesync falls back to a full reconcile; report it if it persists.",
        _FACTS,
    ),
    _e(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        _I,
        "Rolled back because another record in the batch failed.",
        "The batch was all-or-none and a different record had an error.",
        "It is retried automatically.",
        "API-FACTS §2.4",
    ),
    _e(
        "PROCESSING_HALTED",
        _I,
        "Not processed because an earlier step failed.",
        "A composite request stopped after another subrequest failed.",
        "It is retried automatically.",
        _FACTS,
    ),
    _e(
        "INVALID_CLIENT_ID",
        _AUTH,
        "Salesforce does not know salesync's connected app.",
        "The consumer key is wrong, or the connected app is not installed in this org.",
        "Ask your salesync operator to check the Salesforce client id.",
        "API-FACTS §3",
    ),
    _e(
        "INVALID_CLIENT",
        _AUTH,
        "Salesforce refused salesync's app credentials.",
        "The consumer secret is wrong.",
        "Ask your salesync operator to check the Salesforce client secret.",
        "API-FACTS §3",
    ),
    _e(
        "OAUTH_APP_BLOCKED",
        _AUTH,
        "The salesync app is blocked in this Salesforce org.",
        'An admin blocked the connected app, or the profile lacks "API Enabled".',
        "Ask your admin to unblock the app under Setup → Connected Apps OAuth Usage.",
        "CONN-8",
    ),
    _e(
        "INVALID_REQUEST",
        _O,
        "Salesforce refused the sign-in request.",
        "The authorization request was malformed or its PKCE verifier did not match.",
        "Start the connection again; report it if it persists.",
        "API-FACTS §3",
    ),
    _e(
        "INVALID_TOKEN",
        _O,
        "The token was already invalid.",
        "The token was revoked or expired before salesync revoked it.",
        "Nothing to do.",
        "API-FACTS §3",
    ),
    _e(
        TOKEN_SIGNATURE_MISMATCH,
        _AUTH,
        "Salesforce's sign-in answer failed its signature check.",
        "The answer was not signed with salesync's client secret (wrong secret, or tampering).",
        "Ask your salesync operator to check the Salesforce client secret, then reconnect.",
        "API-FACTS §3",
    ),
    _e(
        NETWORK_TIMEOUT,
        _I,
        "Salesforce did not answer in time.",
        "A network timeout; the change may or may not have been saved.",
        "It is retried automatically (safely: creates are idempotent).",
        "API-FACTS Pitfalls",
    ),
    _e(
        NETWORK_ERROR,
        _I,
        "Could not reach Salesforce.",
        "A network failure (DNS, refused or reset connection, TLS).",
        "It is retried automatically.",
        "API-FACTS Pitfalls",
    ),
    _e(
        "HTTP_300",
        _AV,
        "Several Salesforce records share this external id.",
        "The external id field is not marked Unique, and two records hold the same value.",
        "Ask your admin to remove the duplicate and mark the field Unique.",
        "API-FACTS §2.6",
    ),
    _e(
        "HTTP_414",
        _O,
        "A request to Salesforce was too long.",
        "The URL went over Salesforce's limit.",
        "Report it to support.",
        "API-FACTS §2.10",
    ),
    _e(
        "HTTP_431",
        _O,
        "A request to Salesforce was too long.",
        "The URL plus headers went over 16,384 bytes.",
        "Report it to support.",
        "API-FACTS §2.10",
    ),
    _e(
        "HTTP_500",
        _I,
        "Salesforce had an internal error.",
        "A Salesforce server error.",
        "It is retried automatically.",
        _FACTS,
    ),
    _e(
        "HTTP_502",
        _I,
        "Salesforce could not be reached through its gateway.",
        "A Salesforce or proxy outage.",
        "It is retried automatically.",
        _FACTS,
    ),
    _e(
        "HTTP_503",
        _I,
        "Salesforce is unavailable or too busy.",
        "Maintenance or too many requests.",
        "It is retried automatically.",
        _FACTS,
    ),
    _e(
        "HTTP_504",
        _I,
        "Salesforce's gateway timed out.",
        "A slow Salesforce answer.",
        "It is retried automatically.",
        _FACTS,
    ),
)

_TABLE: dict[str, CatalogEntry] = {entry.code: entry for entry in _ENTRIES}

# OAuth invalid_grant descriptions -> catalog code (API-FACTS §3; msia-rules CONN-10, §1.13).
_INVALID_GRANT_DESCRIPTIONS: tuple[tuple[str, str], ...] = (
    ("expired access/refresh token", "EXPIRED_ACCESS"),
    ("inactive user", "INACTIVE_USER"),
    ("inactive organization", "INACTIVE_ORGANIZATION"),
    ("inactive org", "INACTIVE_ORGANIZATION"),
    ("ip restricted", "INVALID_GRANT"),
    ("authentication failure", "AUTHENTICATION_FAILURE"),
)


def lookup(code: str) -> CatalogEntry:
    """Return the catalog entry for ``code`` (case-insensitive).

    Parameters
    ----------
    code:
        A catalog code: Salesforce errorCode/statusCode, ``HTTP_<status>``, or a network code.

    Returns
    -------
    CatalogEntry
        The entry; for an unknown code, an ``other`` entry that names the code, so the
        Diagnostics page still says what Salesforce sent.
    """
    normalized = code.strip().upper()
    entry = _TABLE.get(normalized)
    if entry is not None:
        return entry
    return CatalogEntry(
        code=normalized or UNKNOWN_CODE,
        category=_O,
        message=f"Salesforce reported {normalized or 'an unknown error'}.",
        cause="An error salesync does not recognise.",
        fix="Report it to support with the details shown.",
        source="fallback",
    )


def is_known(code: str) -> bool:
    """Tell whether ``code`` has its own row in the catalog."""
    return code.strip().upper() in _TABLE


def known_codes() -> frozenset[str]:
    """Every code that has its own row."""
    return frozenset(_TABLE)


def http_status_code(status: int) -> str:
    """The catalog code for an answer that carries only an HTTP status, e.g. ``HTTP_503``."""
    return f"HTTP_{status}"


def classify(code: str | None, http_status: int | None = None) -> ErrorCategory:
    """Decide the category of a failure.

    Parameters
    ----------
    code:
        The catalog code, if the answer carried one.
    http_status:
        The HTTP status, if any answer arrived.

    Returns
    -------
    ErrorCategory
        The catalog's category for a known code. Otherwise a fallback on the status:
        5xx and 429 are intermittent (API-FACTS Pitfalls: "Transient ... 503, 500"),
        401 is authentication, every other status (and none) is ``other``.
    """
    if code and is_known(code):
        return _TABLE[code.strip().upper()].category
    if http_status is not None:
        if http_status >= 500 or http_status == 429:
            return _I
        if http_status == 401:
            return _AUTH
    return _O


def oauth_error_code(error: str, description: str = "") -> str:
    """Turn an OAuth ``{error, error_description}`` pair into a catalog code.

    ``invalid_grant`` is split by its description, as msia-rules §1.13 does (CONN-10);
    an ``invalid_grant`` with another description is an authentication failure. Any other
    OAuth error becomes its upper-case name (``invalid_client_id`` -> ``INVALID_CLIENT_ID``).
    """
    if error.strip().lower() == "invalid_grant":
        lowered = description.lower()
        for fragment, code in _INVALID_GRANT_DESCRIPTIONS:
            if fragment in lowered:
                return code
        return "AUTHENTICATION_FAILURE"
    return error.strip().upper()
