"""Error catalog: every documented code, its category, fix text and the fallbacks."""

from __future__ import annotations

import pytest

from salesync.domain.categories import ErrorCategory
from salesync.domain.error_catalog import (
    NETWORK_ERROR,
    NETWORK_TIMEOUT,
    classify,
    http_status_code,
    is_known,
    known_codes,
    lookup,
    oauth_error_code,
)

INTER = ErrorCategory.INTERMITTENT
AUTH = ErrorCategory.AUTHENTICATION
AV = ErrorCategory.ACCESS_VALIDATION
OTHER = ErrorCategory.OTHER

# msia-rules §1.13, copied row by row from the spec's table.
DIAGNOSTICS_TABLE = {
    "API_CURRENTLY_DISABLED": AV,
    "AUTHENTICATION_FAILURE": AUTH,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": AV,
    "CANNOT_UPDATE_CONVERTED_LEAD": OTHER,
    "ENTITY_IS_LOCKED": AV,
    "EXPIRED_ACCESS": AUTH,
    "FAILED_WRITE": INTER,
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": AV,
    "FIELD_FILTER_VALIDATION_EXCEPTION": AV,
    "FIELD_INTEGRITY_EXCEPTION": AV,
    "INACTIVE_ORGANIZATION": AUTH,
    "INACTIVE_USER": AUTH,
    "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE": INTER,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": AV,
    "INSUFFICIENT_ACCESS_OR_READONLY": AV,
    "INVALID_FIELD": INTER,
    "INVALID_FIELD_FOR_INSERT_UPDATE": AV,
    "INVALID_GRANT": AUTH,
    "INVALID_TYPE": AV,
    "QUERY_TIMEOUT": INTER,
    "REQUEST_LIMIT_EXCEEDED": INTER,
    "REQUIRED_FIELD_MISSING": AV,
    "SERVER_UNAVAILABLE": INTER,
    "TXN_SECURITY_NO_ACCESS": AV,
    "UNABLE_TO_LOCK_ROW": INTER,
    "UNKNOWN_EXCEPTION": OTHER,
}

# API-FACTS §2.3 and its pitfalls list ("Permanent ..." / "Transient ..." / "Auth ...").
API_FACTS_TABLE = {
    "INVALID_SESSION_ID": AUTH,
    "NOT_FOUND": OTHER,
    "ENTITY_IS_DELETED": AV,
    "STRING_TOO_LONG": AV,
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": AV,
    "JSON_PARSER_ERROR": OTHER,
    "MALFORMED_QUERY": OTHER,
    "MALFORMED_ID": OTHER,
    "INVALID_CROSS_REFERENCE_KEY": AV,
    "DUPLICATE_VALUE": AV,
    "API_DISABLED_FOR_ORG": AV,
    "EXCEEDED_ID_LIMIT": OTHER,
    "INVALID_REPLICATION_DATE": OTHER,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": INTER,
    "PROCESSING_HALTED": INTER,
    NETWORK_TIMEOUT: INTER,
    NETWORK_ERROR: INTER,
    "HTTP_500": INTER,
    "HTTP_503": INTER,
}


@pytest.mark.parametrize(("code", "category"), sorted(DIAGNOSTICS_TABLE.items()))
def test_every_diagnostics_code_has_its_documented_category(
    code: str, category: ErrorCategory
) -> None:
    assert is_known(code)
    assert lookup(code).category is category
    assert classify(code, 400) is category


@pytest.mark.parametrize(("code", "category"), sorted(API_FACTS_TABLE.items()))
def test_api_facts_codes_are_catalogued(code: str, category: ErrorCategory) -> None:
    assert is_known(code)
    assert lookup(code).category is category


@pytest.mark.parametrize("code", sorted(known_codes()))
def test_every_entry_speaks_to_a_person(code: str) -> None:
    entry = lookup(code)
    assert entry.code == code
    for text in (entry.message, entry.cause, entry.fix):
        assert text.strip()
        assert text.endswith((".", ")")), text
    assert entry.source


def test_lookup_is_case_insensitive() -> None:
    assert lookup("unable_to_lock_row") == lookup("UNABLE_TO_LOCK_ROW")


def test_unknown_code_falls_back_to_other_and_names_the_code() -> None:
    entry = lookup("SOMETHING_NEW")
    assert entry.category is OTHER
    assert "SOMETHING_NEW" in entry.message
    assert not is_known("SOMETHING_NEW")


@pytest.mark.parametrize(
    ("code", "status", "category"),
    [
        (None, 500, INTER),
        (None, 502, INTER),
        ("BRAND_NEW_CODE", 503, INTER),
        (None, 429, INTER),
        (None, 401, AUTH),
        (None, 400, OTHER),
        ("BRAND_NEW_CODE", 404, OTHER),
        (None, None, OTHER),
        # A known code wins over the status (API-FACTS: UNABLE_TO_LOCK_ROW may come as 500).
        ("UNABLE_TO_LOCK_ROW", 500, INTER),
        ("REQUIRED_FIELD_MISSING", 500, AV),
        ("REQUEST_LIMIT_EXCEEDED", 403, INTER),
    ],
)
def test_classify_fallbacks(code: str | None, status: int | None, category: ErrorCategory) -> None:
    assert classify(code, status) is category


@pytest.mark.parametrize(
    ("error", "description", "code"),
    [
        ("invalid_grant", "expired access/refresh token", "EXPIRED_ACCESS"),
        ("invalid_grant", "inactive user", "INACTIVE_USER"),
        ("invalid_grant", "inactive organization", "INACTIVE_ORGANIZATION"),
        ("invalid_grant", "ip restricted", "INVALID_GRANT"),
        ("invalid_grant", "authentication failure", "AUTHENTICATION_FAILURE"),
        ("invalid_grant", "something else entirely", "AUTHENTICATION_FAILURE"),
        ("invalid_client_id", "client identifier invalid", "INVALID_CLIENT_ID"),
        ("OAUTH_APP_BLOCKED", "this app is blocked by admin", "OAUTH_APP_BLOCKED"),
    ],
)
def test_oauth_errors_map_to_catalog_codes(error: str, description: str, code: str) -> None:
    assert oauth_error_code(error, description) == code
    assert is_known(code)
    assert lookup(code).category is AUTH


def test_http_status_codes_name_the_status() -> None:
    assert http_status_code(503) == "HTTP_503"
    assert lookup(http_status_code(503)).category is INTER
