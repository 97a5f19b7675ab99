"""Request dependencies: the runtime, the browser session, the caller and their role.

A request that carries an ``Authorization`` header is authenticated by its API token only
(never by the cookie too); any other request by the browser session cookie.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from salesync.domain.wording import tr
from salesync.errors import PermissionDenied
from salesync.runtime import Runtime
from salesync.services import sign_in
from salesync.store.tables import Role, User
from salesync.web import team_accounts
from salesync.web.security import CSRF_FORM_FIELD, CSRF_HEADER, SAFE_METHODS, BrowserSession


class SignInRequired(Exception):
    """Nobody is signed in: pages send the browser to /login, the API answers 401."""


# The dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency
# in its thread pool, and on the API's hot path (POST /api/v1/emails) each such hop between
# the event loop and a worker thread cost more than the work itself.


async def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


async def get_browser_session(request: Request) -> BrowserSession:
    return BrowserSession(request.session)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[BrowserSession, Depends(get_browser_session)]

bearer_scheme = HTTPBearer(
    auto_error=False, description="A personal API token: `Authorization: Bearer ssk_…`"
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _uses_token(request: Request) -> bool:
    return "authorization" in request.headers


def _token_user(runtime: Runtime, credentials: HTTPAuthorizationCredentials | None) -> User:
    user = team_accounts.user_for_token(runtime, credentials.credentials) if credentials else None
    if user is None:
        raise SignInRequired(tr("the API token is missing, invalid or revoked"))
    return user


def client_address(request: Request) -> str:
    """The peer's address, as throttling counts it (no proxy header is trusted)."""
    return request.client.host if request.client else ""


def session_user(runtime: Runtime, browser: BrowserSession) -> User | None:
    """The user of the browser's server-side session, if it is still live."""
    token = browser.session_token
    user = sign_in.session_user(runtime, token) if token is not None else None
    if user is None and token is not None:
        browser.sign_out()  # ended, expired or deactivated: forget it in this browser too
    return user


def _cookie_user(runtime: Runtime, browser: BrowserSession) -> User:
    user = session_user(runtime, browser)
    if user is None:
        raise SignInRequired(tr("sign in first"))
    return user


def current_user(
    request: Request, runtime: RuntimeDep, browser: SessionDep, credentials: BearerDep
) -> User:
    """The signed-in caller; raises SignInRequired."""
    if _uses_token(request):
        user = _token_user(runtime, credentials)
    else:
        user = _cookie_user(runtime, browser)
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if user.role != Role.ADMIN:
        raise PermissionDenied(tr("this is for admins only"))
    return user


AdminUser = Annotated[User, Depends(admin_user)]


async def browser_user(request: Request, user: CurrentUser) -> User:
    """The caller, who must be signed in with the browser (not an API token)."""
    if _uses_token(request):
        raise PermissionDenied(tr("this needs a signed-in browser session, not an API token"))
    return user


BrowserUser = Annotated[User, Depends(browser_user)]


def _refuse_csrf() -> PermissionDenied:
    return PermissionDenied(
        tr("the request did not carry this session's CSRF token; reload the page and try again")
    )


async def check_api_csrf(request: Request, browser: SessionDep) -> None:
    """A write to the JSON API with the session cookie must echo the CSRF token in a header.

    Token-authenticated and anonymous requests need none: a browser never sends a token by
    itself, and an anonymous request is refused as unauthenticated anyway.
    """
    if request.method in SAFE_METHODS or _uses_token(request) or browser.session_token is None:
        return
    if not browser.csrf_matches(request.headers.get(CSRF_HEADER)):
        raise _refuse_csrf()


async def check_form_csrf(request: Request, browser: SessionDep) -> None:
    """Every POST of a page form (sign-in included) must carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    candidate = request.headers.get(CSRF_HEADER)
    if candidate is None:
        form = await request.form()
        value = form.get(CSRF_FORM_FIELD)
        candidate = value if isinstance(value, str) else None
    if not browser.csrf_matches(candidate):
        raise _refuse_csrf()
