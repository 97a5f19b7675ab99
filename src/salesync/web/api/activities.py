"""Sending email, recording replies, logging calls, call outcomes/reasons, and their state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, cast

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesync.domain.wording import tr
from salesync.errors import NotFound
from salesync.i18n import translate
from salesync.mail.smtp import Mailer
from salesync.runtime import Runtime
from salesync.services import activities, activity_bulk
from salesync.services.mail_accounts import mailer_for
from salesync.store import activities as activity_store
from salesync.store import diagnostics as diagnostic_store
from salesync.store.tables import (
    Call,
    OutboxItem,
    OutboxStatus,
    Role,
    SalesforceConnection,
    SentEmail,
    User,
)
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep
from salesync.web.schemas import (
    BoundedInput,
    EmailText,
    Id,
    IdPath,
    Line,
    Multiline,
    ShortLine,
)

router = APIRouter(tags=["activities"])

MailerFactory = Callable[[Runtime, User], Mailer]


def _mailer(request: Request, runtime: Runtime, user: User) -> Mailer:
    factory = cast(MailerFactory, getattr(request.app.state, "mailer_factory", mailer_for))
    return factory(runtime, user)


class RecipientIn(BoundedInput):
    """A recipient: a person of your team by id, or any address."""

    person_id: Id | None = None
    email: EmailText | None = None

    @model_validator(mode="after")
    def _one_of(self) -> RecipientIn:
        if (self.person_id is None) == (self.email is None):
            raise ValueError("give either person_id or email")
        return self

    def ref(self) -> activities.RecipientRef:
        return activities.RecipientRef(person_id=self.person_id, email=self.email)


class EmailCreate(BoundedInput):
    to: list[RecipientIn] = Field(min_length=1, max_length=activities.MAX_RECIPIENTS)
    cc: list[RecipientIn] = Field(default=[], max_length=activities.MAX_RECIPIENTS)
    subject: Annotated[Line, Field(max_length=998)]
    body_text: Annotated[Multiline, Field(max_length=activities.MAX_BODY_CHARACTERS)]
    #: One of your own sent emails that this one answers.
    reply_to_email_id: Id | None = None
    #: Track opens and clicks; omitted: your team's default (only if your team allows it).
    track: bool | None = None


class LinkPublic(BaseModel):
    sobject: str
    sf_id: str
    url: str


class ActivityState(BaseModel):
    """Where an activity stands with Salesforce."""

    state: str  # "logged" | "pending" | "failed" | "not_logged"
    links: list[LinkPublic]
    reasons: list[str]


class EmailPublic(BaseModel):
    id: int
    subject: str
    status: str
    error: str | None
    message_id: str
    is_reply: bool
    sent_at: datetime
    recipients: list[str]
    salesforce: ActivityState


class ReplyCreate(BoundedInput):
    from_address: EmailText
    subject: Annotated[Line, Field(max_length=998)]
    body_text: Annotated[Multiline, Field(max_length=activities.MAX_BODY_CHARACTERS)]
    in_reply_to: ShortLine
    message_id: ShortLine
    received_at: datetime


class CallCreate(BoundedInput):
    person_id: Id
    occurred_at: datetime
    duration_seconds: int = Field(ge=0, le=86_400)
    #: Call outcomes and reasons are Text(50) fields in Salesforce.
    outcome: Annotated[Line, Field(max_length=50)] | None = None
    reason: Annotated[Line, Field(max_length=50)] | None = None
    #: Salesforce keeps 32,000 characters of a Task's Description.
    notes: Annotated[Multiline, Field(max_length=32_000)] = ""


class SentElsewhereCreate(BoundedInput):
    """An email sent outside salesync (a phone, another mail client), to log to Salesforce."""

    to: list[RecipientIn] = Field(min_length=1, max_length=activities.MAX_RECIPIENTS)
    cc: list[RecipientIn] = Field(default=[], max_length=activities.MAX_RECIPIENTS)
    subject: Annotated[Line, Field(max_length=998)]
    body_text: Annotated[Multiline, Field(max_length=activities.MAX_BODY_CHARACTERS)]
    sent_at: datetime
    #: Its Message-ID: a resend of the same email is then refused instead of logged twice.
    message_id: ShortLine | None = None


class BulkBody(BaseModel):
    """Up to 1,000 items; each is checked and answered on its own."""

    items: list[dict[str, Any]] = Field(max_length=activity_bulk.MAX_BULK_ITEMS)


class ItemResultPublic(BaseModel):
    """One item's outcome: ``id`` when stored, ``error`` (and ``field``) when refused."""

    index: int
    id: int | None = None
    error: str | None = None
    field: str | None = None


