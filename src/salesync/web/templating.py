"""Jinja2 templates of the HTML pages and the one function that renders them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import HTMLResponse

from salesync import i18n
from salesync.domain.wording import Translatable
from salesync.web.formatting import day_label, local_time, number, short_date
from salesync.web.languages import language_for
from salesync.web.security import CSRF_FORM_FIELD, PAGE_CONTENT_SECURITY_POLICY, BrowserSession

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

__all__ = [
    "STATIC_DIR",
    "TEMPLATE_DIR",
    "create_templates",
    "local_time",
    "render",
    "template_gettext",
    "template_ngettext",
]


def _local_time_filter(moment: datetime | None, time_zone: str = "UTC") -> str:
    """``{{ moment | local_time(user.time_zone) }}``: in the page's language."""
    return local_time(moment, time_zone, i18n.current_language())


def _number_filter(value: int | float | Decimal | None) -> str:
    """``{{ count | number }}``: grouped as the page's language writes numbers."""
    return number(value, i18n.current_language())


def _short_date_filter(day: date) -> str:
    """``{{ day | short_date }}``: the day and its weekday in the page's language."""
    return short_date(day, i18n.current_language())


def _due_day_filter(day: date | None, today: date) -> str:
    """``{{ task.due_date | due_day(today) }}``: Today, Tomorrow, Overdue or the day."""
    return day_label(day, today, i18n.current_language())


def _escaped_and_filled(
    context: jinja2.runtime.Context, text: str, variables: dict[str, Any]
) -> str:
    # What Jinja's own "newstyle" gettext does: the translation is markup, values are escaped.
    rendered: str = Markup(text) if context.eval_ctx.autoescape else text
    if variables:
        return rendered % variables
    return rendered.replace("%%", "%")


@jinja2.pass_context
def template_gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
    """``{{ _("…") }}`` and ``{% trans %}``: a catalog text, or a value that knows its id."""
    if isinstance(message, Translatable):
        return i18n.translate(message)
    if not variables and message not in i18n.catalog_ids():
        # ``{{ _(value) }}`` of a value the catalogs do not know (a Salesforce message, a
        # name): data, escaped like any other value, never taken for markup.
        return message
    return _escaped_and_filled(context, i18n.translate(message), variables)


@jinja2.pass_context
def template_ngettext(
    context: jinja2.runtime.Context, singular: str, plural: str, n: int, **variables: Any
) -> str:
    """``{% trans count=n %}…{% pluralize %}…{% endtrans %}``."""
    text = i18n.catalog(i18n.current_language()).ngettext(singular, plural, n)
    return _escaped_and_filled(context, text, {"num": n} | variables)


def create_templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        # A typo in a template fails the test that renders it instead of printing nothing.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Whitespace inside {% trans %} is not part of the catalog id (extraction trims it too).
    environment.policies["ext.i18n.trimmed"] = True
    # Our own callables, not install_gettext_callables: its wrapper %-formats every result,
    # which breaks on a Salesforce message or a name that contains "%".
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    environment.globals.update(
        gettext=template_gettext, _=template_gettext, ngettext=template_ngettext
    )
    environment.filters["local_time"] = _local_time_filter
    environment.filters["number"] = _number_filter
    environment.filters["short_date"] = _short_date_filter
    environment.filters["due_day"] = _due_day_filter
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
    language = language_for(request)
    base: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "csrf_token": browser.csrf_token(),
        "flashes": browser.pop_flashes(),
        "section": "",
        "language": language,
    }
    # TemplateResponse renders at once, so the language holds for exactly this page.
    with i18n.use_language(language):
        response = templates.TemplateResponse(
            request, template, base | (context or {}), status_code=status_code
        )
    response.headers["Content-Language"] = language
    response.headers["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
    # Pages show personal data and one-time secrets: never keep them in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response
