"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from salesync.web import team_accounts
from salesync.web.deps import RuntimeDep, SessionDep
from salesync.web.templating import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this site, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, browser: SessionDep, next: str = "/") -> Response:
    if browser.user_id is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "email": "", "error": ""})


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    browser: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = team_accounts.sign_in(runtime, email, password)
    if user is None:
        context = {"next": safe_next(next), "email": email, "error": "Wrong email or password."}
        return render(request, "login.html", context, status_code=401)
    browser.sign_in(user.id)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(browser: SessionDep) -> Response:
    browser.sign_out()
    return RedirectResponse("/login", status_code=303)
