"""The sandbox serves a human record page at /<id>, like a Salesforce record URL (which
redirects to the record's page, as Lightning does)."""

from __future__ import annotations

import httpx


def test_record_url_shows_the_record_and_unknown_ids_are_404(sandbox) -> None:  # type: ignore[no-untyped-def]
    contact_id = sandbox.org.create_record("Contact", {"LastName": "Page", "Email": "p@ex.example"})
    contact = sandbox.org.get_record(contact_id)
    assert contact is not None
    page = httpx.get(f"{sandbox.base_url}/{contact['Id']}", follow_redirects=True)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert str(contact["Email"]) in page.text
    assert "Contact" in page.text
    short = httpx.get(f"{sandbox.base_url}/{str(contact['Id'])[:15]}", follow_redirects=True)
    assert short.status_code == 200 and str(contact["Email"]) in short.text
    assert httpx.get(f"{sandbox.base_url}/0035g0000000zzzAAA").status_code == 404
