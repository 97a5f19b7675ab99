"""Sign-in and sign-out pages, "sign out everywhere", and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.services import sign_in as sign_in_service
from salesync.web.deps import BrowserUser, RuntimeDep, SessionDep, client_address, session_user
from salesync.web.templating import render

router = APIRouter()

#: Form fields are bounded like API fields: a sign-in form never needs more.
_EMAIL_MAX = 320
_PASSWORD_MAX = 1024


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this site, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(
    request: Request, runtime: RuntimeDep, browser: SessionDep, next: str = "/"
) -> Response:
    if session_user(runtime, browser) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "email": "", "error": ""})


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    browser: SessionDep,
    email: Annotated[str, Form(max_length=_EMAIL_MAX)] = "",
    password: Annotated[str, Form(max_length=_PASSWORD_MAX)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    address = client_address(request)
    outcome = sign_in_service.sign_in(runtime, email, password, address)
    context = {"next": safe_next(next), "email": email}
    if outcome.throttled:
        seconds = outcome.retry_after_seconds
        context["error"] = f"Too many tries. Try again in {seconds} s."
        answer = render(request, "login.html", context, status_code=429)
        answer.headers["Retry-After"] = str(seconds)
        return answer
    if outcome.user is None:
        context["error"] = "Wrong email or password."
        return render(request, "login.html", context, status_code=401)
    old = browser.session_token
    if old is not None:
        sign_in_service.end_session(runtime, old)
    browser.sign_in(sign_in_service.start_session(runtime, outcome.user.id, address))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(runtime: RuntimeDep, browser: SessionDep) -> Response:
    token = browser.session_token
    if token is not None:
        sign_in_service.end_session(runtime, token)
    browser.sign_out()
    return RedirectResponse("/login", status_code=303)


@router.post("/logout/everywhere")
def logout_everywhere(runtime: RuntimeDep, browser: SessionDep, user: BrowserUser) -> Response:
    """End every session of the caller, this one included."""
    sign_in_service.end_all_sessions(runtime, user.id)
    browser.sign_out()
    return RedirectResponse("/login", status_code=303)


@router.get("/settings/account/password")
def password_form(request: Request, user: BrowserUser) -> Response:
    return render(request, "password.html", {"section": "settings", "errors": {}})


@router.post("/settings/account/password")
def change_password(
    request: Request,
    runtime: RuntimeDep,
    browser: SessionDep,
    user: BrowserUser,
    current_password: Annotated[str, Form(max_length=_PASSWORD_MAX)] = "",
    new_password: Annotated[str, Form(max_length=_PASSWORD_MAX)] = "",
) -> Response:
    """Change one's password; every other browser signed in as this user is signed out."""
    try:
        sign_in_service.change_password(
            runtime, user, current_password, new_password, keep_token=browser.session_token
        )
    except InvalidInput as exc:
        errors = {exc.field or "form": exc.message}
        context = {"section": "settings", "errors": errors}
        return render(request, "password.html", context, status_code=422)
    browser.flash(tr("Your password is changed; your other sessions are signed out."))
    return RedirectResponse("/settings/account", status_code=303)
