"""Jinja2 templates of the HTML pages and the one function that renders them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from salesync.web.security import CSRF_FORM_FIELD, PAGE_CONTENT_SECURITY_POLICY, BrowserSession

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def local_time(moment: datetime | None, time_zone: str = "UTC") -> str:
    """A stored UTC moment as the reader's local date and time ("2026-03-02 16:30")."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


def create_templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        # A typo in a template fails the test that renders it instead of printing nothing.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local_time"] = local_time
    environment.globals["csrf_field_name"] = CSRF_FORM_FIELD
    return Jinja2Templates(env=environment)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with what every page needs: the user, the CSRF token, pending notes."""
    templates: Jinja2Templates = request.app.state.templates
    browser = BrowserSession(request.session)
    base: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "csrf_token": browser.csrf_token(),
        "flashes": browser.pop_flashes(),
        "section": "",
    }
    response = templates.TemplateResponse(
        request, template, base | (context or {}), status_code=status_code
    )
    response.headers["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
    # Pages show personal data and one-time secrets: never keep them in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response
