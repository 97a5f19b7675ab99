"""One translation of salesync errors to HTTP: JSON under /api, an HTML page elsewhere.

InvalidInput -> 422 ``{"detail": [{"field": ..., "message": ...}]}``, NotFound -> 404,
PermissionDenied -> 403, Conflict -> 409; request validation by FastAPI uses the same 422
shape. Nobody signed in -> 401 on the API, a redirect to /login on pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from salesync.domain.task_import import ImportProblem
from salesync.domain.wording import tr
from salesync.errors import (
    Conflict,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SalesyncError,
)
from salesync.i18n import translate
from salesync.services.activities import SendFailed
from salesync.services.people import InvalidPerson
from salesync.services.tasks import InvalidTaskImport
from salesync.web.deps import SignInRequired
from salesync.web.languages import language_for
from salesync.web.templating import render

API_PREFIX = "/api/"

_STATUS_BY_ERROR: tuple[tuple[type[SalesyncError], int], ...] = (
    (InvalidInput, 422),
    (NotFound, 404),
    (PermissionDenied, 403),
    (Conflict, 409),
    (DatabaseUnavailable, 503),
    # The mail server (an upstream) refused: the email was not sent and is kept as failed.
    (SendFailed, 502),
)
_TITLES = {
    401: tr("Please sign in"),
    403: tr("Not allowed"),
    404: tr("Not found"),
    405: tr("Not allowed"),
    409: tr("Conflict"),
    502: tr("The mail server refused"),
    422: tr("Please check the input"),
    503: tr("Unavailable"),
}
#: pydantic's messages that read well as they are, marked so they follow the reader's language.
_PYDANTIC_MESSAGES = {
    "missing": tr("Field required"),
    "int_parsing": tr("Input should be a valid integer, unable to parse string as an integer"),
    "int_type": tr("Input should be a valid integer"),
    "string_type": tr("Input should be a valid string"),
    "bool_parsing": tr("Input should be a valid boolean, unable to interpret input"),
    "bool_type": tr("Input should be a valid boolean"),
    "list_type": tr("Input should be a valid list"),
    "dict_type": tr("Input should be a valid dictionary"),
    "model_attributes_type": tr(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "json_invalid": tr("JSON decode error"),
    "extra_forbidden": tr("Extra inputs are not permitted"),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def import_problem(problem: ImportProblem, language: str | None = None) -> dict[str, Any]:
    """A problem of an imported file, with the row and column it is in (row None: the file)."""
    return {
        "field": problem.field,
        "message": _in(problem.message, language),
        "row": problem.row,
        "column": problem.column,
    }


def field_problems(exc: InvalidInput, language: str | None = None) -> list[dict[str, Any]]:
    """The 422 body's list: every bad field with its message (in ``language``, if given)."""
    if isinstance(exc, InvalidPerson):
        return [{"field": p.field, "message": _in(p.message, language)} for p in exc.problems]
    if isinstance(exc, InvalidTaskImport):
        return [import_problem(p, language) for p in exc.problems]
    return [{"field": exc.field, "message": _in(exc.message, language)}]


def _in(message: str, language: str | None) -> str:
    """Our message in the reader's language; a message we did not write stays as it is."""
    return translate(message, language) if language else message


def _message(error: Any) -> str:
    """pydantic's message, in the words our own validation uses for the same problems."""
    kind, context = error.get("type"), error.get("ctx") or {}
    if kind in ("string_too_long", "too_long") and "max_length" in context:
        if isinstance(error.get("input"), str):
            return tr("is longer than {max_length} characters", max_length=context["max_length"])
        return tr("has more than {max_length} items", max_length=context["max_length"])
    text = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    known = _PYDANTIC_MESSAGES.get(str(kind))
    return known if known is not None and known == text else text


def _validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        # Drop "body"/"query"/"path": clients name fields, not where they were sent.
        field = ".".join(location[1:]) or ".".join(location)
        problems.append({"field": field, "message": _message(error)})
    return problems


def _error_response(request: Request, status: int, detail: Any, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=status)
    language = language_for(request)
    # Already in the reader's language: the page shows these as they are.
    title = translate(_TITLES.get(status, tr("Something went wrong")), language)
    context = {
        "title": title,
        "message": _in(message, language),
        "problems": detail if status == 422 else [],
    }
    return render(request, "error.html", context, status_code=status)


async def handle_salesync_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SalesyncError)
    status = next((code for kind, code in _STATUS_BY_ERROR if isinstance(exc, kind)), 500)
    language = language_for(request)
    detail: Any = (
        field_problems(exc, language)
        if isinstance(exc, InvalidInput)
        else translate(exc.message, language)
    )
    return _error_response(request, status, detail, exc.message)


async def handle_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    language = language_for(request)
    problems = [
        {**p, "message": translate(p["message"], language)} for p in _validation_problems(exc)
    ]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return _error_response(request, 422, problems, summary)


#: What the framework says for a bare status ("Not Found"), in words the catalogs know.
_FRAMEWORK_DETAILS = {
    "Not Found": tr("This page does not exist."),
    "Method Not Allowed": tr("This address does not accept this kind of request."),
}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    message = _FRAMEWORK_DETAILS.get(str(exc.detail), str(exc.detail))
    return _error_response(request, exc.status_code, exc.detail, message)


async def handle_sign_in_required(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"}
        message = translate(str(exc.args[0]) if exc.args else str(exc), language_for(request))
        return JSONResponse({"detail": message}, status_code=401, headers=headers)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"  # a form post cannot be replayed after signing in
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SalesyncError, handle_salesync_error)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(SignInRequired, handle_sign_in_required)
