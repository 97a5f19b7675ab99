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

from salesync.services import engagement, unsubscribes
from salesync.web.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

_NOT_FOUND = "This link is not valid."
_NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


def _client(request: Request) -> tuple[str, str]:
    agent = request.headers.get("user-agent", "")
    ip = request.client.host if request.client else ""
    return agent, ip


def _not_found() -> Response:
    return HTMLResponse(_page("Link not valid", _NOT_FOUND), status_code=404, headers=_NO_STORE)


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
        return _not_found()
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


@router.get("/u/{token}")
def unsubscribe_page(runtime: RuntimeDep, token: str) -> Response:
    named = unsubscribes.recipient_of_token(runtime, token)
    if named is None:
        return _not_found()
    address = escape(named[0])
    body = (
        f"<p>Stop sales emails to <strong>{address}</strong>?</p>"
        f'<form method="post" action="/u/{escape(token, quote=True)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_page("Unsubscribe", body), headers=_NO_STORE)


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
        return _not_found()
    done = f"<p><strong>{escape(address)}</strong> will get no more sales emails from us.</p>"
    return HTMLResponse(_page("Unsubscribed", done), headers=_NO_STORE)


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )
