"""Reconnecting to another org forgets only that rep's Salesforce links."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesync.services import accounts
from salesync.store import connections
from salesync.store.db import unit_of_work
from salesync.store.tables import SalesforceLink, SentEmail
from tests.support import FakeClock


def test_drop_user_links_keeps_teammates_links(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    now = clock.now()
    with unit_of_work(sessions) as session:
        reps = [
            accounts.add_user(
                session, accounts.NewUser(f"r{i}@example.com", "R", "long enough"), now=now
            )
            for i in (1, 2)
        ]
        for index, rep in enumerate(reps):
            email = SentEmail(
                team_id=rep.team_id,
                sender_id=rep.id,
                from_address=rep.email,
                subject="s",
                body_text="b",
                message_id=f"<m{index}@x>",
                sent_at=now,
                created_at=now,
            )
            session.add(email)
            session.flush()
            for org in ("00DAAAAAAAAAAAAAAA", "00DBBBBBBBBBBBBBBB"):
                session.add(
                    SalesforceLink(
                        local_type="email",
                        local_id=email.id,
                        target_key=org,
                        org_id=org,
                        sobject="Task",
                        sf_id="00T000000000001AAA",
                        synced_at=now,
                    )
                )
    with unit_of_work(sessions) as session:
        assert connections.drop_user_links(session, reps[0].id, "00DAAAAAAAAAAAAAAA") == 1
    with sessions() as session:
        left = session.execute(
            select(SentEmail.sender_id, SalesforceLink.org_id).join(
                SentEmail, SentEmail.id == SalesforceLink.local_id
            )
        ).all()
    assert sorted(left) == sorted(
        [
            (reps[0].id, "00DBBBBBBBBBBBBBBB"),
            (reps[1].id, "00DAAAAAAAAAAAAAAA"),
            (reps[1].id, "00DBBBBBBBBBBBBBBB"),
        ]
    )
