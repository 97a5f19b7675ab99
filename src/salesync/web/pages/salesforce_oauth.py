"""The browser side of connecting Salesforce: go to Salesforce's sign-in, come back here."""

from __future__ import annotations

from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import PermissionDenied, SalesyncError
from salesync.salesforce.errors import SalesforceError
from salesync.services import connections, org_setup
from salesync.store.tables import ConnectionPurpose, Role
from salesync.web.api.salesforce import remember_pending, take_pending
from salesync.web.deps import CurrentUser, RuntimeDep, SessionDep
from salesync.web.pages.salesforce_connections import PAGES

router = APIRouter(prefix="/salesforce")

#: Where the rep lands after connecting (the Connections tab of My Account).
CONNECTIONS_PAGE = PAGES["account"]
#: Session key: which Connections page (My Account or Admin Settings) started the round trip.
RETURN_KEY = "salesforce_connect_return"


def _setup_warnings(runtime: RuntimeDep, connection_id: int) -> list[str]:
    """Discover the org right away, so API access and field problems show at once."""
    try:
        return org_setup.warnings_of(org_setup.refresh_org_profile(runtime, connection_id))
    except SalesforceError as exc:
        return [f"Connected, but the org check failed for now: {exc}"]


@router.get("/connect")
def connect(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    environment: Annotated[str, Query(pattern="^(production|sandbox)$")] = "production",
    back: Literal["account", "admin"] = "account",
    purpose: Literal["user", "team_sync"] = "user",
) -> Response:
    """CONN-4: send the browser to Salesforce's sign-in and consent page.

    ``purpose=team_sync`` (admins) connects the team's sync connection, the integration user
    that reads changes for the whole team (DESIGN §3 "Connections").
    """
    if purpose == "team_sync" and user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can connect the team sync connection"))
    url, pending = connections.begin_connect(
        runtime, user, environment, purpose=ConnectionPurpose(purpose)
    )
    remember_pending(request.session, runtime, pending)
    request.session[RETURN_KEY] = back
    return RedirectResponse(url, status_code=303)


@router.get("/callback")
def callback(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    """Salesforce sends the browser back here with a code (or an error)."""
    pending = take_pending(request.session, runtime)
    if error:
        browser.flash(
            tr("Salesforce did not connect: {reason}.", reason=error_description or error)
        )
    elif pending is None or pending.user_id != user.id:
        browser.flash(tr("This sign-in answer does not belong to this browser. Connect again."))
    else:
        try:
            with httpx.Client(timeout=30.0) as http:
                outcome = connections.complete_connect(
                    runtime, pending, state=state, code=code, http=http
                )
        except (SalesforceError, SalesyncError) as exc:
            browser.flash(tr("Salesforce did not connect: {reason}", reason=exc))
        else:
            browser.flash(tr("Connected to Salesforce as {username}.", username=outcome.username))
            for warning in [*outcome.warnings, *_setup_warnings(runtime, outcome.connection_id)]:
                browser.flash(warning)
    back = request.session.pop(RETURN_KEY, "account")
    landing = PAGES["admin"] if back == "admin" and user.role is Role.ADMIN else CONNECTIONS_PAGE
    return RedirectResponse(landing, status_code=303)
