"""Reading an email's engagement for the Command Center, the Activity page and the API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.store import engagement as store
from salesync.store.tables import EngagementEvent


@dataclass(frozen=True)
class LinkClicks:
    url: str
    clicks: int


@dataclass(frozen=True)
class EngagementView:
    """People's opens and clicks, and the machines' apart."""

    tracked: bool
    template_name: str | None
    opens: int
    first_open_at: datetime | None
    last_open_at: datetime | None
    clicks: int
    first_click_at: datetime | None
    last_click_at: datetime | None
    machine_opens: int
    machine_clicks: int
    replied_at: datetime | None
    links: tuple[LinkClicks, ...] = field(default=())


def views_for(session: Session, email_ids: Sequence[int]) -> dict[int, EngagementView]:
    rows = store.engagement_of(session, email_ids)
    clicked = Counter(
        (email_id, index)
        for email_id, index in session.execute(
            select(EngagementEvent.email_id, EngagementEvent.link_index).where(
                EngagementEvent.email_id.in_(list(rows)),
                EngagementEvent.kind == "click",
                EngagementEvent.machine.is_(None),
            )
        )
    )
    views = {}
    for email_id, row in rows.items():
        links = tuple(
            LinkClicks(str(url), clicked.get((email_id, index), 0))
            for index, url in enumerate(row.links)
        )
        views[email_id] = EngagementView(
            tracked=row.tracked,
            template_name=row.template_name,
            opens=row.opens,
            first_open_at=row.first_open_at,
            last_open_at=row.last_open_at,
            clicks=row.clicks,
            first_click_at=row.first_click_at,
            last_click_at=row.last_click_at,
            machine_opens=row.machine_opens,
            machine_clicks=row.machine_clicks,
            replied_at=row.replied_at,
            links=links,
        )
    return views
