"""The web application: HTML pages and the JSON API over the same services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from salesync.metrics import app_registry
from salesync.runtime import Runtime
from salesync.settings import load_secret_key
from salesync.web import api_docs, operations
from salesync.web.api import API_PREFIX, create_api_router
from salesync.web.errors import install_error_handlers
from salesync.web.languages import ReaderLanguageMiddleware
from salesync.web.pages import create_pages_router
from salesync.web.security import (
    SESSION_COOKIE,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    session_signing_key,
)
from salesync.web.templating import STATIC_DIR, create_templates
from salesync.web.tracking import router as tracking_router


def create_app(runtime: Runtime) -> FastAPI:
    """Build the app for one runtime; nothing is read from the environment here."""
    app = FastAPI(
        title="salesync",
        summary="Logs sales emails and calls to Salesforce and syncs reminder tasks.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Our own reference page (web/api_docs.py): Swagger UI would load scripts from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.templates = create_templates()
    app.state.metrics_registry = app_registry(runtime)
    secret_key = load_secret_key(runtime.settings.effective_secret_key_file)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_signing_key(secret_key),
        session_cookie=SESSION_COOKIE,
        # The cookie lives as long as the longest session; the table decides the real end.
        max_age=runtime.settings.session_max_hours * 3600,
        same_site="lax",
        # Browsers drop Secure cookies over plain http, so follow the public address's scheme.
        https_only=runtime.settings.base_url.scheme == "https",
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ReaderLanguageMiddleware)
    # An oversized body is refused before any other work (inside the request id only).
    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.max_request_bytes)
    app.add_middleware(operations.RequestIdMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(create_api_router())
    app.include_router(create_pages_router())
    app.include_router(api_docs.router)
    app.include_router(operations.router)
    # Reached by recipients' mail programs: signed tokens, no sign-in, no CSRF token.
    app.include_router(tracking_router)
    return app
