"""Opens, clicks and replies of sent emails, and the updates they queue for Salesforce.

Every event only changes local rows and makes sure one ``engagement_update`` item is queued
for the email; many events on one email before the worker runs become one update, and the
worker sends all queued updates in batches through sObject Collections (docs/engagement.md).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from salesync.domain import machine_opens, opt_out_schedule, tracking_body, tracking_tokens
from salesync.domain.engagement_fields import DEFAULT_ROLLUP_FIELDS
from salesync.domain.tracking_tokens import TrackingToken
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, PermissionDenied
from salesync.mail.message import OutgoingEmail
from salesync.runtime import Runtime
from salesync.store import engagement as store
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    EmailEngagement,
    EngagementEvent,
    EngagementSettings,
    Role,
    SentEmail,
    User,
)

#: Outbox kind of the coalesced Task and roll-up update of one email.
ENGAGEMENT_UPDATE = "engagement_update"
#: Its own subject type, so a pending update never reads as the email waiting to be logged.
SUBJECT_TYPE = "email_engagement"
#: Events arriving within this time of each other travel in the same batch.
COLLECT_DELAY = timedelta(seconds=10)
#: A 1x1 transparent GIF.
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def tracking_key(runtime: Runtime) -> bytes:
    return runtime.secret_box.derive_key("tracking-tokens")


def base_url(runtime: Runtime) -> str:
    return str(runtime.settings.base_url).rstrip("/")


def token_url(runtime: Runtime, token: TrackingToken) -> str:
    signed = tracking_tokens.sign(token, tracking_key(runtime))
    path = {"o": "t/o", "c": "t/c", "u": "u"}[token.purpose]
    suffix = ".gif" if token.purpose == tracking_tokens.OPEN else ""
    return f"{base_url(runtime)}/{path}/{signed}{suffix}"


def email_url(runtime: Runtime, email_id: int) -> str:
    """Where the email is shown in salesync (the Task's Email URL field)."""
    return f"{base_url(runtime)}/activity#email-{email_id}"


def template_url(runtime: Runtime, template_id: int) -> str:
    """Where a template is shown in salesync (the Task's Template URL field)."""
    return f"{base_url(runtime)}/templates#template-{template_id}"


# --- at send time ------------------------------------------------------------------------------


def wants_tracking(session: Session, team_id: int, track: bool | None, *, now: datetime) -> bool:
    """Opt-in: the team must allow tracking; then the email's choice, or the team's default."""
    choice = store.tracking_choice(session, team_id)
    if choice is None:  # the team's first email: its row is created with the defaults
        settings = store.settings_of(session, team_id, now=now)
        choice = (settings.tracking_enabled, settings.track_by_default)
    tracking_enabled, track_by_default = choice
    if not tracking_enabled:
        if track:
            raise InvalidInput(
                tr("your team has not turned on open and click tracking"), field="track"
            )
        return False
    return track_by_default if track is None else track


def prepare_outgoing(
    runtime: Runtime,
    session: Session,
    email_id: int,
    first_to_id: int,
    outgoing: OutgoingEmail,
    *,
    tracked: bool,
    template: tuple[int, str] | None,
) -> OutgoingEmail:
    """Add the unsubscribe link and headers, and tracking when wanted; keep the engagement row.

    Every sales email carries an unsubscribe link and ``List-Unsubscribe`` with one-click POST
    (RFC 8058). The link unsubscribes the first To recipient (its row's id: ``first_to_id``).
    The engagement row is inserted at once, without the ORM (one of the API's hottest paths).
    """
    unsubscribe = token_url(
        runtime, TrackingToken(tracking_tokens.UNSUBSCRIBE, email_id, first_to_id)
    )
    headers = (
        ("List-Unsubscribe", f"<{unsubscribe}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    row: dict[str, object] = {
        "email_id": email_id,
        "tracked": tracked,
        "template_id": template[0] if template else None,
        "template_name": template[1] if template else None,
        "links": [],
        "written": {},
    }
    if not tracked:
        session.execute(_INSERT_ENGAGEMENT, row)
        text = outgoing.body_text + tracking_body.unsubscribe_footer(unsubscribe)
        return dataclasses.replace(outgoing, body_text=text, headers=headers)
    body = tracking_body.tracked_body(
        outgoing.body_text,
        lambda index: token_url(runtime, TrackingToken(tracking_tokens.CLICK, email_id, index)),
        token_url(runtime, TrackingToken(tracking_tokens.OPEN, email_id)),
        unsubscribe,
    )
    session.execute(_INSERT_ENGAGEMENT, {**row, "links": list(body.links)})
    return dataclasses.replace(
        outgoing,
        body_text=body.text + tracking_body.unsubscribe_footer(unsubscribe),
        body_html=body.html,
        headers=headers,
    )


_INSERT_ENGAGEMENT = insert(cast(Table, EmailEngagement.__table__))


# --- events ----------------------------------------------------------------------------------


def queue_update(session: Session, email: SentEmail, *, now: datetime) -> None:
    """Make sure one update of the email's Task and roll-ups is queued (coalesced)."""
    if store.pending_item(session, ENGAGEMENT_UPDATE, SUBJECT_TYPE, email.id) is not None:
        return
    outbox.enqueue(
        session,
        team_id=email.team_id,
        user_id=email.sender_id,
        kind=ENGAGEMENT_UPDATE,
        subject_type=SUBJECT_TYPE,
        subject_id=email.id,
        now=now,
        available_at=now + COLLECT_DELAY,
    )


def record_event(
    runtime: Runtime, token_text: str, *, kind: str, user_agent: str, ip: str
) -> str | None:
    """Record an open or click for a signed token; returns the click's link (or "" for an
    open), or None when the token is forged, altered or names nothing."""
    token = tracking_tokens.verify(token_text, tracking_key(runtime))
    purpose = tracking_tokens.OPEN if kind == "open" else tracking_tokens.CLICK
    if token is None or token.purpose != purpose:
        return None
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = session.get(EmailEngagement, token.email_id, with_for_update=True)
        email = session.get(SentEmail, token.email_id)
        if row is None or email is None or not row.tracked:
            return None
        url = ""
        if kind == "click":
            if token.item >= len(row.links):
                return None
            url = str(row.links[token.item])
        verdict = machine_opens.classify(kind, user_agent, ip, now, email.sent_at)
        session.add(
            EngagementEvent(
                email_id=email.id,
                kind=kind,
                link_index=token.item if kind == "click" else None,
                at=now,
                user_agent=user_agent[:500],
                ip=ip[:64],
                machine=verdict.machine,
                machine_reason=verdict.reason,
            )
        )
        if verdict.machine is not None:
            if kind == "open":
                row.machine_opens += 1
            else:
                row.machine_clicks += 1
            return url
        if kind == "open":
            row.opens += 1
            row.first_open_at = row.first_open_at or now
            row.last_open_at = now
        else:
            row.clicks += 1
            row.first_click_at = row.first_click_at or now
            row.last_click_at = now
            row.last_clicked_url = url
        queue_update(session, email, now=now)
        return url


def record_reply_engagement(session: Session, parent: SentEmail, *, now: datetime) -> None:
    """A reply to ``parent`` arrived: its Task's Replied and the Last Replied roll-up."""
    row = session.get(EmailEngagement, parent.id)
    if row is None:
        row = EmailEngagement(email_id=parent.id, tracked=False, links=[], written={})
        session.add(row)
    if row.replied_at is None:
        row.replied_at = now
        queue_update(session, parent, now=now)


# --- the team's settings -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EngagementOptions:
    tracking_enabled: bool
    track_by_default: bool
    opt_out_field: str
    opt_out_pull_time: str
    opt_out_pull_zone: str
    rollup_fields: dict[str, str]


def options_of(row: EngagementSettings) -> EngagementOptions:
    return EngagementOptions(
        row.tracking_enabled,
        row.track_by_default,
        row.opt_out_field,
        row.opt_out_pull_time,
        row.opt_out_pull_zone,
        {**DEFAULT_ROLLUP_FIELDS, **{str(k): str(v) for k, v in row.rollup_fields.items()}},
    )


def get_options(runtime: Runtime, user: User) -> EngagementOptions:
    with unit_of_work(runtime.sessions) as session:
        return options_of(store.settings_of(session, user.team_id, now=runtime.clock.now()))


def require_admin(user: User) -> None:
    if user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can change engagement settings"))


_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


def save_options(
    runtime: Runtime,
    admin: User,
    *,
    tracking_enabled: bool | None = None,
    track_by_default: bool | None = None,
    opt_out_field: str | None = None,
    opt_out_pull_time: str | None = None,
    opt_out_pull_zone: str | None = None,
) -> EngagementOptions:
    """Admin: tracking (opt-in) and the opt-out field and daily pull time (UNSUB-3/4).

    The roll-up field map is saved by :func:`salesync.services.rollups.save_rollup_fields`,
    which checks it against the org first.
    """
    require_admin(admin)
    if opt_out_field is not None and not _API_NAME.fullmatch(opt_out_field):
        raise InvalidInput(
            tr("{opt_out_field} is not a field API name", opt_out_field=repr(opt_out_field)),
            field="opt_out_field",
        )
    try:
        if opt_out_pull_time is not None:
            opt_out_schedule.parse_pull_time(opt_out_pull_time)
        if opt_out_pull_zone is not None:
            opt_out_schedule.check_zone(opt_out_pull_zone)
    except ValueError as exc:
        where = "opt_out_pull_zone" if "zone" in str(exc) else "opt_out_pull_time"
        raise InvalidInput(str(exc), field=where) from None
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = store.settings_of(session, admin.team_id, now=now)
        changes = {
            "tracking_enabled": tracking_enabled,
            "track_by_default": track_by_default,
            "opt_out_field": opt_out_field,
            "opt_out_pull_time": opt_out_pull_time.strip() if opt_out_pull_time else None,
            "opt_out_pull_zone": opt_out_pull_zone,
        }
        for name, value in changes.items():
            if value is not None:
                setattr(row, name, value)
        row.updated_at = now
        return options_of(row)
