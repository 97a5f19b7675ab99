"""The landing page after sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from salesync.web.deps import CurrentUser
from salesync.web.templating import render

router = APIRouter()


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    return render(request, "home.html", {"section": "home"})
