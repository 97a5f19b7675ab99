"""The frame of the org's web pages: header, tabs, tables and forms, escaped HTML only."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from salesync.sandbox.http import ApiResponse, html_response

#: Tabs in the order Salesforce's Sales app shows them, then the sandbox's own.
OBJECT_TABS = (
    ("Task", "Tasks"),
    ("Contact", "Contacts"),
    ("Lead", "Leads"),
    ("Account", "Accounts"),
    ("Opportunity", "Opportunities"),
)
SETUP_TABS = (("api-calls", "API calls"), ("faults", "Faults"))

_STYLE = """
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
sans-serif;background:#f3f3f3;color:#181818}a{color:#0b5cab;text-decoration:none}
a:hover{text-decoration:underline}header{background:#fff;border-bottom:3px solid #0176d3}
.brand{display:flex;gap:.6rem;align-items:center;padding:.5rem 1.2rem;font-weight:600}
.brand .logo{background:#0176d3;color:#fff;border-radius:50%;width:2rem;height:2rem;
display:grid;place-items:center;font-size:.8rem}.brand small{color:#5c5c5c;font-weight:400}
nav ul{display:flex;flex-wrap:wrap;margin:0;padding:0 1rem;list-style:none}
nav a{display:block;padding:.55rem .9rem;color:#181818;border-bottom:3px solid transparent;
margin-bottom:-3px}nav a[aria-current=page]{border-color:#0176d3;font-weight:600}
main{padding:1rem 1.2rem;max-width:80rem}.card{background:#fff;border:1px solid #dddbda;
border-radius:.25rem;margin-bottom:1rem}.card>h2{font-size:1rem;margin:0;padding:.7rem 1rem;
border-bottom:1px solid #dddbda}.card>.body{padding:.8rem 1rem}h1{font-size:1.4rem;
margin:.2rem 0 .8rem}.kind{color:#5c5c5c;font-size:.8rem;text-transform:uppercase}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .7rem;
border-bottom:1px solid #e5e5e5;vertical-align:top}thead th{background:#fafaf9;
color:#444;font-weight:600;font-size:.8rem;text-transform:uppercase}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.3rem 1rem;margin:0}dt{color:#5c5c5c}
dd{margin:0}form.inline{display:inline}button,.button{font:inherit;border:1px solid #c9c9c9;
background:#fff;color:#0b5cab;border-radius:.25rem;padding:.3rem .8rem;cursor:pointer}
button.brand-button{background:#0176d3;color:#fff;border-color:#0176d3}
button.danger{color:#ba0517}.actions{display:flex;gap:.4rem;margin-bottom:1rem}
label{display:block;margin:.5rem 0 .2rem;color:#444}input,select,textarea{font:inherit;
padding:.35rem;border:1px solid #c9c9c9;border-radius:.25rem;width:100%;max-width:30rem}
.search{display:flex;gap:.4rem;margin-bottom:.8rem}.search input{max-width:20rem}
.empty{color:#5c5c5c;padding:.6rem 1rem}.error{background:#fef1ee;border:1px solid #ea001e;
padding:.6rem 1rem;margin-bottom:1rem}.notice{background:#eef4ff;border:1px solid #0176d3;
padding:.6rem 1rem;margin-bottom:1rem}code{font-size:.85rem}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def cell(value: Any) -> str:
    """A field value as page text: related records by name, datetimes to the minute."""
    if isinstance(value, dict):
        return esc(value.get("Name", ""))
    if isinstance(value, bool):
        return "✓" if value else ""
    text = "" if value is None else str(value)
    if len(text) == 28 and text[10] == "T":  # 2026-12-03T08:31:51.000+0000
        return esc(text[:10] + " " + text[11:16] + " UTC")
    return esc(text)


def record_url(sobject: str, record_id: str) -> str:
    return f"/lightning/r/{sobject}/{record_id}/view"


def list_url(sobject: str) -> str:
    return f"/lightning/o/{sobject}/list"


def link_to(record: dict[str, Any] | None, label: str | None = None) -> str:
    """A link to a record of a query result (its ``attributes`` name its type and id)."""
    if not isinstance(record, dict):
        return ""
    url = str(record.get("attributes", {}).get("url", ""))
    sobject, _, record_id = url.rpartition("/sobjects/")[2].partition("/")
    text = esc(label if label is not None else record.get("Name") or record.get("Subject"))
    if not record_id:
        return text
    return f'<a href="{esc(record_url(sobject, record_id))}">{text}</a>'


def table(
    columns: Sequence[tuple[str, str]],
    rows: Iterable[dict[str, Any]],
    *,
    link_field: str,
    empty: str = "No records to display.",
) -> str:
    """Rows of query results; ``link_field``'s cell links to the row's record page."""
    head = "".join(f'<th scope="col">{esc(label)}</th>' for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for field, _ in columns:
            value = _path(row, field)
            if field == link_field:
                cells.append(f"<td>{link_to(row, str(value or '(no name)'))}</td>")
            elif isinstance(value, dict):
                cells.append(f"<td>{link_to(value)}</td>")
            else:
                cells.append(f"<td>{cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        return f'<p class="empty">{esc(empty)}</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _path(row: dict[str, Any], field: str) -> Any:
    """``Who.Name`` keeps the related record (for its link); plain fields their value."""
    name = field.split(".", 1)[0]
    return row.get(name)


def card(title: str, body: str, *, label: str | None = None) -> str:
    aria = f' aria-label="{esc(label or title)}"'
    return f'<section class="card"{aria}><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, body: str, *, current: str = "", status: int = 200) -> ApiResponse:
    tabs = [("/", "Home", "home")]
    tabs += [(list_url(name), label, name) for name, label in OBJECT_TABS]
    tabs += [(f"/lightning/setup/{name}", label, name) for name, label in SETUP_TABS]
    nav = "".join(
        f'<li><a href="{href}"{_current(key == current)}>{esc(label)}</a></li>'
        for href, label, key in tabs
    )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} | Sandbox org</title><style>{_STYLE}</style></head><body>"
        '<header><div class="brand"><span class="logo" aria-hidden="true">SF</span>'
        "Sandbox org <small>a Salesforce-compatible org for demos and tests</small></div>"
        f'<nav aria-label="Objects"><ul>{nav}</ul></nav></header>'
        f"<main>{body}</main></body></html>"
    )
    return html_response(status, document)


def _current(is_current: bool) -> str:
    return ' aria-current="page"' if is_current else ""


def see_other(location: str) -> ApiResponse:
    """After a form post: show the result page with a GET (Post/Redirect/Get)."""
    return ApiResponse(303, headers={"Location": location}, raw=b"", content_type="text/plain")
