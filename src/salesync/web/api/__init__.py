"""The JSON API under /api/v1: one router per resource, token or cookie authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from salesync.web import api_tasks
from salesync.web.api import (
    activities,
    bcc,
    diagnostics,
    engagement,
    mailbox,
    me,
    people,
    salesforce,
    tokens,
    users,
)
from salesync.web.deps import check_api_csrf
from salesync.web.schemas import MessageBody, ProblemsBody

API_PREFIX = "/api/v1"

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": MessageBody, "description": "No valid API token or session"},
    403: {"model": MessageBody, "description": "Not allowed (role, or missing X-CSRF-Token)"},
    422: {"model": ProblemsBody, "description": "Invalid input; nothing was changed"},
}


def create_api_router() -> APIRouter:
    resources = APIRouter(prefix=API_PREFIX, dependencies=[Depends(check_api_csrf)])
    for module in (me, tokens, users, people, activities, salesforce, bcc, diagnostics, mailbox):
        resources.include_router(module.router)
    resources.include_router(engagement.router)
    api = APIRouter(responses=_ERROR_RESPONSES)
    api.include_router(resources)
    # Reminder tasks, task sync and the Command Center list: their router carries the
    # /api/v1 prefix and the CSRF check itself.
    api.include_router(api_tasks.router)
    return api
