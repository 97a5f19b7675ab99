"""Error translation: every body shape, every class of the tree, and foreign httpx errors."""

from __future__ import annotations

import httpx
import pytest

from salesync.domain.categories import ErrorCategory
from salesync.salesforce.errors import (
    AccessOrValidationError,
    ApiDisabled,
    AuthenticationError,
    IntermittentError,
    NetworkError,
    OtherError,
    RefreshTokenRevoked,
    RequestLimitExceeded,
    RevocationReason,
    SalesforceError,
    SessionExpired,
    error_from_response,
    translate_transport_errors,
)
from salesync.salesforce.results import ApiErrorDetail, CollectionItemResult


def answer(status: int, body: object = None, *, text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text)
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status)


def sf_error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, object]]:
    item: dict[str, object] = {"errorCode": code, "message": message}
    if fields is not None:
        item["fields"] = fields
    return [item]


@pytest.mark.parametrize(
    ("status", "code", "message", "cls", "category"),
    [
        (
            400,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access",
            IntermittentError,
            ErrorCategory.INTERMITTENT,
        ),
        (
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            RequestLimitExceeded,
            ErrorCategory.INTERMITTENT,
        ),
        (
            401,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
            SessionExpired,
            ErrorCategory.AUTHENTICATION,
        ),
        (
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Name]",
            AccessOrValidationError,
            ErrorCategory.ACCESS_VALIDATION,
        ),
        (
            403,
            "API_CURRENTLY_DISABLED",
            "API is disabled for this User",
            ApiDisabled,
            ErrorCategory.ACCESS_VALIDATION,
        ),
        (
            403,
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
            ApiDisabled,
            ErrorCategory.ACCESS_VALIDATION,
        ),
        (400, "MALFORMED_QUERY", "unexpected token: 'FORM'", OtherError, ErrorCategory.OTHER),
        (
            404,
            "ENTITY_IS_DELETED",
            "entity is deleted",
            AccessOrValidationError,
            ErrorCategory.ACCESS_VALIDATION,
        ),
        (400, "A_CODE_NOBODY_KNOWS", "new", OtherError, ErrorCategory.OTHER),
        (500, "A_CODE_NOBODY_KNOWS", "new", IntermittentError, ErrorCategory.INTERMITTENT),
    ],
)
def test_top_level_error_arrays_are_typed_by_error_code(
    status: int, code: str, message: str, cls: type[SalesforceError], category: ErrorCategory
) -> None:
    body = sf_error(code, message, ["Name"])
    error = error_from_response(answer(status, body))
    assert type(error) is cls
    assert error.category is category
    assert (error.error_code, error.message, error.fields, error.status) == (
        code,
        message,
        ("Name",),
        status,
    )
    assert error.raw == body
    assert str(error) == f"{code}: {message}"


def test_missing_fields_key_gives_empty_fields_and_all_details_are_kept() -> None:
    body = [
        {"errorCode": "STRING_TOO_LONG", "message": "Subject: data value too large"},
        {"errorCode": "INVALID_FIELD", "message": "No such column 'Foo' on sobject of type Task"},
    ]
    error = error_from_response(answer(400, body))
    assert error.fields == ()
    assert [d.code for d in error.details] == ["STRING_TOO_LONG", "INVALID_FIELD"]


def test_rest_api_session_variant_is_not_refreshable() -> None:
    body = sf_error("INVALID_SESSION_ID", "This session is not valid for use with the REST API")
    error = error_from_response(answer(401, body))
    assert isinstance(error, AuthenticationError)
    assert not isinstance(error, SessionExpired)


def test_bare_status_without_body_uses_the_http_code() -> None:
    error = error_from_response(answer(503))
    assert isinstance(error, IntermittentError)
    assert error.error_code == "HTTP_503"
    assert error.message == "Salesforce failed for a passing reason; retry later."
    assert error.diagnostic.category is ErrorCategory.INTERMITTENT


