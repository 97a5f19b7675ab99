"""People of the caller's team: CRUD, search with paging, and CSV import."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel

from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.services import people, people_lookup
from salesync.store.tables import Person
from salesync.web.deps import CurrentUser, RuntimeDep
from salesync.web.schemas import (
    IdPath,
    ImportReportPublic,
    OffsetQuery,
    PeoplePagePublic,
    PersonCreate,
    PersonPublic,
    PersonUpdate,
)

router = APIRouter(prefix="/people", tags=["people"])


@router.get("", response_model=PeoplePagePublic)
def list_people(
    runtime: RuntimeDep,
    user: CurrentUser,
    search: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=people.MAX_PAGE_SIZE)] = people.DEFAULT_PAGE_SIZE,
    offset: OffsetQuery = 0,
) -> PeoplePagePublic:
    page = people.list_people(runtime, user, people.PeopleQuery(search, limit, offset))
    items = [PersonPublic.model_validate(person) for person in page.items]
    return PeoplePagePublic(items=items, total=page.total, limit=page.limit, offset=page.offset)


@router.post("", response_model=PersonPublic, status_code=201)
def create_person(runtime: RuntimeDep, user: CurrentUser, body: PersonCreate) -> Person:
    return people.create_person(runtime, user, body.model_dump(exclude_unset=True))


@router.get("/{person_id}", response_model=PersonPublic)
def read_person(runtime: RuntimeDep, user: CurrentUser, person_id: IdPath) -> Person:
    return people.get_person(runtime, user, person_id)


@router.patch("/{person_id}", response_model=PersonPublic)
def update_person(
    runtime: RuntimeDep, user: CurrentUser, person_id: IdPath, body: PersonUpdate
) -> Person:
    return people.update_person(runtime, user, person_id, body.model_dump(exclude_unset=True))


class FindResult(BaseModel):
    person: PersonPublic
    filled: dict[str, str]
    contacts_found: int
    leads_found: int


@router.post("/{person_id}/find-in-salesforce", response_model=FindResult)
def find_in_salesforce(runtime: RuntimeDep, user: CurrentUser, person_id: IdPath) -> FindResult:
    """Fill the person's Salesforce ids from your org by their email address."""
    outcome = people_lookup.find_in_salesforce(runtime, user, person_id)
    return FindResult(
        person=PersonPublic.model_validate(outcome.person),
        filled=outcome.filled,
        contacts_found=outcome.contacts_found,
        leads_found=outcome.leads_found,
    )


@router.delete("/{person_id}", status_code=204)
def delete_person(runtime: RuntimeDep, user: CurrentUser, person_id: IdPath) -> Response:
    people.delete_person(runtime, user, person_id)
    return Response(status_code=204)


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    """The import's column mapping from its JSON text; empty means "columns named like fields"."""
    if raw is None or not raw.strip():
        return None
    try:
        mapping: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(tr("is not valid JSON: {msg}", msg=exc.msg), field="mapping") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str | None) for key, value in mapping.items()
    ):
        raise InvalidInput(tr('must be a JSON object such as {"Email": "email"}'), field="mapping")
    return {key: value or "" for key, value in mapping.items()}


def read_upload(upload: UploadFile, limit: int = people.MAX_IMPORT_BYTES) -> bytes:
    """The uploaded file, read one byte past ``limit`` so an oversized file is refused."""
    return upload.file.read(limit + 1)


@router.post("/import", response_model=ImportReportPublic)
def import_people(
    runtime: RuntimeDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, header row first")],
    mapping: Annotated[
        str | None,
        Form(
            description='JSON: CSV column -> person field, e.g. {"Email": "email"}',
            max_length=20_000,
        ),
    ] = None,
) -> ImportReportPublic:
    report = people.import_people_csv(runtime, user, read_upload(file), parse_mapping(mapping))
    return ImportReportPublic.model_validate(
        {"rows": report.rows, "totals": report.totals}, from_attributes=True
    )
