"""Email templates, opens and clicks of an email, unsubscribes and the engagement settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from salesync.services import (
    activities,
    engagement,
    engagement_view,
    rollups,
    templates,
    unsubscribes,
)
from salesync.web.api.activities import RecipientIn, _mailer
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep
from salesync.web.schemas import BoundedInput, Id, IdPath, Line, Multiline, ShortLine

router = APIRouter(tags=["engagement"])


class TemplateIn(BoundedInput):
    name: Annotated[Line, Field(max_length=200)]
    subject: Annotated[Line, Field(max_length=998)]
    body: Annotated[Multiline, Field(max_length=100_000)]
    #: A team template (admins only); otherwise your own.
    team: bool = False


class TemplatePublic(BaseModel):
    id: int
    name: str
    subject: str
    body: str
    scope: str


class PreviewIn(BoundedInput):
    person_id: Id


class RenderedPublic(BaseModel):
    subject: str
    body: str


class TemplateSend(BoundedInput):
    person_id: Id
    cc: list[RecipientIn] = Field(default=[], max_length=activities.MAX_RECIPIENTS)
    track: bool | None = None


class SentId(BaseModel):
    id: int


class LinkClicksPublic(BaseModel):
    url: str
    clicks: int


class EngagementPublic(BaseModel):
    """People's opens and clicks; proxies' and scanners' counted apart."""

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
    links: list[LinkClicksPublic]


class OptOutPublic(BaseModel):
    address: str
    source: str
    created_at: datetime


def _public(view: templates.TemplateView) -> TemplatePublic:
    return TemplatePublic(
        id=view.id, name=view.name, subject=view.subject, body=view.body, scope=view.scope
    )


@router.get("/templates", response_model=list[TemplatePublic])
def list_templates(runtime: RuntimeDep, user: CurrentUser) -> list[TemplatePublic]:
    """Your team's templates and your own."""
    return [_public(view) for view in templates.list_templates(runtime, user)]


@router.post("/templates", response_model=TemplatePublic, status_code=201)
def create_template(runtime: RuntimeDep, user: CurrentUser, body: TemplateIn) -> TemplatePublic:
    """Keep a template; an unknown merge field is refused with its name (422)."""
    return _public(templates.save_template(runtime, user, **body.model_dump()))


@router.put("/templates/{template_id}", response_model=TemplatePublic)
def change_template(
    runtime: RuntimeDep, user: CurrentUser, template_id: IdPath, body: TemplateIn
) -> TemplatePublic:
    values = body.model_dump(exclude={"team"})
    return _public(templates.save_template(runtime, user, template_id=template_id, **values))


@router.delete("/templates/{template_id}", status_code=204)
def delete_template(runtime: RuntimeDep, user: CurrentUser, template_id: IdPath) -> None:
    templates.delete_template(runtime, user, template_id)


@router.post("/templates/{template_id}/preview", response_model=RenderedPublic)
def preview_template(
    runtime: RuntimeDep, user: CurrentUser, template_id: IdPath, body: PreviewIn
) -> RenderedPublic:
    """The template filled in for one person, as they would get it."""
    rendered = templates.preview(runtime, user, template_id, body.person_id)
    return RenderedPublic(subject=rendered.subject, body=rendered.body)


@router.post("/templates/{template_id}/send", response_model=SentId, status_code=201)
def send_template(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    template_id: IdPath,
    body: TemplateSend,
) -> SentId:
    """Send the template to one person, filled in for them."""
    email_id = templates.send_from_template(
        runtime,
        user,
        template_id,
        body.person_id,
        _mailer(request, runtime, user),
        cc=[r.ref() for r in body.cc],
        track=body.track,
    )
    return SentId(id=email_id)


