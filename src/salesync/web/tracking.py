"""Routes the recipients' mail programs reach: the tracking pixel, tracked links, unsubscribe.

They need no sign-in and carry no CSRF token (a mail program's one-click POST cannot), so
they live outside the pages router. Each one verifies a signed token first: a forged or
altered token answers 404, and a tracked link only ever redirects to the link stored with
its email. Unsubscribing takes a POST (the page's button, or RFC 8058 one-click), so link
scanners that follow every link cannot unsubscribe anybody.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from salesync import i18n
from salesync.domain.languages import choose_language
from salesync.domain.wording import Translatable, tr
from salesync.services import engagement, unsubscribes
from salesync.web.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


def _client(request: Request) -> tuple[str, str]:
    agent = request.headers.get("user-agent", "")
    ip = request.client.host if request.client else ""
    return agent, ip


def _language(request: Request) -> str:
    """The visitor's browser language: recipients have no account to choose one."""
    return choose_language(None, request.headers.get("accept-language"), None)


def _html(language: str, text: Translatable, **markup: str) -> str:
    """``text`` in ``language``, escaped, its placeholders filled with ready ``markup``."""
    return escape(i18n.catalog(language).gettext(text.msgid), quote=False).format(**markup)


def _not_found(request: Request) -> Response:
    language = _language(request)
    return _response(
        language,
        _html(language, tr("Link not valid")),
        "<p>" + _html(language, tr("This link is not valid.")) + "</p>",
        status_code=404,
    )


@router.get("/t/o/{token}.gif")
def tracking_pixel(request: Request, runtime: RuntimeDep, token: str) -> Response:
    agent, ip = _client(request)
    recorded = engagement.record_event(runtime, token, kind="open", user_agent=agent, ip=ip)
    if recorded is None:
        return Response(status_code=404, headers=_NO_STORE)
    return Response(engagement.PIXEL_GIF, media_type="image/gif", headers=_NO_STORE)


@router.get("/t/c/{token}")
def tracked_link(request: Request, runtime: RuntimeDep, token: str) -> Response:
    agent, ip = _client(request)
    url = engagement.record_event(runtime, token, kind="click", user_agent=agent, ip=ip)
    if not url:
        return _not_found(request)
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


@router.get("/u/{token}")
def unsubscribe_page(request: Request, runtime: RuntimeDep, token: str) -> Response:
    named = unsubscribes.recipient_of_token(runtime, token)
    if named is None:
        return _not_found(request)
    language = _language(request)
    address = f"<strong>{escape(named[0])}</strong>"
    button = _html(language, tr("Unsubscribe"))
    body = (
        "<p>" + _html(language, tr("Stop sales emails to {address}?"), address=address) + "</p>"
        f'<form method="post" action="/u/{escape(token, quote=True)}">'
        f'<button type="submit">{button}</button></form>'
    )
    return _response(language, button, body)


@router.post("/u/{token}")
async def unsubscribe(request: Request, runtime: RuntimeDep, token: str) -> Response:
    """The page's button, or a mail program's RFC 8058 one-click POST."""
    # RFC 8058 §3.1: the body is "List-Unsubscribe=One-Click"; bounded, it is a few bytes.
    body = (await request.body())[:1000]
    one_click = b"list-unsubscribe=one-click" in body.lower()
    address = await run_in_threadpool(
        unsubscribes.unsubscribe_by_token, runtime, token, one_click=one_click
    )
    if address is None:
        return _not_found(request)
    language = _language(request)
    done = _html(
        language,
        tr("{address} will get no more sales emails from us."),
        address=f"<strong>{escape(address)}</strong>",
    )
    return _response(language, _html(language, tr("Unsubscribed")), f"<p>{done}</p>")


def _response(language: str, title: str, body: str, *, status_code: int = 200) -> Response:
    page = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )
    headers = {**_NO_STORE, "Content-Language": language}
    return HTMLResponse(page, status_code=status_code, headers=headers)