def test_non_json_body_is_kept_as_text() -> None:
    error = error_from_response(answer(502, text="<html>Bad gateway</html>"))
    assert isinstance(error, IntermittentError)
    assert error.raw == "<html>Bad gateway</html>"


def test_multiple_external_id_matches_are_an_access_validation_error() -> None:
    body = ["/services/data/v59.0/sobjects/Task/00T000000000001AAA", "/services/.../00T2"]
    error = error_from_response(answer(300, body))
    assert isinstance(error, AccessOrValidationError)
    assert error.error_code == "HTTP_300"
    assert error.raw == body


@pytest.mark.parametrize(
    ("description", "reason", "code"),
    [
        ("expired access/refresh token", RevocationReason.EXPIRED, "EXPIRED_ACCESS"),
        ("inactive user", RevocationReason.INACTIVE_USER, "INACTIVE_USER"),
        ("inactive organization", RevocationReason.INACTIVE_ORG, "INACTIVE_ORGANIZATION"),
        ("ip restricted", RevocationReason.IP_RESTRICTED, "INVALID_GRANT"),
        ("authentication failure", RevocationReason.OTHER, "AUTHENTICATION_FAILURE"),
    ],
)
def test_invalid_grant_on_refresh_is_a_revoked_refresh_token_with_its_reason(
    description: str, reason: RevocationReason, code: str
) -> None:
    body = {"error": "invalid_grant", "error_description": description}
    error = error_from_response(answer(400, body), refreshing=True)
    assert isinstance(error, RefreshTokenRevoked)
    assert error.reason is reason
    assert error.error_code == code
    assert error.category is ErrorCategory.AUTHENTICATION
    assert description in error.message


def test_invalid_grant_outside_refresh_is_an_authentication_error() -> None:
    body = {"error": "invalid_grant", "error_description": "authentication failure"}
    error = error_from_response(answer(400, body))
    assert type(error) is AuthenticationError


def test_other_oauth_errors_use_the_catalog() -> None:
    body = {"error": "invalid_request", "error_description": "invalid code verifier"}
    error = error_from_response(answer(400, body))
    assert isinstance(error, OtherError)
    assert error.error_code == "INVALID_REQUEST"


def test_collection_items_use_status_code() -> None:
    item = {
        "success": False,
        "errors": [
            {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "rolled back"},
            {"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required", "fields": ["Subject"]},
        ],
    }
    result = CollectionItemResult.from_json(item)
    assert not result.ok
    assert result.id is None
    assert result.real_error == ApiErrorDetail("REQUIRED_FIELD_MISSING", "Required", ("Subject",))


def failing_transport(exc: Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ReadTimeout("read timed out"), "NETWORK_TIMEOUT"),
        (httpx.ConnectTimeout("connect timed out"), "NETWORK_TIMEOUT"),
        (httpx.ConnectError("connection refused"), "NETWORK_ERROR"),
        (httpx.RemoteProtocolError("server disconnected"), "NETWORK_ERROR"),
    ],
)
def test_transport_errors_become_network_errors_with_the_cause_chained(
    exc: Exception, code: str
) -> None:
    with failing_transport(exc) as http, pytest.raises(NetworkError) as caught:
        with translate_transport_errors():
            http.get("https://example.my.salesforce.com/services/data/")
    assert caught.value.error_code == code
    assert caught.value.__cause__ is exc
    assert caught.value.status is None
    assert caught.value.category is ErrorCategory.INTERMITTENT


def test_other_httpx_errors_become_other_errors() -> None:
    with pytest.raises(OtherError) as caught:
        with translate_transport_errors():
            raise httpx.TooManyRedirects("loop")
    assert isinstance(caught.value.__cause__, httpx.TooManyRedirects)


def test_record_gone_covers_both_missing_shapes() -> None:
    assert error_from_response(answer(404, sf_error("NOT_FOUND", "gone"))).record_gone
    assert error_from_response(answer(404, sf_error("ENTITY_IS_DELETED", "gone"))).record_gone
    assert not error_from_response(answer(400, sf_error("MALFORMED_ID", "bad"))).record_gone
