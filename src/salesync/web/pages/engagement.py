"""Templates (every user) and Admin Settings → Engagement (tracking, opt-outs, roll-up fields)."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.engagement_fields import DEFAULT_ROLLUP_FIELDS, ROLLUP_LABELS
from salesync.domain.merge_fields import MERGE_FIELDS
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, PermissionDenied
from salesync.mail.smtp import Mailer
from salesync.runtime import Runtime
from salesync.services import activities, engagement, people, rollups, templates
from salesync.services.mail_accounts import mailer_for
from salesync.store.tables import User
from salesync.web.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep
from salesync.web.pages.activity import display_name
from salesync.web.templating import render

router = APIRouter()
ADMIN_PAGE = "/settings/admin/engagement"


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


def _mailer(request: Request, runtime: Runtime, user: User) -> Mailer:
    factory = getattr(request.app.state, "mailer_factory", mailer_for)
    return cast(Mailer, factory(runtime, user))


def _templates_page(
    request: Request,
    runtime: Runtime,
    user: User,
    *,
    preview: templates.Rendered | None = None,
    chosen: tuple[int, int] | None = None,
    problem: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    picker = people.list_people(runtime, user, people.PeopleQuery(limit=200))
    context: dict[str, Any] = {
        "section": "templates",
        "templates": templates.list_templates(runtime, user),
        "merge_fields": MERGE_FIELDS,
        "people_options": [(p.id, display_name(p), p.email) for p in picker.items if p.email],
        "preview": preview,
        "chosen": chosen,
        "problem": problem,
        "values": values or {},
        "options": engagement.get_options(runtime, user),
    }
    return render(request, "templates.html", context, status_code=status_code)


@router.get("/templates")
def templates_page(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _templates_page(request, runtime, user)


@router.post("/templates")
async def create_template(
    request: Request, runtime: RuntimeDep, user: CurrentUser, browser: SessionDep
) -> Response:
    form = await _form(request)
    try:
        saved = templates.save_template(
            runtime,
            user,
            name=form.get("name", ""),
            subject=form.get("subject", ""),
            body=form.get("body", ""),
            team=form.get("team") == "1",
        )
    except (InvalidInput, PermissionDenied) as exc:
        return _templates_page(
            request, runtime, user, problem=exc.message, values=form, status_code=422
        )
    browser.flash(tr("Saved the template “{name}”.", name=saved.name))
    return RedirectResponse(f"/templates#template-{saved.id}", status_code=303)


@router.post("/templates/{template_id}/delete")
def delete_template(
    runtime: RuntimeDep, user: CurrentUser, browser: SessionDep, template_id: int
) -> Response:
    templates.delete_template(runtime, user, template_id)
    browser.flash(tr("Deleted the template."))
    return RedirectResponse("/templates", status_code=303)


@router.post("/templates/{template_id}/use")
async def use_template(
    request: Request, runtime: RuntimeDep, user: CurrentUser, browser: SessionDep, template_id: int
) -> Response:
    """Preview the template for a person, or send it to them (the button pressed decides)."""
    form = await _form(request)
    person = form.get("person_id", "")
    if not person.isdigit():
        return _templates_page(request, runtime, user, problem="choose a person", status_code=422)
    chosen = (template_id, int(person))
    try:
        if form.get("action") != "send":
            rendered = templates.preview(runtime, user, template_id, int(person))
            return _templates_page(request, runtime, user, preview=rendered, chosen=chosen)
        track = form.get("track") == "1" if "track_shown" in form else None
        templates.send_from_template(
            runtime, user, template_id, int(person), _mailer(request, runtime, user), track=track
        )
    except InvalidInput as exc:
        return _templates_page(
            request, runtime, user, problem=exc.message, chosen=chosen, status_code=422
        )
    except activities.SendFailed as exc:
        browser.flash(exc.message)
        return RedirectResponse("/templates", status_code=303)
    browser.flash(tr("Sent. Opens, clicks and its Salesforce state show under Sent emails."))
    return RedirectResponse("/command-center#sent-emails", status_code=303)


# -- Admin Settings → Engagement -------------------------------------------------------------


def _admin_page(
    request: Request,
    runtime: Runtime,
    admin: User,
    *,
    problem: str = "",
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "section": "settings",
        "options": engagement.get_options(runtime, admin),
        "rollup_labels": ROLLUP_LABELS,
        "rollup_defaults": DEFAULT_ROLLUP_FIELDS,
        "problem": problem,
        "problems": problems or {},
    }
    return render(request, "engagement_admin.html", context, status_code=status_code)


@router.get(ADMIN_PAGE)
def admin_page(request: Request, runtime: RuntimeDep, admin: AdminUser) -> Response:
    return _admin_page(request, runtime, admin)


@router.post(ADMIN_PAGE)
async def save_admin_page(
    request: Request, runtime: RuntimeDep, admin: AdminUser, browser: SessionDep
) -> Response:
    form = await _form(request)
    try:
        engagement.save_options(
            runtime,
            admin,
            tracking_enabled=form.get("tracking_enabled") == "1",
            track_by_default=form.get("track_by_default") == "1",
            opt_out_field=form.get("opt_out_field", "").strip() or "HasOptedOutOfEmail",
            opt_out_pull_time=form.get("opt_out_pull_time", ""),
            opt_out_pull_zone=form.get("opt_out_pull_zone", "").strip(),
        )
        current = engagement.get_options(runtime, admin).rollup_fields
        wanted = {key: form.get(f"rollup_{key}", "").strip() for key in DEFAULT_ROLLUP_FIELDS}
        if any(wanted[key] and wanted[key] != current[key] for key in wanted):
            rollups.save_rollup_fields(runtime, admin, wanted)
    except InvalidInput as exc:
        return _admin_page(request, runtime, admin, problem=exc.message, status_code=422)
    browser.flash(tr("Saved the engagement settings."))
    return RedirectResponse(ADMIN_PAGE, status_code=303)
