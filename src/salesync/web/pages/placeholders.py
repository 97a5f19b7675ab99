"""Pages of areas not built yet: each says so plainly and shows no made-up data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from salesync.web.deps import AdminUser, CurrentUser
from salesync.web.templating import render

router = APIRouter()


def _not_yet(request: Request, section: str, title: str, purpose: str) -> Response:
    context = {"section": section, "title": title, "purpose": purpose}
    return render(request, "not_available.html", context)


@router.get("/settings/account/salesforce/connections")
def my_connections(request: Request, user: CurrentUser) -> Response:
    purpose = "Connect your own Salesforce user (production or sandbox) or reconnect it."
    return _not_yet(request, "settings", "Salesforce Connections", purpose)


@router.get("/settings/account/salesforce/sync-settings")
def my_sync_settings(request: Request, user: CurrentUser) -> Response:
    purpose = "What you log to Salesforce and whether reminder tasks sync both ways."
    return _not_yet(request, "settings", "Salesforce Sync Settings", purpose)


@router.get("/settings/salesforce/connections")
def connections_after_connect(user: CurrentUser) -> Response:
    """Where the Salesforce sign-in round trip lands; the rep's own Connections page."""
    return RedirectResponse("/settings/account/salesforce/connections", status_code=303)


@router.get("/settings/admin/salesforce/connections")
def team_connections(request: Request, admin: AdminUser) -> Response:
    purpose = "Your team's Salesforce connections and the team sync connection."
    return _not_yet(request, "settings", "Salesforce Connections (team)", purpose)


@router.get("/settings/admin/salesforce/sync-settings")
def team_sync_settings(request: Request, admin: AdminUser) -> Response:
    purpose = "Team-wide Sync Settings, locks, the subject template and the API budget."
    return _not_yet(request, "settings", "Salesforce Sync Settings (team)", purpose)
