"""SOQL errors with Salesforce's error codes and message wording."""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"]


class SoqlError(Exception):
    """A query Salesforce would refuse; ``error_code`` and ``message`` go on the wire as is."""

    def __init__(self, error_code: ErrorCode, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code: ErrorCode = error_code
        self.message = message


def unexpected_token(text: str) -> SoqlError:
    """The parser met a token the grammar does not allow there (API-FACTS §2.3)."""
    return SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'")


def malformed(message: str) -> SoqlError:
    """Any other syntax or limit error."""
    return SoqlError("MALFORMED_QUERY", message)


def unsupported_object(name: str) -> SoqlError:
    """FROM names an object the caller cannot see."""
    return SoqlError(
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object,"
        " be sure to append the '__c' after the entity name. Please reference your WSDL or the"
        " describe call for the appropriate names.",
    )


def no_such_column(field: str, entity: str) -> SoqlError:
    """An unknown field, or one hidden by field-level security (API-FACTS §2.3, item 13)."""
    return SoqlError(
        "INVALID_FIELD",
        f"No such column '{field}' on entity '{entity}'. If you are attempting to use a custom"
        " field, be sure to append the '__c' after the custom field name. Please reference your"
        " WSDL or the describe call for the appropriate names.",
    )


def unknown_parent_relationship(name: str) -> SoqlError:
    """A dotted path whose first part is no relationship of the object."""
    return SoqlError(
        "INVALID_FIELD",
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a"
        " custom relationship, be sure to append the '__r' after the custom relationship name."
        " Please reference your WSDL or the describe call for the appropriate names.",
    )


def unknown_child_relationship(name: str) -> SoqlError:
    """A subquery whose FROM is no child relationship of the outer object."""
    return SoqlError(
        "INVALID_TYPE",
        f"Didn't understand relationship '{name}' in FROM part of query call. If you are"
        " attempting to use a custom relationship, be sure to append the '__r' after the custom"
        " relationship name. Please reference your WSDL or the describe call for the appropriate"
        " names.",
    )


def not_filterable(field: str) -> SoqlError:
    """A field without the Filter property in WHERE, e.g. Task.Description (API-FACTS §1)."""
    return SoqlError("INVALID_FIELD", f"field '{field}' can not be filtered in a query call")


def not_sortable(field: str) -> SoqlError:
    """A long text field in ORDER BY."""
    return SoqlError("INVALID_FIELD", f"field '{field}' can not be sorted in a query call")


def wrong_value_type(field: str, soap_type: str, *, quoted: bool) -> SoqlError:
    """A literal of the wrong type for the field it is compared with."""
    quoting = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SoqlError(
        "INVALID_FIELD",
        f"value of filter criterion for field '{field}' must be of type {soap_type} and {quoting}",
    )
