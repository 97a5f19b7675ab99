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
from salesync.domain.wording import tr

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
_RECONNECT = tr(
    "Disconnect Salesforce under Settings → Salesforce → Connections, then connect again."
)

# The one table. msia-rules §1.13 rows first (categories as documented), then API-FACTS codes.
_ENTRIES: tuple[CatalogEntry, ...] = (
    # --- msia-rules §1.13 ---
    _e(
        "API_CURRENTLY_DISABLED",
        _AV,
        tr("API access is disabled for this Salesforce user."),
        tr('The user\'s profile or permission sets lack the "API Enabled" permission.'),
        tr('Ask your Salesforce admin to grant "API Enabled" to your profile or a permission set.'),
        _SPEC,
    ),
    _e(
        "AUTHENTICATION_FAILURE",
        _AUTH,
        tr("Salesforce refused the sign-in (authentication failure)."),
        tr("The stored connection could not be authenticated."),
        _RECONNECT,
        _SPEC,
    ),
    _e(
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        _AV,
        tr("Salesforce could not save the record: a trigger failed or write access is missing."),
        tr(
            "1) An Apex trigger or flow on the object raised an error; 2) the user has no write "
            "permission on the object."
        ),
        tr(
            "1) Ask your admin to review the trigger or flow named in the details; 2) grant write "
            "access to the object, or turn off the feature that writes to it."
        ),
        _SPEC,
    ),
    _e(
        "CANNOT_UPDATE_CONVERTED_LEAD",
        _O,
        tr("The lead has been converted and can't be updated."),
        tr("An activity was logged against a lead that was converted to a contact."),
        tr("Report it to support; the activity should be logged on the converted contact."),
        _SPEC,
    ),
    _e(
        "ENTITY_IS_LOCKED",
        _AV,
        tr("The record is locked for editing."),
        tr("An approval process has locked the record."),
        tr("Wait until the approval is approved or rejected, then retry."),
        _SPEC,
    ),
    _e(
        "EXPIRED_ACCESS",
        _AUTH,
        tr("The Salesforce connection has expired."),
        tr(
            "The refresh token expired or was revoked (Salesforce session and refresh-token "
            "policies)."
        ),
        _RECONNECT,
        _SPEC,
    ),
    _e(
        "FAILED_WRITE",
        _I,
        tr("Salesforce did not finish writing the record (end of file reached)."),
        tr("Salesforce was slow, often because of long-running triggers."),
        tr(
            "It is retried automatically; if it keeps happening, ask your admin to review triggers."
        ),
        _SPEC,
    ),
    _e(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        _AV,
        tr("A validation rule in Salesforce rejected the record."),
        tr("A custom validation rule's condition was not met; the details show its message."),
        tr("Ask your admin to adjust the validation rule, or fix the data it names, then retry."),
        _SPEC,
    ),
    _e(
        "FIELD_FILTER_VALIDATION_EXCEPTION",
        _AV,
        tr("A value does not exist or does not match the field's filter criteria."),
        tr(
            "Existing data on the record breaks a lookup filter that Salesforce enforces on update."
        ),
        tr("Fix the data on the record in Salesforce, then retry."),
        _SPEC,
    ),
    _e(
        "FIELD_INTEGRITY_EXCEPTION",
        _AV,
        tr("A field value is not valid for Salesforce."),
        tr(
            "Existing data on the record (e.g. a state that doesn't match the country) or a "
            "related "
            "id of the wrong type."
        ),
        tr("Fix the data on the record in Salesforce, then retry."),
        _SPEC,
    ),
    _e(
        "INACTIVE_ORGANIZATION",
        _AUTH,
        tr("The Salesforce organization is inactive."),
        tr("The org was deactivated or its trial ended."),
        _RECONNECT,
        _SPEC,
    ),
    _e(
        "INACTIVE_USER",
        _AUTH,
        tr("The Salesforce user is inactive."),
        tr("The connected Salesforce user was deactivated or frozen."),
        tr("Ask your admin to reactivate the user, then disconnect and connect again."),
        _SPEC,
    ),
    _e(
        "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
        _I,
        tr("Salesforce is in maintenance and refuses changes."),
        tr("The org is in a maintenance window."),
        tr("It is retried automatically after the window."),
        _SPEC,
    ),
    _e(
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        _AV,
        tr("No access to the record the task is related to."),
        tr(
            "The user can't see or edit the Lead, Contact, Account or Opportunity the task points "
            "at."
        ),
        tr("Ask your admin to share the related record with you, then retry."),
        _SPEC,
    ),
    _e(
        "INSUFFICIENT_ACCESS_OR_READONLY",
        _AV,
        tr("Insufficient access rights on the record."),
        tr("The user can't edit the record (sharing or object permissions)."),
        tr(
            "Ask your admin to grant edit access, or turn off logging to that object for this user."
        ),
        _SPEC,
    ),
    # msia-rules §1.13 files INVALID_FIELD under Intermittent (seen with Net::ReadTimeout). For a
    # genuinely unknown column the retry only helps after a fresh describe drops the field
    # (API-FACTS "Pitfalls: Field-level security"), which the sync engine does on INVALID_FIELD*.
    _e(
        "INVALID_FIELD",
        _I,
        tr("Salesforce did not accept a field in the request."),
        tr(
            "A timeout on a slow org, or a field that was removed or hidden by field-level "
            "security."
        ),
        tr(
            "It is retried automatically after re-reading the org's fields; if it persists, ask "
            "your "
            "admin to review customizations on the object."
        ),
        _SPEC,
    ),
    _e(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        _AV,
        tr("Unable to create or update a field."),
        tr(
            "Field-level security makes the field read-only for this user, or the field is "
            "read-only by nature."
        ),
        tr("Ask your admin to give the user edit access to the field named in the details."),
        _SPEC,
    ),
    _e(
        "INVALID_GRANT",
        _AUTH,
        tr("Salesforce refused the connection from this server's IP address."),
        tr("The org's IP restrictions do not include this server."),
        tr("Ask your Salesforce admin to allow this server's IP addresses, then reconnect."),
        _SPEC,
    ),
    _e(
        "INVALID_TYPE",
        _AV,
        tr("The user can't access this kind of Salesforce record."),
        tr("The object (e.g. Lead) is not visible to the user, so queries on it fail."),
        tr("Ask your admin to grant Read and Edit on the object, or turn off logging to it."),
        _SPEC,
    ),
    _e(
        "QUERY_TIMEOUT",
        _I,
        tr("A Salesforce query ran too long."),
        tr("The org was slow (large data or triggers)."),
        tr("It is retried automatically; if it keeps happening, ask your admin to review the org."),
        _SPEC,
    ),
    _e(
        "REQUEST_LIMIT_EXCEEDED",
        _I,
        tr("The org is over a Salesforce API limit."),
        tr(
            "Too many API calls in the rolling 24-hour window, or too many long-running requests "
            "at "
            "once."
        ),
        tr(
            "Work resumes when the window frees up; an admin can buy more API calls or lower "
            "salesync's share."
        ),
        _SPEC,
    ),
    _e(
        "REQUIRED_FIELD_MISSING",
        _AV,
        tr("Required fields are missing on the record."),
        tr(
            "A field marked required in Salesforce is empty; Salesforce enforces it on every "
            "update."
        ),
        tr("Fill the fields named in the details in Salesforce, then retry from salesync."),
        _SPEC,
    ),
    _e(
        "SERVER_UNAVAILABLE",
        _I,
        tr("Salesforce is too busy right now."),
        tr("Salesforce performance problems."),
        tr(
            "It is retried automatically; if it keeps happening, ask your admin to review triggers."
        ),
        _SPEC,
    ),
    _e(
        "TXN_SECURITY_NO_ACCESS",
        _AV,
        tr("A Salesforce security policy blocked the operation."),
        tr("A transaction security policy in the org refuses this kind of request."),
        tr("Ask your Salesforce admin about the org's transaction security policies."),
        _SPEC,
    ),
    _e(
        "UNABLE_TO_LOCK_ROW",
        _I,
        tr("Salesforce could not lock the record."),
        tr("Another process (often a trigger, or many emails to one record) was editing it."),
        tr(
            "It is retried automatically; if it keeps happening, ask your admin to review triggers."
        ),
        _SPEC,
    ),
    _e(
        "UNKNOWN_EXCEPTION",
        _O,
        tr("Salesforce reported an unknown internal error."),
        tr("An unhandled exception inside Salesforce."),
        tr("File a case with Salesforce, quoting the numbers in the details."),
        _SPEC,
    ),
    # --- API-FACTS §2.3 and the pitfalls list ---
    _e(
        "INVALID_SESSION_ID",
        _AUTH,
        tr("The Salesforce session expired or is invalid."),
        tr(
            "The access token expired and could not be refreshed, or the session is not valid for "
            "the REST API."
        ),
        _RECONNECT,
        _FACTS,
    ),
    _e(
        "NOT_FOUND",
        _O,
        tr("The requested Salesforce resource does not exist."),
        tr("A wrong URL, API version or record id."),
        tr("Report it to support."),
        _FACTS,
    ),
    _e(
        "ENTITY_IS_DELETED",
        _AV,
        tr("The record has been deleted in Salesforce."),
        tr("Someone deleted the record (it may still be in the Recycle Bin)."),
        tr("Restore the record from the Recycle Bin, or dismiss this item."),
        _FACTS,
    ),
    _e(
        "STRING_TOO_LONG",
        _AV,
        tr("A text value is longer than the Salesforce field allows."),
        tr("The field is shorter than the value (custom fields may be shorter than expected)."),
        tr("Ask your admin to lengthen the field named in the details, then retry."),
        _FACTS,
    ),
    _e(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        _AV,
        tr("A picklist value is not allowed."),
        tr("The field is a restricted picklist and the value is not one of its values."),
        tr("Ask your admin to add the value to the picklist, then retry."),
        _FACTS,
    ),
    _e(
        "JSON_PARSER_ERROR",
        _O,
        tr("Salesforce could not read the request."),
        tr("salesync sent a value Salesforce could not parse."),
        tr("Report it to support."),
        _FACTS,
    ),
    _e(
        "MALFORMED_QUERY",
        _O,
        tr("Salesforce could not parse a query."),
        tr("salesync built a query Salesforce does not accept."),
        tr("Report it to support."),
        _FACTS,
    ),
    _e(
        "MALFORMED_ID",
        _O,
        tr("A Salesforce id is malformed."),
        tr("An id stored for this record is not a valid Salesforce id."),
        tr("Check the Salesforce id on the person or task, then retry."),
        _FACTS,
    ),
    _e(
        "INVALID_CROSS_REFERENCE_KEY",
        _AV,
        tr("A related record id is not valid."),
        tr("The Lead, Contact or related record no longer exists or is of the wrong type."),
        tr(
            "Check the Salesforce ids on the person (it may have been merged or deleted), then "
            "retry."
        ),
        _FACTS,
    ),
    _e(
        "DUPLICATE_VALUE",
        _AV,
        tr("A unique field already holds this value on another record."),
        tr("A field marked Unique (e.g. the activity id field) has a duplicate."),
        tr("Ask your admin to check the record named in the details."),
        _FACTS,
    ),
    _e(
        "API_DISABLED_FOR_ORG",
        _AV,
        tr("This Salesforce edition has no API access."),
        tr(
            "API access needs Enterprise, Unlimited, Performance or Developer edition, or "
            "Professional edition with the API add-on."
        ),
        tr("Ask your Salesforce account team to enable API access for the org."),
        _FACTS,
    ),
    _e(
        "EXCEEDED_ID_LIMIT",
        _O,
        tr("Too many changed records to list at once."),
        tr("getUpdated/getDeleted would return more than 600,000 ids."),
        tr("A smaller time window is needed; report it to support if it persists."),
        _FACTS,
    ),
    _e(
        "INVALID_REPLICATION_DATE",
        _O,
        tr("The change window asked of Salesforce is not allowed."),
        tr("The start is older than Salesforce keeps changes, or the window is under a minute."),
        tr("salesync falls back to a full reconcile; report it if it persists."),
        _FACTS,
    ),
    _e(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        _I,
        tr("Rolled back because another record in the batch failed."),
        tr("The batch was all-or-none and a different record had an error."),
        tr("It is retried automatically."),
        "API-FACTS §2.4",
    ),
    _e(
        "PROCESSING_HALTED",
        _I,
        tr("Not processed because an earlier step failed."),
        tr("A composite request stopped after another subrequest failed."),
        tr("It is retried automatically."),
        _FACTS,
    ),
    _e(
        "INVALID_CLIENT_ID",
        _AUTH,
        tr("Salesforce does not know salesync's connected app."),
        tr("The consumer key is wrong, or the connected app is not installed in this org."),
        tr("Ask your salesync operator to check the Salesforce client id."),
        "API-FACTS §3",
    ),
    _e(
        "INVALID_CLIENT",
        _AUTH,
        tr("Salesforce refused salesync's app credentials."),
        tr("The consumer secret is wrong."),
        tr("Ask your salesync operator to check the Salesforce client secret."),
        "API-FACTS §3",
    ),
    _e(
        "OAUTH_APP_BLOCKED",
        _AUTH,
        tr("The salesync app is blocked in this Salesforce org."),
        tr('An admin blocked the connected app, or the profile lacks "API Enabled".'),
        tr("Ask your admin to unblock the app under Setup → Connected Apps OAuth Usage."),
        "CONN-8",
    ),
    _e(
        "INVALID_REQUEST",
        _O,
        tr("Salesforce refused the sign-in request."),
        tr("The authorization request was malformed or its PKCE verifier did not match."),
        tr("Start the connection again; report it if it persists."),
        "API-FACTS §3",
    ),
    _e(
        "INVALID_TOKEN",
        _O,
        tr("The token was already invalid."),
        tr("The token was revoked or expired before salesync revoked it."),
        tr("Nothing to do."),
        "API-FACTS §3",
    ),
    _e(
        TOKEN_SIGNATURE_MISMATCH,
        _AUTH,
        tr("Salesforce's sign-in answer failed its signature check."),
        tr("The answer was not signed with salesync's client secret (wrong secret, or tampering)."),
        tr("Ask your salesync operator to check the Salesforce client secret, then reconnect."),
        "API-FACTS §3",
    ),
    _e(
        NETWORK_TIMEOUT,
        _I,
        tr("Salesforce did not answer in time."),
        tr("A network timeout; the change may or may not have been saved."),
        tr("It is retried automatically (safely: creates are idempotent)."),
        "API-FACTS Pitfalls",
    ),
    _e(
        NETWORK_ERROR,
        _I,
        tr("Could not reach Salesforce."),
        tr("A network failure (DNS, refused or reset connection, TLS)."),
        tr("It is retried automatically."),
        "API-FACTS Pitfalls",
    ),
    _e(
        "HTTP_300",
        _AV,
        tr("Several Salesforce records share this external id."),
        tr("The external id field is not marked Unique, and two records hold the same value."),
        tr("Ask your admin to remove the duplicate and mark the field Unique."),
        "API-FACTS §2.6",
    ),
    _e(
        "HTTP_414",
        _O,
        tr("A request to Salesforce was too long."),
        tr("The URL went over Salesforce's limit."),
        tr("Report it to support."),
        "API-FACTS §2.10",
    ),
    _e(
        "HTTP_431",
        _O,
        tr("A request to Salesforce was too long."),
        tr("The URL plus headers went over 16,384 bytes."),
        tr("Report it to support."),
        "API-FACTS §2.10",
    ),
    _e(
        "HTTP_500",
        _I,
        tr("Salesforce had an internal error."),
        tr("A Salesforce server error."),
        tr("It is retried automatically."),
        _FACTS,
    ),
    _e(
        "HTTP_502",
        _I,
        tr("Salesforce could not be reached through its gateway."),
        tr("A Salesforce or proxy outage."),
        tr("It is retried automatically."),
        _FACTS,
    ),
    _e(
        "HTTP_503",
        _I,
        tr("Salesforce is unavailable or too busy."),
        tr("Maintenance or too many requests."),
        tr("It is retried automatically."),
        _FACTS,
    ),
    _e(
        "HTTP_504",
        _I,
        tr("Salesforce's gateway timed out."),
        tr("A slow Salesforce answer."),
        tr("It is retried automatically."),
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
        message=(
            tr("Salesforce reported {code}.", code=normalized)
            if normalized
            else tr("Salesforce reported an unknown error.")
        ),
        cause=tr("An error salesync does not recognise."),
        fix=tr("Report it to support with the details shown."),
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
