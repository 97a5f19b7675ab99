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
from salesync.errors import (
    Conflict,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SalesyncError,
)
from salesync.services.activities import SendFailed
from salesync.services.people import InvalidPerson
from salesync.services.tasks import InvalidTaskImport
from salesync.web.deps import SignInRequired
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
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    502: "The mail server refused",
    422: "Please check the input",
    503: "Unavailable",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def import_problem(problem: ImportProblem) -> dict[str, Any]:
    """A problem of an imported file, with the row and column it is in (row None: the file)."""
    return {
        "field": problem.field,
        "message": problem.message,
        "row": problem.row,
        "column": problem.column,
    }


def field_problems(exc: InvalidInput) -> list[dict[str, Any]]:
    """The 422 body's list: every bad field with its message."""
    if isinstance(exc, InvalidPerson):
        return [{"field": p.field, "message": p.message} for p in exc.problems]
    if isinstance(exc, InvalidTaskImport):
        return [import_problem(p) for p in exc.problems]
    return [{"field": exc.field, "message": exc.message}]


def _message(error: Any) -> str:
    """pydantic's message, in the words our own validation uses for the same problems."""
    kind, context = error.get("type"), error.get("ctx") or {}
    if kind in ("string_too_long", "too_long") and "max_length" in context:
        if isinstance(error.get("input"), str):
            return f"is longer than {context['max_length']} characters"
        return f"has more than {context['max_length']} items"
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


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
    title = _TITLES.get(status, "Something went wrong")
    context = {"title": title, "message": message, "problems": detail if status == 422 else []}
    return render(request, "error.html", context, status_code=status)


async def handle_salesync_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SalesyncError)
    status = next((code for kind, code in _STATUS_BY_ERROR if isinstance(exc, kind)), 500)
    detail: Any = field_problems(exc) if isinstance(exc, InvalidInput) else exc.message
    return _error_response(request, status, detail, exc.message)


async def handle_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = _validation_problems(exc)
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return _error_response(request, 422, problems, summary)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    return _error_response(request, exc.status_code, exc.detail, str(exc.detail))


async def handle_sign_in_required(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse({"detail": str(exc)}, status_code=401, headers=headers)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"  # a form post cannot be replayed after signing in
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SalesyncError, handle_salesync_error)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(SignInRequired, handle_sign_in_required)
