"""Email templates: the team's (admins) and each rep's own, previewed and sent per person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from salesync.domain import merge_fields
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, NotFound, PermissionDenied
from salesync.mail.smtp import Mailer
from salesync.runtime import Runtime
from salesync.services import activities
from salesync.store import engagement as store
from salesync.store.db import unit_of_work
from salesync.store.tables import EmailTemplate, Person, Role, User

MAX_NAME, MAX_SUBJECT, MAX_BODY = 200, 998, 100_000


@dataclass(frozen=True)
class TemplateView:
    id: int
    name: str
    subject: str
    body: str
    #: "team" or "personal".
    scope: str
    owner_id: int | None


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _view(row: EmailTemplate) -> TemplateView:
    scope = "team" if row.owner_id is None else "personal"
    return TemplateView(row.id, row.name, row.subject, row.body, scope, row.owner_id)


def _check(name: str, subject: str, body: str) -> None:
    if not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput(
            tr("a template needs a name of at most {max_name} characters", max_name=MAX_NAME),
            field="name",
        )
    if not subject.strip() or len(subject) > MAX_SUBJECT:
        raise InvalidInput(tr("a template needs a subject"), field="subject")
    if "\n" in subject or "\r" in subject:
        raise InvalidInput(tr("the subject has a line break"), field="subject")
    if len(body) > MAX_BODY:
        raise InvalidInput(
            tr("the body is longer than {max_body} characters", max_body=MAX_BODY), field="body"
        )
    for field_name, text in (("subject", subject), ("body", body)):
        unknown = merge_fields.unknown_fields(text)
        if unknown:
            raise InvalidInput(
                "unknown merge fields: " + ", ".join("{{" + n + "}}" for n in unknown),
                field=field_name,
            )


def list_templates(runtime: Runtime, user: User) -> list[TemplateView]:
    with runtime.sessions() as session:
        return [_view(row) for row in store.templates_for(session, user.team_id, user.id)]


def _visible(session: Session, user: User, template_id: int) -> EmailTemplate:
    row = session.get(EmailTemplate, template_id)
    if row is None or row.team_id != user.team_id:
        raise NotFound(tr("template {template_id} does not exist", template_id=template_id))
    if row.owner_id is not None and row.owner_id != user.id:
        raise NotFound(tr("template {template_id} does not exist", template_id=template_id))
    return row


def _editable(session: Session, user: User, template_id: int) -> EmailTemplate:
    row = _visible(session, user, template_id)
    if row.owner_id is None and user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can change the team's templates"))
    return row


def get_template(runtime: Runtime, user: User, template_id: int) -> TemplateView:
    with runtime.sessions() as session:
        return _view(_visible(session, user, template_id))


def save_template(
    runtime: Runtime,
    user: User,
    *,
    name: str,
    subject: str,
    body: str,
    team: bool = False,
    template_id: int | None = None,
) -> TemplateView:
    """Create (``template_id`` None) or change a template; team templates are for admins."""
    _check(name, subject, body)
    if team and user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can keep team templates"))
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        if template_id is None:
            row = EmailTemplate(
                team_id=user.team_id,
                owner_id=None if team else user.id,
                created_at=now,
            )
            session.add(row)
        else:
            row = _editable(session, user, template_id)
        row.name, row.subject, row.body, row.updated_at = name.strip(), subject, body, now
        session.flush()
        return _view(row)


def delete_template(runtime: Runtime, user: User, template_id: int) -> None:
    with unit_of_work(runtime.sessions) as session:
        session.delete(_editable(session, user, template_id))


def _values(person: Person, sender: User) -> merge_fields.MergeValues:
    return merge_fields.MergeValues(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email or "",
        company=person.company,
        title=person.title,
        sender_name=sender.name,
        sender_email=sender.email,
    )


def render_for(
    runtime: Runtime, user: User, *, subject: str, body: str, person_id: int
) -> Rendered:
    """``subject`` and ``body`` filled in for one person; an unknown merge field refuses."""
    with runtime.sessions() as session:
        person = session.get(Person, person_id)
        if person is None or person.team_id != user.team_id:
            raise InvalidInput(
                tr("person {person_id} does not exist", person_id=person_id), field="person_id"
            )
        values = _values(person, user)
    out: dict[str, str] = {}
    for field_name, text in (("subject", subject), ("body", body)):
        try:
            out[field_name] = merge_fields.render(text, values)
        except merge_fields.UnknownMergeFields as exc:
            names = ", ".join("{{" + n + "}}" for n in exc.names)
            raise InvalidInput(
                tr("unknown merge fields: {names}", names=names), field=field_name
            ) from None
    return Rendered(out["subject"], out["body"])


def preview(runtime: Runtime, user: User, template_id: int, person_id: int) -> Rendered:
    template = get_template(runtime, user, template_id)
    return render_for(
        runtime, user, subject=template.subject, body=template.body, person_id=person_id
    )


def send_from_template(
    runtime: Runtime,
    user: User,
    template_id: int,
    person_id: int,
    mailer: Mailer,
    *,
    cc: Sequence[activities.RecipientRef] = (),
    track: bool | None = None,
) -> int:
    """Send the template to one person, filled in for them; returns the sent email's id."""
    template = get_template(runtime, user, template_id)
    rendered = render_for(
        runtime, user, subject=template.subject, body=template.body, person_id=person_id
    )
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(person_id=person_id)],
        cc=cc,
        subject=rendered.subject,
        body_text=rendered.body,
        track=track,
        template=(template.id, template.name),
    )
    return activities.send_email(runtime, user, draft, mailer)
