"""My Account → Salesforce → Sync Settings: the rep's own cards (API, BCC, task sync)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Form, Request
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, RedirectResponse, Response

from salesync import i18n
from salesync.domain.wording import tr, trn
from salesync.errors import InvalidInput
from salesync.mail.smtp import Mailer
from salesync.runtime import Runtime
from salesync.services import bcc, sync_settings, task_sync
from salesync.services.mail_accounts import mailer_for
from salesync.store.db import unit_of_work
from salesync.store.tables import User
from salesync.sync.task_enable import CatchUpSummary, last_summary
from salesync.web.api.salesforce import settings_public
from salesync.web.deps import CurrentUser, RuntimeDep
from salesync.web.languages import language_for
from salesync.web.pages import salesforce_views as views
from salesync.web.pages.salesforce_connections import connection_view
from salesync.web.templating import render

router = APIRouter()

PAGE = "/settings/account/salesforce/sync-settings"
#: The cards of the Sync Settings tab, by the key used in URLs and element ids.
CARDS = ("log-email", "task-sync", "activity-detail", "override", "budget")
Tab = Literal["api", "bcc"]


async def read_form(request: Request) -> FormData:
    """The posted form; the options are read by name, as the cards list them."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


@dataclasses.dataclass(frozen=True)
class CardState:
    """Which card is open and which Log Email tab is shown; ``saved`` confirms a save."""

    open: str = ""
    tab: Tab = "api"
    saved: str = ""


def card_state(open: str = "", tab: str = "api", saved: str = "") -> CardState:
    """Read from the query string, so a card reopens after a save or a reload."""
    chosen = cast(Tab, tab if tab in ("api", "bcc") else "api")
    saved = saved if saved in CARDS else ""
    return CardState(open=saved or (open if open in CARDS else ""), tab=chosen, saved=saved)


def saved_redirect(page: str, card: str, tab: str = "api") -> RedirectResponse:
    return RedirectResponse(f"{page}?saved={card}&tab={tab}#{card}", status_code=303)


# -- task sync status ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TaskSyncView:
    """Where the rep's task sync stands, for the card and its progress line."""

    on: bool
    connected: bool
    importing: bool
    summary: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _summary_text(summary: CatchUpSummary | None) -> str:
    if summary is None:
        return ""
    if summary.mode == "first":
        return trn(
            "First import done: {count} Salesforce task from the last 24 hours.",
            "First import done: {count} Salesforce tasks from the last 24 hours.",
            summary.imported,
        )
    counts = {"imported": summary.imported, "merged": summary.merged, "deleted": summary.deleted}
    if summary.full_reconcile:
        return tr(
            "Caught up after the pause: {imported} imported, {merged} merged, {deleted} deleted, "
            "every linked task checked.",
            **counts,
        )
    return tr(
        "Caught up after the pause: {imported} imported, {merged} merged, {deleted} deleted.",
        **counts,
    )


def task_sync_view(runtime: Runtime, user: User) -> TaskSyncView:
    status = task_sync.status(runtime, user)
    with runtime.sessions() as session:
        summary = last_summary(session, user.id)
    state = status.state
    # TASK-6/7: turning sync on queues the import; it is done once a summary newer than it exists.
    done = summary is not None and state.enabled_at is not None and summary.at >= state.enabled_at
    importing = state.on and not done
    return TaskSyncView(state.on, status.connected, importing, _summary_text(summary))


# -- the page --------------------------------------------------------------------------------


MailerFactory = Callable[[Runtime, User], Mailer]


def _mailer(request: Request, runtime: Runtime, user: User) -> Mailer:
    factory = cast(MailerFactory, getattr(request.app.state, "mailer_factory", mailer_for))
    return factory(runtime, user)


