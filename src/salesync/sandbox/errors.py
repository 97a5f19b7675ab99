"""Salesforce-shaped errors: top-level arrays, collection items and OAuth bodies (API-FACTS §2.3).

* ApiError: one data-API error; ``body()`` is the top-level ``[{message, errorCode, fields}]``
  array and ``item()`` the ``{statusCode, message, fields}`` form used inside collections.
* OAuthError: an OAuth endpoint error, ``{"error", "error_description"}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Salesforce data-API error with its HTTP status."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def entry(self) -> dict[str, Any]:
        """The ``{message, errorCode[, fields]}`` element of a top-level error array."""
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return entry

    def body(self) -> list[dict[str, Any]]:
        """Top-level error body: always an array (API-FACTS item 6)."""
        return [self.entry()]

    def item(self) -> dict[str, Any]:
        """Error inside a collection result: the key is ``statusCode`` (API-FACTS §2.3)."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}


class OAuthError(Exception):
    """An OAuth endpoint error (API-FACTS §3)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    # API-FACTS §2.3: 401 with the `WWW-Authenticate: Token` header.
    return ApiError(
        401,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
        headers={"WWW-Authenticate": "Token"},
    )


def entity_is_deleted() -> ApiError:
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])


def invalid_type(sobject: str) -> ApiError:
    # msia-rules 1.13 INVALID_TYPE: "sObject type 'Lead' is not supported".
    return ApiError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")


def no_such_column(field: str, sobject: str) -> ApiError:
    # API-FACTS §2.3: the DML wording.
    return ApiError(400, "INVALID_FIELD", f"No such column '{field}' on sobject of type {sobject}")


def no_such_column_on_entity(field: str, sobject: str) -> ApiError:
    # API-FACTS §2.3: the query/read wording.
    return ApiError(400, "INVALID_FIELD", f"No such column '{field}' on entity '{sobject}'")


def not_writable(fields: list[str]) -> ApiError:
    names = ", ".join(fields)
    return ApiError(
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {names}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        fields,
    )


def json_parser_error(detail: str) -> ApiError:
    return ApiError(400, "JSON_PARSER_ERROR", detail)


def insufficient_access() -> ApiError:
    # API-FACTS "still unverified": 400 or 403; most DML errors are 400, so 400 here.
    return ApiError(
        400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", []
    )


def wrong_id(answer: str, label: str, value: str) -> ApiError:
    """A well-formed id that names no record of this object (see OrgSettings.wrong_id_answer)."""
    return malformed_id(label, value) if answer == "MALFORMED_ID" else not_found()


def malformed_id(label: str, value: str, field: str | None = None) -> ApiError:
    return ApiError(
        400,
        "MALFORMED_ID",
        f"{label}: id value of incorrect type: {value}",
        [field] if field else [],
    )