class BulkResults(BaseModel):
    results: list[ItemResultPublic]
    stored: int
    refused: int


_Item = TypeVar("_Item", bound=BaseModel)


def _parsed(
    model: type[_Item], items: list[dict[str, Any]]
) -> tuple[dict[int, _Item], dict[int, ItemResultPublic]]:
    """Each item read on its own: a malformed one is refused alone, not the whole request."""
    good: dict[int, _Item] = {}
    bad: dict[int, ItemResultPublic] = {}
    for index, raw in enumerate(items):
        try:
            good[index] = model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            bad[index] = ItemResultPublic(index=index, error=first["msg"], field=where or None)
    return good, bad


def _merged(
    count: int,
    order: list[int],
    stored: list[activity_bulk.ItemResult],
    bad: dict[int, ItemResultPublic],
) -> BulkResults:
    results = dict(bad)
    for position, outcome in zip(order, stored, strict=True):
        results[position] = ItemResultPublic(
            index=position, id=outcome.id, error=outcome.error, field=outcome.field
        )
    ordered = [results[index] for index in range(count)]
    refused = sum(1 for r in ordered if r.error is not None)
    return BulkResults(results=ordered, stored=count - refused, refused=refused)


class CallChoicesBody(BoundedInput):
    labels: list[Annotated[Line, Field(max_length=50)]] = Field(
        max_length=activities.MAX_CALL_CHOICES
    )


CallChoiceKind = Literal["outcome", "reason"]


class CreatedId(BaseModel):
    id: int


def activity_state(runtime: Runtime, local_type: str, local_id: int) -> ActivityState:
    """logged (with links), pending, failed (with reasons), or not logged at all."""
    with runtime.sessions() as session:
        return _state_in(session, local_type, local_id)


def _state_in(session: Session, local_type: str, local_id: int) -> ActivityState:
    links = activity_store.links_for(session, local_type, local_id)
    items = session.scalars(
        select(OutboxItem).where(
            OutboxItem.subject_type == local_type, OutboxItem.subject_id == local_id
        )
    ).all()
    entries = [
        e
        for e in diagnostic_store.entries_for_item(session, local_type, local_id)
        if e.resolved_at is None
    ]
    orgs = sorted({link.org_id for link in links})
    instance = (
        {
            c.org_id: c.instance_url
            for c in session.scalars(
                select(SalesforceConnection).where(SalesforceConnection.org_id.in_(orgs))
            )
        }
        if orgs
        else {}
    )
    public_links = [
        LinkPublic(
            sobject=link.sobject,
            sf_id=link.sf_id,
            url=f"{instance.get(link.org_id, '').rstrip('/')}/{link.sf_id}",
        )
        for link in links
    ]
    statuses = {item.status for item in items}
    if not items:
        state = "logged" if links else "not_logged"
    elif statuses <= {OutboxStatus.DONE}:
        state = "logged"
    elif OutboxStatus.FAILED in statuses:
        state = "failed"
    else:
        state = "pending"
    # In the reader's language: our own words translated, Salesforce's as they came.
    reasons = [translate(diagnostic_store.shown_message(e)) for e in entries]
    return ActivityState(state=state, links=public_links, reasons=reasons)


def _email_public(runtime: Runtime, user: User, email_id: int) -> EmailPublic:
    with runtime.sessions() as session:
        email = activities.get_email(session, user, email_id)
        recipients = [r.address for r in email.recipients]
        data: dict[str, Any] = {
            "id": email.id,
            "subject": email.subject,
            "status": email.status,
            "error": email.error,
            "message_id": email.message_id,
            "is_reply": email.is_reply,
            "sent_at": email.sent_at,
            "recipients": recipients,
        }
        # One session for the whole answer: it is read after every send.
        return EmailPublic(**data, salesforce=_state_in(session, "email", email_id))


@router.post("/emails", response_model=EmailPublic, status_code=201)
def send_email(
    request: Request, runtime: RuntimeDep, user: CurrentUser, body: EmailCreate
) -> EmailPublic:
    """Send a sales email through SMTP and queue its logging to Salesforce."""
    draft = activities.EmailDraft(
        to=[r.ref() for r in body.to],
        cc=[r.ref() for r in body.cc],
        subject=body.subject,
        body_text=body.body_text,
        reply_to_email_id=body.reply_to_email_id,
        track=body.track,
    )
    sent = activities.send(runtime, user, draft, _mailer(request, runtime, user))
    # Answered from what the send stored, not read back (issue 16: the API's hottest path).
    # A quiet send (connected, not in BCC mode) wrote no Diagnostics entry and has no
    # Salesforce link yet: its items are pending, or there are none to log.
    if sent.quiet:
        state = ActivityState(
            state="pending" if sent.queued else "not_logged", links=[], reasons=[]
        )
    else:
        state = activity_state(runtime, "email", sent.email_id)
    return EmailPublic(
        id=sent.email_id,
        subject=draft.subject,
        status="sent",
        error=None,
        message_id=sent.message_id,
        is_reply=False,
        sent_at=sent.sent_at,
        recipients=sent.recipients,
        salesforce=state,
    )


