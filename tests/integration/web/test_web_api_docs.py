"""The API reference is served by the app itself: no script or style from another site."""

from __future__ import annotations

import re

from salesync.serving import ServerThread
from tests.integration.web.web_support import anonymous_client


def test_the_api_reference_needs_nothing_from_another_site(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/api/v1/docs")
    assert answer.status_code == 200
    page = answer.text
    assert "GET /api/v1/people/{person_id}" in page
    assert "PersonCreate" in page
    # Every script, stylesheet and image is ours (a relative URL), and the CSP forbids others.
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    assert all(url.startswith(("/", "#")) for url in assets), assets
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_the_openapi_document_is_still_served(server: ServerThread) -> None:
    with anonymous_client(server) as client:
        answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert "/api/v1/people" in answer.json()["paths"]
