"""The sandbox's own pages for demos: the log of API calls, and switches that make the org
misbehave the way real orgs do (outages, expired sessions, the daily limit, slow answers)."""

from __future__ import annotations

from typing import Any

from salesync.sandbox.http import ApiResponse
from salesync.sandbox.ui_client import OrgConsole, OrgRefused
from salesync.sandbox.ui_layout import card, esc, page, see_other

#: Calls the log page lists, newest first.
CALLS_SHOWN = 200

#: Fault switches: key -> (label, what the org then answers, the control-plane fault).
FAULT_PRESETS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "outage": (
        "Salesforce is down",
        "every API call answers 503 SERVER_UNAVAILABLE",
        {
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "Service temporarily unavailable",
        },
    ),
    "session": (
        "Session expired",
        "every API call answers 401 INVALID_SESSION_ID (salesync refreshes its token)",
        {"status": 401, "errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"},
    ),
    "limit": (
        "Daily API limit reached",
        "every API call answers 403 REQUEST_LIMIT_EXCEEDED",
        {
            "status": 403,
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
            "message": "TotalRequests Limit exceeded.",
        },
    ),
    "slow": ("Slow answers", "every API call waits 2 seconds first", {"latencyMs": 2000}),
    "lost": (
        "Lost responses",
        "the next 3 writes are saved, then the connection drops before the answer",
        {"method": "POST", "dropAfterCommit": True, "times": 3},
    ),
}


def api_calls(console: OrgConsole) -> ApiResponse:
    report = console.api_calls()
    calls = list(reversed(report.get("calls", [])))[:CALLS_SHOWN]
    per_client = (
        ", ".join(
            f"{esc(client)}: {count}" for client, count in report.get("perClient", {}).items()
        )
        or "none yet"
    )
    rows = "".join(
        f"<tr><td>{esc(c['at'])}</td><td>{esc(c['user'])}</td><td>{esc(c['method'])}</td>"
        f"<td><code>{esc(c['path'])}</code></td><td>{esc(c['client'])}</td></tr>"
        for c in calls
    )
    listing = (
        '<table><thead><tr><th scope="col">At</th><th scope="col">User</th>'
        '<th scope="col">Method</th><th scope="col">Path</th><th scope="col">Client</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="empty">No API calls yet.</p>'
    )
    body = (
        "<h1>API calls</h1>"
        f"<p>{int(report.get('last24h', 0)):,} calls in the last 24 hours of a daily limit of "
        f"{int(report.get('dailyCap', 0)):,}; by client: {per_client}.</p>"
        + card(f"Latest calls ({len(calls)})", listing, label="API call log")
    )
    return page("API calls", body, current="api-calls")


def faults(console: OrgConsole, error: str = "") -> ApiResponse:
    active = console.faults()
    switches = "".join(
        '<form class="inline" method="post" action="/lightning/setup/faults">'
        f'<input type="hidden" name="preset" value="{key}">'
        f'<button title="{esc(effect)}">{esc(label)}</button></form> '
        for key, (label, effect, _) in FAULT_PRESETS.items()
    )
    explained = "".join(
        f"<li><strong>{esc(label)}</strong>: {esc(effect)}</li>"
        for label, effect, _ in FAULT_PRESETS.values()
    )
    rows = "".join(
        f"<tr><td>{fault['id']}</td><td>{esc(fault['method'])} <code>{esc(fault['path'])}</code>"
        f"</td><td>{esc(_effect(fault))}</td><td>{fault['hits']}</td>"
        f"<td>{'' if fault['times'] is None else fault['times']}</td><td>"
        '<form class="inline" method="post" action="/lightning/setup/faults">'
        f'<input type="hidden" name="remove" value="{fault["id"]}">'
        "<button>Remove</button></form></td></tr>"
        for fault in active
    )
    listing = (
        '<table><thead><tr><th scope="col">#</th><th scope="col">Matches</th>'
        '<th scope="col">Effect</th><th scope="col">Hits</th><th scope="col">Times left</th>'
        f'<th scope="col"></th></tr></thead><tbody>{rows}</tbody></table>'
        '<div class="body"><form method="post" action="/lightning/setup/faults">'
        '<input type="hidden" name="clear" value="1"><button>Clear all faults</button></form></div>'
        if rows
        else '<p class="empty">The org behaves normally.</p>'
    )
    error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = (
        f"<h1>Faults</h1>{error_html}"
        + card("Switch on", f'<div class="body"><p>{switches}</p><ul>{explained}</ul></div>')
        + card(f"Active faults ({len(active)})", listing, label="Active faults")
    )
    return page("Faults", body, current="faults")


def _effect(fault: dict[str, Any]) -> str:
    parts = []
    if fault.get("status"):
        parts.append(f"{fault['status']} {fault['errorCode']}")
    if fault.get("latencyMs"):
        parts.append(f"waits {fault['latencyMs']} ms")
    if fault.get("dropAfterCommit"):
        parts.append("drops the answer after saving")
    return ", ".join(parts) or "none"


def change_faults(console: OrgConsole, form: dict[str, str]) -> ApiResponse:
    try:
        if form.get("preset") in FAULT_PRESETS:
            console.add_fault(FAULT_PRESETS[form["preset"]][2])
        elif form.get("remove", "").isdigit():
            console.remove_fault(int(form["remove"]))
        elif form.get("clear"):
            console.clear_faults()
    except OrgRefused as exc:
        return faults(console, str(exc))
    return see_other("/lightning/setup/faults")
