"""The language of one request: the reader's choice, their browser's, then their team's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from salesync import i18n
from salesync.domain.languages import choose_language


def _loaded(instance: object, name: str) -> Any:
    """An attribute of a database row as it was loaded, or None: never a lazy load, which on
    a user detached from its session (every request's caller) would raise."""
    if instance is None:
        return None
    state = inspect(instance, raiseerr=False)
    if state is None:  # not a database row
        return getattr(instance, name, None)
    return state.dict.get(name)


def language_for(request: Request) -> str:
    """The language pages and API messages use for this request.

    The services that find the caller (sign-in sessions, API tokens) load their team with
    them, so the team's default language is at hand here.
    """
    user = getattr(request.state, "user", None)
    chosen = _loaded(user, "language") or None
    team_default = _loaded(_loaded(user, "team"), "default_language")
    return choose_language(chosen, request.headers.get("accept-language"), team_default)


class ReaderLanguageMiddleware:
    """Text made while serving a request (messages, labels, API answers) is in the reader's
    language, decided when the text is made: by then the caller is known."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        with i18n.deferred_language(lambda: language_for(request)):
            await self.app(scope, receive, send)
