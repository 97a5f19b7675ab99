"""The HTML pages: one router per area, every POST checked for the session's CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from salesync.web.deps import check_form_csrf
from salesync.web.pages import (
    activity,
    auth,
    command_center,
    diagnostics,
    engagement,
    home,
    mailbox,
    people,
    recipients,
    salesforce_connections,
    salesforce_oauth,
    salesforce_settings,
    salesforce_team,
    settings,
    users,
)


def create_pages_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(check_form_csrf)], include_in_schema=False)
    pages = (auth, home, settings, users, people, salesforce_oauth)
    salesforce = (salesforce_connections, salesforce_settings, salesforce_team)
    for module in (
        *pages,
        *salesforce,
        command_center,
        recipients,
        activity,
        diagnostics,
        mailbox,
        engagement,
    ):
        router.include_router(module.router)
    return router