def my_page(
    request: Request,
    runtime: Runtime,
    user: User,
    cards: CardState,
    *,
    errors: dict[str, str] | None = None,
    bcc_address: str = "",
    bcc_check: bcc.BccCheck | None = None,
    status_code: int = 200,
) -> Response:
    public = settings_public(runtime, user)
    context = {
        "section": "settings",
        "side": "account",
        "tab": "sync-settings",
        "cards": cards,
        "options": views.my_options(
            public.values, public.origins, public.locked_by, public.force_mode, errors or {}
        ),
        "groups": views.API_CARD,
        "force_mode": public.force_mode,
        "connection": connection_view(runtime, user),
        # No API call per page view: the org's own address is looked up on Activate.
        "bcc": bcc.status(runtime, user, fetch=False),
        "bcc_address": bcc_address,
        "bcc_check": bcc_check,
        "bcc_error": (errors or {}).get("bcc_address", ""),
        "task_sync": task_sync_view(runtime, user),
    }
    return render(request, "salesforce_sync_settings.html", context, status_code=status_code)


@router.get(PAGE)
def my_sync_settings(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    cards: Annotated[CardState, Depends(card_state)],
) -> Response:
    return my_page(request, runtime, user, cards)


def _save_mine(runtime: Runtime, user: User, changes: dict[str, Any]) -> None:
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, user.id)
        assert member is not None
        sync_settings.save_my_settings(session, member, changes, now=runtime.clock.now())


@router.post(f"{PAGE}/api")
def save_api_card(
    request: Request, runtime: RuntimeDep, user: CurrentUser, form: FormDep
) -> Response:
    """The Salesforce API tab's Save (API-1): only the options that changed are saved."""
    public = settings_public(runtime, user)
    options = views.my_options(
        public.values, public.origins, public.locked_by, public.force_mode, {}
    )
    editable = {name for name in views.API_CARD_NAMES if not options[name].held}
    changes = views.submitted_api_card(form, public.values, editable)
    if changes:
        try:
            _save_mine(runtime, user, changes)
        except InvalidInput as exc:
            errors = {exc.field or "logging_mode": exc.message}
            return my_page(
                request, runtime, user, CardState("log-email"), errors=errors, status_code=422
            )
    return saved_redirect(PAGE, "log-email", "api")


@router.post(f"{PAGE}/bcc/activate")
def activate_bcc(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    address: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """BCC-1: Activate. Without an address, the one the rep's org exposes is used (BCC-2)."""
    try:
        bcc.activate(runtime, user, address.strip() or None)
    except InvalidInput as exc:
        errors = {"bcc_address": exc.message}
        cards = CardState("log-email", "bcc")
        return my_page(
            request, runtime, user, cards, errors=errors, bcc_address=address, status_code=422
        )
    return saved_redirect(PAGE, "log-email", "bcc")


@router.post(f"{PAGE}/bcc/deactivate")
def deactivate_bcc(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    """Back to API logging; the address is kept for the next activation."""
    try:
        bcc.deactivate(runtime, user)
    except InvalidInput as exc:
        cards = CardState("log-email", "bcc")
        errors = {"bcc_address": exc.message}
        return my_page(request, runtime, user, cards, errors=errors, status_code=422)
    return saved_redirect(PAGE, "log-email", "bcc")


@router.post(f"{PAGE}/bcc/test")
def test_bcc(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    """Send a test message to the rep's address and show whether Salesforce logged it."""
    check = bcc.send_test(runtime, user, _mailer(request, runtime, user))
    return my_page(request, runtime, user, CardState("log-email", "bcc"), bcc_check=check)


@router.post(f"{PAGE}/tasks")
def save_task_sync(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    task_sync_mode: Annotated[str, Form(alias="task_sync")] = "off",
) -> Response:
    """TASK-1: the option; turning it on starts the first import (TASK-6/7)."""
    try:
        task_sync.set_mode(runtime, user, task_sync_mode)
    except InvalidInput as exc:
        errors = {"task_sync": exc.message}
        return my_page(
            request, runtime, user, CardState("task-sync"), errors=errors, status_code=422
        )
    return saved_redirect(PAGE, "task-sync")


@router.get("/settings/salesforce/task-sync-progress")
def task_sync_progress(request: Request, runtime: RuntimeDep, user: CurrentUser) -> JSONResponse:
    """The card's progress line while the first import runs (polled by settings.js)."""
    view = task_sync_view(runtime, user)
    summary = i18n.translate(view.summary, language_for(request)) if view.summary else ""
    return JSONResponse(view.to_json() | {"summary": summary})
