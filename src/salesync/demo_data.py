"""The demo's data: users with fresh passwords, their Salesforce connections, a few people,
and reminders on both sides of two-way task sync.

Every step is idempotent, so ``salesync demo --keep`` restarts on the same data without
duplicating anything.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from salesync.domain.settings import TaskSyncMode
from salesync.passwords import hash_password
from salesync.runtime import Runtime
from salesync.sandbox.org import Org
from salesync.sandbox.seed import username as sandbox_username
from salesync.services import accounts, task_sync, tasks
from salesync.store.db import unit_of_work
from salesync.store.tables import (
    ConnectionPurpose,
    ConnectionStatus,
    Person,
    ReminderTask,
    Role,
    SalesforceConnection,
    User,
)

#: Demo users: (salesync email, name, role, time zone, sandbox user they connect as).
DEMO_USERS = (
    ("admin@demo.salesync.test", "Avery Admin", Role.ADMIN, "America/New_York", "admin"),
    ("rep1@demo.salesync.test", "Riley Rep", Role.REP, "America/Los_Angeles", "rep1"),
    ("rep2@demo.salesync.test", "Sam Seller", Role.REP, "Europe/Paris", "rep2"),
)
#: How many Salesforce contacts become salesync people, and how many of them carry ids.
DEMO_PEOPLE, DEMO_PEOPLE_WITH_IDS = 12, 6


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    role: str


def users(runtime: Runtime) -> list[DemoCredentials]:
    """Create (or re-password) the demo users; passwords are new on every start."""
    credentials = []
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        for email, name, role, zone, _ in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user = session.query(User).filter(User.email == email).one_or_none()
            if user is None:
                accounts.add_user(
                    session, accounts.NewUser(email, name, password, role, zone), now=now
                )
            else:
                user.password_hash = hash_password(password)
            credentials.append(DemoCredentials(email, password, role.value))
    return credentials


def connect(runtime: Runtime, org: Org, base_url: str) -> None:
    """Connect each demo user to their sandbox user, as if they had clicked Connect."""
    box, now = runtime.secret_box, runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        for email, _, _, _, local in DEMO_USERS:
            user = session.query(User).filter(User.email == email).one()
            if session.query(SalesforceConnection).filter_by(user_id=user.id).first():
                continue
            login = sandbox_username(local)
            tokens = org.issue_token(login)
            sf_user = org.user_by_username(login)
            assert sf_user is not None
            session.add(
                SalesforceConnection(
                    team_id=user.team_id,
                    user_id=user.id,
                    purpose=ConnectionPurpose.USER,
                    environment="production",
                    login_url=base_url,
                    instance_url=base_url,
                    org_id=org.org_id,
                    sf_user_id=str(sf_user["Id"]),
                    sf_username=login,
                    sf_email=str(sf_user["Email"]),
                    access_token_enc=box.encrypt(tokens.access_token),
                    refresh_token_enc=box.encrypt(tokens.refresh_token or ""),
                    status=ConnectionStatus.CONNECTED,
                    connected_at=now,
                    updated_at=now,
                )
            )


def people(runtime: Runtime, org: Org) -> None:
    """A few prospects from the sandbox's contacts: half with Salesforce ids, half by email."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        if session.query(Person).count():
            return
        rep = session.query(User).filter(User.email == DEMO_USERS[1][0]).one()
        contacts = [c for c in org.records.rows("Contact") if c.get("Email")][:DEMO_PEOPLE]
        for index, contact in enumerate(contacts):
            with_id = index < DEMO_PEOPLE_WITH_IDS
            session.add(
                Person(
                    team_id=rep.team_id,
                    owner_id=rep.id,
                    first_name=str(contact.get("FirstName") or ""),
                    last_name=str(contact.get("LastName") or ""),
                    email=str(contact["Email"]),
                    company="",
                    title=str(contact.get("Title") or ""),
                    sf_contact_id=str(contact["Id"]) if with_id else None,
                    sf_account_id=str(contact.get("AccountId") or "") or None if with_id else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        session.add(
            Person(
                team_id=rep.team_id,
                owner_id=rep.id,
                first_name="Una",
                last_name="Matched",
                email="una.matched@nowhere.example",
                created_at=now,
                updated_at=now,
            )
        )


#: Reminders each demo rep finds on each side: (subject, days from today), created in
#: Salesforce before sync is turned on (the first import brings them) and in salesync after
#: (the worker pushes them).
SALESFORCE_REMINDERS = (("Call back about the renewal", 0), ("Send the pricing sheet", 1))
SALESYNC_REMINDERS = (("Prepare the demo agenda", 0), ("Follow up on the trial", 1))


def reminders(runtime: Runtime, org: Org) -> None:
    """Turn two-way task sync on for the demo reps, with a few reminders on both sides."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        if session.query(ReminderTask).count():
            return
        reps = [
            (session.query(User).filter(User.email == email).one(), zone, local)
            for email, _, role, zone, local in DEMO_USERS
            if role is Role.REP
        ]
        linked = (
            session.query(Person)
            .filter(Person.sf_contact_id.is_not(None))
            .order_by(Person.id)
            .all()
        )
    for index, (rep, zone, local) in enumerate(reps):
        today = now.astimezone(ZoneInfo(zone)).date()
        person = linked[index % len(linked)] if linked else None
        for subject, days in SALESFORCE_REMINDERS:
            fields: dict[str, object] = {
                "Subject": subject,
                "TaskSubtype": "Task",
                "Status": "Not Started",
                "Priority": "Normal",
                "ActivityDate": (today + dt.timedelta(days=days)).isoformat(),
            }
            if person is not None:
                fields["WhoId"] = person.sf_contact_id
            org.create_record("Task", fields, as_user=sandbox_username(local), mode="system")
        task_sync.set_mode(runtime, rep, TaskSyncMode.TWO_WAY)
        for subject, days in SALESYNC_REMINDERS:
            values: dict[str, object] = {
                "name": subject,
                "due_date": today + dt.timedelta(days=days),
            }
            if person is not None:
                values["person_id"] = person.id
            tasks.create_task(runtime, rep, values)