@router.get("/emails/{email_id}/engagement", response_model=EngagementPublic)
def email_engagement(runtime: RuntimeDep, user: CurrentUser, email_id: IdPath) -> EngagementPublic:
    """Opens and clicks of one of your emails."""
    with runtime.sessions() as session:
        activities.get_email(session, user, email_id)
        view = engagement_view.views_for(session, [email_id]).get(email_id)
    if view is None:
        return EngagementPublic(
            tracked=False,
            template_name=None,
            opens=0,
            first_open_at=None,
            last_open_at=None,
            clicks=0,
            first_click_at=None,
            last_click_at=None,
            machine_opens=0,
            machine_clicks=0,
            replied_at=None,
            links=[],
        )
    data = {k: v for k, v in vars(view).items() if k != "links"}
    links = [LinkClicksPublic(url=link.url, clicks=link.clicks) for link in view.links]
    return EngagementPublic(**data, links=links)


@router.post("/people/{person_id}/unsubscribe", response_model=OptOutPublic, status_code=201)
def unsubscribe_person(runtime: RuntimeDep, user: CurrentUser, person_id: IdPath) -> OptOutPublic:
    """Record that a person asked for no more emails; pushed to Salesforce at once."""
    row = unsubscribes.unsubscribe_person(runtime, user, person_id)
    return OptOutPublic(address=row.address, source=row.source, created_at=row.created_at)


class EngagementSettingsPublic(BaseModel):
    tracking_enabled: bool
    track_by_default: bool
    opt_out_field: str
    opt_out_pull_time: str
    opt_out_pull_zone: str
    rollup_fields: dict[str, str]


class EngagementSettingsIn(BoundedInput):
    tracking_enabled: bool | None = None
    track_by_default: bool | None = None
    opt_out_field: str | None = Field(default=None, max_length=80)
    opt_out_pull_time: str | None = Field(default=None, max_length=5)
    opt_out_pull_zone: str | None = Field(default=None, max_length=64)


def _settings_public(options: engagement.EngagementOptions) -> EngagementSettingsPublic:
    return EngagementSettingsPublic(**vars(options))


@router.get("/engagement/settings", response_model=EngagementSettingsPublic)
def read_engagement_settings(runtime: RuntimeDep, user: CurrentUser) -> EngagementSettingsPublic:
    return _settings_public(engagement.get_options(runtime, user))


@router.patch("/engagement/settings", response_model=EngagementSettingsPublic)
def change_engagement_settings(
    runtime: RuntimeDep, admin: AdminUser, body: EngagementSettingsIn
) -> EngagementSettingsPublic:
    """Admin: open and click tracking (opt-in), the opt-out field and the daily pull time."""
    return _settings_public(engagement.save_options(runtime, admin, **body.model_dump()))


class RollupFieldsIn(BoundedInput):
    #: Roll-up key -> field API name (the same on Lead, Contact, Account and Opportunity).
    fields: dict[ShortLine, Annotated[Line, Field(max_length=80)]] = Field(max_length=50)


class RollupCheckPublic(BaseModel):
    fields: dict[str, str]
    #: "Object.key" -> what is wrong; empty when the org has every field.
    problems: dict[str, str]


@router.get("/engagement/rollup-fields", response_model=RollupCheckPublic)
def check_rollup_fields(runtime: RuntimeDep, admin: AdminUser) -> RollupCheckPublic:
    """Admin: the roll-up field map in force, checked against your org."""
    mapping = engagement.get_options(runtime, admin).rollup_fields
    problems = rollups.check_against_org(runtime, admin, mapping)
    return RollupCheckPublic(fields=mapping, problems=problems)


@router.put("/engagement/rollup-fields", response_model=RollupCheckPublic)
def save_rollup_fields(
    runtime: RuntimeDep, admin: AdminUser, body: RollupFieldsIn
) -> RollupCheckPublic:
    """Admin: map the roll-ups to your fields; refused (422) unless the org has them."""
    return RollupCheckPublic(
        fields=rollups.save_rollup_fields(runtime, admin, body.fields), problems={}
    )
