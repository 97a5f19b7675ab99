"""Diagnostics through the JSON API: grouped failures, retries, CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from salesync.domain.wording import Translatable
from salesync.i18n import translate
from salesync.services import diagnostics
from salesync.web.deps import CurrentUser, RuntimeDep
from salesync.web.languages import language_for
from salesync.web.schemas import BoundedInput, Id, Line, OptionalIdQuery

#: Starts every CSV salesync exports (spreadsheets then know the file is UTF-8).
CSV_BOM = "\ufeff"

router = APIRouter(prefix="/diagnostics", tags=["diagnostics"])


class EntryPublic(BaseModel):
    id: int
    user_id: int | None
    user_name: str
    item_type: str
    item_id: int | None
    message: str
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    retryable: bool


class GroupPublic(BaseModel):
    category: str
    code: str
    count: int
    message: str
    cause: str
    fix: str
    entries: list[EntryPublic]


class UsagePublic(BaseModel):
    org_id: str
    org_used: int
    org_max: int
    salesync_calls_24h: int
    allowance: int


class StreamPublic(BaseModel):
    org_id: str
    #: "cdc": Salesforce changes arrive in real time; "polling": every poll interval.
    mode: str
    last_event_at: datetime | None
    lag_ms: int | None
    reason: str


class OverviewPublic(BaseModel):
    groups: list[GroupPublic]
    backlog: dict[str, int]
    usage: list[UsagePublic]
    setup_checks: list[tuple[str, str, str]]
    task_streams: list[StreamPublic] = []


class RetryBody(BoundedInput):
    entry_ids: list[Id] = Field(default=[], max_length=10_000)
    category: Annotated[Line, Field(max_length=64)] | None = None
    code: Annotated[Line, Field(max_length=64)] | None = None


class RetryResult(BaseModel):
    requeued: int


def _overview(runtime: RuntimeDep, user: CurrentUser, user_id: int | None) -> diagnostics.Overview:
    with runtime.sessions() as session:
        return diagnostics.overview(session, user, only_user=user_id, now=runtime.clock.now())


@router.get("", response_model=OverviewPublic)
def read_diagnostics(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    user_id: OptionalIdQuery = None,
) -> OverviewPublic:
    """What did not sync and why; admins see the team (or one member with ``user_id``).

    salesync's own texts (messages, causes, fixes, setup checks) come in the reader's
    language; what Salesforce said stays as it said it; codes never change.
    """
    data = _overview(runtime, user, user_id)
    language = language_for(request)

    def shown(text: str) -> str:
        # Only our own texts: a Salesforce message or a name is shown as it is.
        return translate(text, language) if isinstance(text, Translatable) else text

    return OverviewPublic(
        groups=[
            GroupPublic(
                category=g.category,
                code=g.code,
                count=g.count,
                message=shown(g.message),
                cause=shown(g.cause),
                fix=shown(g.fix),
                entries=[
                    EntryPublic(
                        **{**vars(e), "message": shown(e.message), "user_name": shown(e.user_name)}
                    )
                    for e in g.entries
                ],
            )
            for g in data.groups
        ],
        backlog=data.backlog,
        usage=[UsagePublic(**vars(u)) for u in data.usage],
        setup_checks=[(shown(who), level, shown(text)) for who, level, text in data.setup_checks],
        task_streams=[StreamPublic(**vars(s)) for s in data.streams],
    )


@router.post("/retry", response_model=RetryResult)
def retry(runtime: RuntimeDep, user: CurrentUser, body: RetryBody) -> RetryResult:
    """Retry entries by id, or a whole group by category and code."""
    if body.category and body.code:
        return RetryResult(
            requeued=diagnostics.retry_group(runtime, user, body.category, body.code)
        )
    return RetryResult(requeued=diagnostics.retry(runtime, user, body.entry_ids))


@router.get("/export.csv")
def export(
    runtime: RuntimeDep,
    user: CurrentUser,
    user_id: OptionalIdQuery = None,
) -> Response:
    csv_text = diagnostics.export_csv(_overview(runtime, user, user_id))
    return Response(
        # UTF-8 with a byte order mark: without it Excel reads the file in the system's
        # legacy code page and garbles Japanese, Chinese and German names.
        CSV_BOM + csv_text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="diagnostics.csv"'},
    )
