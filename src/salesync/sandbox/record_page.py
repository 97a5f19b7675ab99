"""``GET /<record id>``: a plain record page, like Salesforce's record URLs, for people.

salesync links every logged Task to ``<instance_url>/<id>``; on a real org that opens the
record in Lightning. Here the objects the org's pages show (Tasks, Contacts, …) redirect to
their record page (``/lightning/r/<Object>/<id>/view``), as Salesforce does; any other record
is a read-only table of its fields. No API call is counted.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any

from salesync.sandbox.http import ApiResponse, html_response, redirect
from salesync.sandbox.org import Org

#: A 15- or 18-character record id as the whole path.
RECORD_PATH = re.compile(r"^/([0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?)$")


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def record_page(
    org: Org, record_id: str, paged: frozenset[str] = frozenset()
) -> ApiResponse | None:
    """The page for ``record_id``, or None when the org has no such record; a live record of
    an object in ``paged`` redirects to its record page."""
    with org.lock:
        record = org.get_record(record_id)
        if record is None and len(record_id) == 15:
            record = next(
                (r for _, r in org.records.all_items() if str(r.get("Id", ""))[:15] == record_id),
                None,
            )
        if record is None:
            return None
        sobject = org.records.sobject_of(str(record["Id"])) or "Record"
        if sobject in paged and not record.get("IsDeleted"):
            return redirect(f"/lightning/r/{sobject}/{record['Id']}/view")
        rows = "".join(
            f"<tr><th scope=row>{html.escape(name)}</th><td>{html.escape(_text(value))}</td></tr>"
            for name, value in sorted(record.items())
        )
    title = html.escape(f"{sobject} {record.get('Name') or record.get('Subject') or record['Id']}")
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#1b2430}"
        "table{border-collapse:collapse}th,td{text-align:left;padding:.3rem .8rem;"
        "border-bottom:1px solid #e3e7ee;vertical-align:top}th{color:#5b6473;font-weight:600}"
        "</style></head><body>"
        f'<p><a href="/">Sandbox org</a> / {html.escape(sobject)}</p><h1>{title}</h1>'
        f"<table>{rows}</table></body></html>"
    )
    return html_response(200, body)
