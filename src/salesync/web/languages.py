"""The language of one request: the reader's choice, their browser's, then their team's."""

from __future__ import annotations

from starlette.requests import Request

from salesync.domain.languages import choose_language


def language_for(request: Request) -> str:
    """The language pages and API messages use for this request."""
    user = getattr(request.state, "user", None)
    chosen = getattr(user, "language", None) or None
    team = getattr(user, "team", None)
    team_default = getattr(team, "default_language", None)
    return choose_language(chosen, request.headers.get("accept-language"), team_default)
