"""What engagement writes to Salesforce: the email Task's fields and the roll-up fields.

Task fields use the attribute map of spec 1.10 (``viewed`` -> ``MSE_Viewed__c`` ...). The
Most Recent Activity roll-ups (spec 1.10b) are documented by label only, so salesync ships
its own default API names (below, and in docs/engagement.md); an admin may map each to any
field of the org.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from types import MappingProxyType

#: The Task attribute keys engagement updates (spec 1.10; names via the attribute map).
TASK_ENGAGEMENT_KEYS = (
    "viewed",
    "clicked",
    "replied",
    "email_status",
    "email_url",
    "email_template_url",
)
#: Objects that carry roll-ups (API-3 d).
ROLLUP_OBJECTS = ("Lead", "Contact", "Account", "Opportunity")
#: Roll-up key -> our default API name (the same on every object).
DEFAULT_ROLLUP_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "last_sales_activity": "Salesync_Last_Sales_Activity__c",
        "last_sales_activity_date": "Salesync_Last_Sales_Activity_Date__c",
        "last_sales_engagement": "Salesync_Last_Sales_Engagement__c",
        "last_sales_engagement_date": "Salesync_Last_Sales_Engagement_Date__c",
        "last_replied": "Salesync_Last_Replied__c",
    }
)
#: The labels of spec 1.10b each roll-up key stands for.
ROLLUP_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "last_sales_activity": "MSE - Last Activity by Sales",
        "last_sales_activity_date": "MSE - Last Activity by Sales (date)",
        "last_sales_engagement": "MSE - Last Sales Engagement",
        "last_sales_engagement_date": "MSE - Last Sales Engagement (date)",
        "last_replied": "MSE - Last Replied",
    }
)
#: Salesforce field types each roll-up accepts (checked against the org's describe).
ROLLUP_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "last_sales_activity": frozenset({"string", "textarea"}),
        "last_sales_activity_date": frozenset({"datetime"}),
        "last_sales_engagement": frozenset({"string", "textarea"}),
        "last_sales_engagement_date": frozenset({"datetime"}),
        "last_replied": frozenset({"datetime"}),
    }
)


@dataclasses.dataclass(frozen=True)
class EngagementState:
    """One email's engagement, people only (machines are left out)."""

    subject: str
    sent_at: dt.datetime
    opens: int = 0
    last_open_at: dt.datetime | None = None
    clicks: int = 0
    last_click_at: dt.datetime | None = None
    last_clicked_url: str | None = None
    replied_at: dt.datetime | None = None
    email_url: str | None = None
    template_url: str | None = None


def email_status(state: EngagementState) -> str:
    """The furthest the email got: sent, opened, clicked, replied (spec 1.10 Email Status)."""
    if state.replied_at is not None:
        return "replied"
    if state.clicks:
        return "clicked"
    if state.opens:
        return "opened"
    return "sent"


def task_values(state: EngagementState) -> dict[str, object]:
    """Attribute key -> value for the email's Task."""
    values: dict[str, object] = {
        "viewed": state.opens > 0,
        "clicked": state.clicks > 0,
        "replied": state.replied_at is not None,
        "email_status": email_status(state),
    }
    if state.email_url:
        values["email_url"] = state.email_url
    if state.template_url:
        values["email_template_url"] = state.template_url
    return values


def rollup_values(state: EngagementState) -> dict[str, object]:
    """Roll-up key -> value for the records the email was about."""
    values: dict[str, object] = {
        "last_sales_activity": f"Email: {state.subject}"[:255],
        "last_sales_activity_date": _iso(state.sent_at),
    }
    latest = _latest_engagement(state)
    if latest is not None:
        what, at = latest
        values["last_sales_engagement"] = f"{what}: {state.subject}"[:255]
        values["last_sales_engagement_date"] = _iso(at)
    if state.replied_at is not None:
        values["last_replied"] = _iso(state.replied_at)
    return values


def _latest_engagement(state: EngagementState) -> tuple[str, dt.datetime] | None:
    moments = [
        ("Replied", state.replied_at),
        ("Clicked", state.last_click_at),
        ("Opened", state.last_open_at),
    ]
    known = [(what, at) for what, at in moments if at is not None]
    return max(known, key=lambda pair: pair[1]) if known else None


def newer_rollup(
    current: Mapping[str, object], candidate: Mapping[str, object]
) -> dict[str, object]:
    """Merge two emails' roll-ups for one record: each date field keeps the later value, and
    its text field follows it."""
    merged = dict(current)
    pairs = (
        ("last_sales_activity_date", "last_sales_activity"),
        ("last_sales_engagement_date", "last_sales_engagement"),
        ("last_replied", None),
    )
    for date_key, text_key in pairs:
        new = candidate.get(date_key)
        old = merged.get(date_key)
        if new is not None and (old is None or str(new) > str(old)):
            merged[date_key] = new
            if text_key is not None and text_key in candidate:
                merged[text_key] = candidate[text_key]
    return merged


def fingerprint(values: Mapping[str, object]) -> str:
    """A stable hash of field values: equal values, equal hash (so nothing is written twice)."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_rollup_map(
    mapping: Mapping[str, str], described: Mapping[str, Mapping[str, tuple[str, bool]]]
) -> dict[str, str]:
    """Problems with an admin's roll-up field map against the org, by ``Object.key``.

    ``described`` is object -> field API name -> (type, updateable) from the org's describe.
    An empty result means every mapped field exists, has a fitting type and is editable.
    """
    problems: dict[str, str] = {}
    unknown = sorted(set(mapping) - set(DEFAULT_ROLLUP_FIELDS))
    for key in unknown:
        problems[key] = f"{key} is not a roll-up salesync writes"
    for sobject in ROLLUP_OBJECTS:
        fields = {name.lower(): (name, info) for name, info in described.get(sobject, {}).items()}
        for key, api_name in mapping.items():
            if key in unknown:
                continue
            found = fields.get(api_name.lower())
            if found is None:
                problems[f"{sobject}.{key}"] = f"{sobject} has no field {api_name}"
                continue
            field_type, updateable = found[1]
            if field_type not in ROLLUP_TYPES[key]:
                allowed = " or ".join(sorted(ROLLUP_TYPES[key]))
                problems[f"{sobject}.{key}"] = (
                    f"{sobject}.{api_name} is a {field_type} field; {key} needs {allowed}"
                )
            elif not updateable:
                problems[f"{sobject}.{key}"] = f"{sobject}.{api_name} is not editable"
    return problems


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