@router.post("/emails/logged", response_model=BulkResults)
def log_emails_sent_elsewhere(
    runtime: RuntimeDep, user: CurrentUser, body: BulkBody
) -> BulkResults:
    """Log up to 1,000 emails sent outside salesync (items: to, cc, subject, body_text,
    sent_at, message_id); nothing is sent. One result per item, in order."""
    good, bad = _parsed(SentElsewhereCreate, body.items)
    order = sorted(good)
    drafts = [
        activity_bulk.SentElsewhere(
            to=[r.ref() for r in good[i].to],
            cc=[r.ref() for r in good[i].cc],
            subject=good[i].subject,
            body_text=good[i].body_text,
            sent_at=good[i].sent_at,
            message_id=good[i].message_id,
        )
        for i in order
    ]
    stored = activity_bulk.record_sent_emails(runtime, user, drafts)
    return _merged(len(body.items), order, stored, bad)


@router.get("/emails", response_model=list[EmailPublic])
def list_emails(
    runtime: RuntimeDep, user: CurrentUser, limit: Annotated[int, Field(ge=1, le=200)] = 50
) -> list[EmailPublic]:
    with runtime.sessions() as session:
        query = select(SentEmail.id).where(SentEmail.team_id == user.team_id)
        if user.role is not Role.ADMIN:
            query = query.where(SentEmail.sender_id == user.id)
        ids = list(session.scalars(query.order_by(SentEmail.sent_at.desc()).limit(limit)))
    return [_email_public(runtime, user, email_id) for email_id in ids]


@router.get("/emails/{email_id}", response_model=EmailPublic)
def read_email(runtime: RuntimeDep, user: CurrentUser, email_id: IdPath) -> EmailPublic:
    return _email_public(runtime, user, email_id)


@router.post("/replies", response_model=EmailPublic, status_code=201)
def record_reply(runtime: RuntimeDep, user: CurrentUser, body: ReplyCreate) -> EmailPublic:
    """Record a prospect's reply to one of your emails (for inbox integrations)."""
    reply = activities.InboundReply(**body.model_dump())
    return _email_public(runtime, user, activities.record_reply(runtime, user, reply))


@router.post("/calls", response_model=CreatedId, status_code=201)
def log_call(runtime: RuntimeDep, user: CurrentUser, body: CallCreate) -> CreatedId:
    """Log a call; it reaches Salesforce only for people with a Salesforce id."""
    draft = activities.CallDraft(**body.model_dump())
    return CreatedId(id=activities.log_call(runtime, user, draft))


@router.post("/calls/bulk", response_model=BulkResults)
def log_calls(runtime: RuntimeDep, user: CurrentUser, body: BulkBody) -> BulkResults:
    """Log up to 1,000 calls (items as for ``POST /calls``). One result per item, in order."""
    good, bad = _parsed(CallCreate, body.items)
    order = sorted(good)
    drafts = [activities.CallDraft(**good[i].model_dump()) for i in order]
    stored = activity_bulk.log_calls(runtime, user, drafts)
    return _merged(len(body.items), order, stored, bad)


@router.get("/calls/{call_id}/salesforce", response_model=ActivityState)
def call_state(runtime: RuntimeDep, user: CurrentUser, call_id: IdPath) -> ActivityState:
    with runtime.sessions() as session:
        call = session.get(Call, call_id)
        if (
            call is None
            or call.team_id != user.team_id
            or (user.role is not Role.ADMIN and call.user_id != user.id)
        ):
            raise NotFound(tr("call {call_id} does not exist", call_id=call_id))
    return activity_state(runtime, "call", call_id)


@router.get("/call-choices/{kind}", response_model=list[str])
def read_call_choices(runtime: RuntimeDep, user: CurrentUser, kind: CallChoiceKind) -> list[str]:
    with runtime.sessions() as session:
        return activity_store.call_choices(session, user.team_id, kind)


@router.put("/call-choices/{kind}", response_model=list[str])
def write_call_choices(
    runtime: RuntimeDep, admin: AdminUser, kind: CallChoiceKind, body: CallChoicesBody
) -> list[str]:
    """Admin: the team's call outcomes or reasons, at most 15 each."""
    return activities.set_call_choices(runtime, admin, kind, body.labels)
