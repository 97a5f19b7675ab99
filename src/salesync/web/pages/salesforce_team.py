"""Admin Settings → Salesforce → Sync Settings: team defaults and locks, the task sync
default, the Activity Detail template with a live preview, the override and the API budget."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import JSONResponse, Response

from salesync.domain import settings as rules
from salesync.domain.subject_template import (
    DEFAULT_TEMPLATE,
    SUBJECT_MAX_LENGTH,
    render_subject,
    uses_activity_subject,
    validate_template,
)
from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.runtime import Runtime
from salesync.services import bcc, sync_settings, task_sync
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.web import team_accounts
from salesync.web.deps import AdminUser, RuntimeDep
from salesync.web.pages import salesforce_views as views
from salesync.web.pages.salesforce_connections import connection_view
from salesync.web.pages.salesforce_settings import (
    CardState,
    FormDep,
    card_state,
    saved_redirect,
)
from salesync.web.templating import render

router = APIRouter()

PAGE = "/settings/admin/salesforce/sync-settings"


@dataclasses.dataclass(frozen=True)
class Preview:
    """The template rendered with sample activities, as Salesforce would get the subject."""

    samples: tuple[tuple[str, str], ...]
    unknown: tuple[str, ...]
    #: TASK-5: reminder task subject edits reach Salesforce only through {{activity_subject}}.
    uses_subject: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": [{"label": label, "subject": text} for label, text in self.samples],
            "unknown": list(self.unknown),
            "uses_subject": self.uses_subject,
        }


def preview(template: str) -> Preview:
    samples = tuple(
        (label, render_subject(template, values)) for label, values in views.PREVIEW_SAMPLES
    )
    return Preview(samples, validate_template(template), uses_activity_subject(template))


@dataclasses.dataclass(frozen=True)
class MemberMode:
    """A teammate's logging mode and BCC address, for the admin's BCC tab."""

    member: User
    mode: str
    bcc_address: str


def _team_state(runtime: Runtime, admin: User) -> tuple[rules.TeamPolicy, str, int]:
    with runtime.sessions() as session:
        member = session.get(User, admin.id)
        assert member is not None
        policy = sync_settings.team_policy(session, member.team)
        return policy, sync_settings.subject_template_of(member.team), member.team.api_budget_share


def _member_modes(runtime: Runtime, admin: User) -> list[MemberMode]:
    members = [m for m in team_accounts.team_users(runtime, admin) if m.is_active]
    with runtime.sessions() as session:
        effective = sync_settings.team_members_settings(session, admin)
    return [
        MemberMode(
            m,
            effective[m.id].settings.logging_mode.value,
            effective[m.id].settings.bcc_address or "",
        )
        for m in members
        if m.id in effective
    ]


def team_page(
    request: Request,
    runtime: Runtime,
    admin: User,
    cards: CardState,
    *,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    policy, template, budget = _team_state(runtime, admin)
    entered = entered or {}
    shown_template = entered.get("subject_template", template)
    context = {
        "section": "settings",
        "side": "admin",
        "tab": "sync-settings",
        "cards": cards,
        "options": views.team_options(policy, errors or {}),
        "groups": views.API_CARD,
        "errors": errors or {},
        "force_mode": policy.force_mode.value if policy.force_mode else "",
        "override_choices": views.OVERRIDE_CHOICES,
        "template": shown_template,
        "default_template": DEFAULT_TEMPLATE,
        "template_fields": views.TEMPLATE_FIELDS,
        "preview": preview(shown_template),
        "subject_max": SUBJECT_MAX_LENGTH,
        "budget": entered.get("api_budget_share", str(budget)),
        "members": _member_modes(runtime, admin),
        "admin_steps": bcc.ADMIN_STEPS,
        "connection": connection_view(runtime, admin),
    }
    return render(request, "salesforce_team_settings.html", context, status_code=status_code)


@router.get(PAGE)
def team_sync_settings(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    cards: Annotated[CardState, Depends(card_state)],
) -> Response:
    return team_page(request, runtime, admin, cards)


def _refused(
    request: Request, runtime: Runtime, admin: User, card: str, exc: InvalidInput, **kw: Any
) -> Response:
    errors = {exc.field or card: exc.message}
    return team_page(request, runtime, admin, CardState(card), errors=errors, status_code=422, **kw)


@router.post(f"{PAGE}/api")
def save_team_api_card(
    request: Request, runtime: RuntimeDep, admin: AdminUser, form: FormDep
) -> Response:
    """Team defaults of the Salesforce API card and which of them are locked for reps."""
    policy, _, _ = _team_state(runtime, admin)
    current = {name: view.value for name, view in views.team_options(policy, {}).items()}
    defaults = views.submitted_api_card(form, current, set(views.API_CARD_NAMES))
    other_locks = {lock.setting for lock in policy.locks} - set(views.API_CARD_NAMES)
    locked = other_locks | views.submitted_locks(form, views.API_CARD_NAMES)
    try:
        with unit_of_work(runtime.sessions) as session:
            member = session.get(User, admin.id)
            assert member is not None
            sync_settings.save_team_settings(
                session, member, defaults=defaults, locked=locked, now=runtime.clock.now()
            )
    except InvalidInput as exc:
        return _refused(request, runtime, admin, "log-email", exc)
    return saved_redirect(PAGE, "log-email", "api")


@router.post(f"{PAGE}/tasks")
def save_team_task_sync(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    task_sync_mode: Annotated[str, Form(alias="task_sync")] = "off",
    lock: Annotated[bool, Form(alias="lock_task_sync")] = False,
) -> Response:
    """The team default of task sync (API-4 "mass-enable"), applied to every rep at once."""
    try:
        task_sync.set_team_mode(runtime, admin, task_sync_mode, locked=lock)
    except InvalidInput as exc:
        return _refused(request, runtime, admin, "task-sync", exc)
    return saved_redirect(PAGE, "task-sync")


def _save_admin_options(runtime: Runtime, admin: User, **options: Any) -> None:
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, admin.id)
        assert member is not None
        sync_settings.save_admin_options(session, member, now=runtime.clock.now(), **options)


@router.post(f"{PAGE}/template")
def save_template(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    subject_template: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """API-6: the Activity Detail Customization template."""
    text = subject_template.strip() or DEFAULT_TEMPLATE
    try:
        _save_admin_options(runtime, admin, subject_template=text)
    except InvalidInput as exc:
        entered = {"subject_template": subject_template}
        return _refused(request, runtime, admin, "activity-detail", exc, entered=entered)
    return saved_redirect(PAGE, "activity-detail")


@router.get("/settings/admin/salesforce/subject-preview")
def subject_preview(
    admin: AdminUser, template: Annotated[str, Query(max_length=1000)] = ""
) -> JSONResponse:
    """The live preview: the same render_subject that makes the Task subjects."""
    return JSONResponse(preview(template).to_json())


@router.post(f"{PAGE}/override")
def save_override(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    force_mode: Annotated[str, Form()] = "",
) -> Response:
    """API-4: "Override all Salesforce sync settings for my team"."""
    try:
        with unit_of_work(runtime.sessions) as session:
            member = session.get(User, admin.id)
            assert member is not None
            sync_settings.set_override(session, member, force_mode or None)
    except InvalidInput as exc:
        return _refused(request, runtime, admin, "override", exc)
    return saved_redirect(PAGE, "override")


@router.post(f"{PAGE}/budget")
def save_budget(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminUser,
    api_budget_share: Annotated[str, Form()] = "",
) -> Response:
    """DESIGN §3: the share of the org's daily API allocation salesync may spend."""
    entered = {"api_budget_share": api_budget_share}
    try:
        share = int(api_budget_share.strip().rstrip("%"))
    except ValueError:
        exc = InvalidInput(tr("give a whole percentage from 1 to 100"), field="api_budget_share")
        return _refused(request, runtime, admin, "budget", exc, entered=entered)
    try:
        _save_admin_options(runtime, admin, api_budget_share=share)
    except InvalidInput as exc:
        return _refused(request, runtime, admin, "budget", exc, entered=entered)
    return saved_redirect(PAGE, "budget")
