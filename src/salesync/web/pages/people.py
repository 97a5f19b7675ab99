"""People pages: the list with Salesforce ids, add/edit forms, delete, and CSV import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput
from salesync.services import people
from salesync.store.tables import Person
from salesync.web.api.people import parse_mapping, read_upload
from salesync.web.deps import CurrentUser, RuntimeDep, SessionDep
from salesync.web.schemas import MAX_OFFSET, IdPath
from salesync.web.templating import render

router = APIRouter(prefix="/people")

PAGE_SIZE = 25
#: Labels of the person fields, in form order.
FIELD_LABELS = {
    "first_name": tr("First name"),
    "last_name": tr("Last name"),
    "email": tr("Email"),
    "company": tr("Company"),
    "title": tr("Title"),
    "phone": tr("Phone"),
    "sf_lead_id": tr("Salesforce Lead ID"),
    "sf_contact_id": tr("Salesforce Contact ID"),
    "sf_account_id": tr("Salesforce Account ID"),
    "sf_opportunity_id": tr("Salesforce Opportunity ID"),
}


class PersonForm(BaseModel):
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    company: str = ""
    title: str = ""
    phone: str = ""
    sf_lead_id: str = ""
    sf_contact_id: str = ""
    sf_account_id: str = ""
    sf_opportunity_id: str = ""


PersonFormDep = Annotated[PersonForm, Form()]


@router.get("")
def people_list(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    search: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_OFFSET // 100)] = 1,
) -> Response:
    query = people.PeopleQuery(search, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    result = people.list_people(runtime, user, query)
    context = {
        "section": "people",
        "result": result,
        "search": search,
        "page": page,
        "pages": max(1, -(-result.total // PAGE_SIZE)),
        "deletable": {p.id for p in result.items if people.may_delete(user, p)},
    }
    return render(request, "people.html", context)


def _form_page(
    request: Request,
    values: dict[str, Any],
    *,
    person: Person | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "section": "people",
        "person": person,
        "values": {field: values.get(field) or "" for field in FIELD_LABELS},
        "labels": FIELD_LABELS,
        "errors": errors or {},
    }
    return render(request, "person_form.html", context, status_code=status_code)


Saver = Callable[[dict[str, Any]], Person]


def _save(
    request: Request, browser: SessionDep, form: PersonForm, save: Saver, person: Person | None
) -> Response:
    """Run a create or update; on bad input show the form again with every problem."""
    values = form.model_dump()
    try:
        saved = save(values)
    except people.InvalidPerson as exc:
        errors = {problem.field: problem.message for problem in exc.problems}
        return _form_page(request, values, person=person, errors=errors, status_code=422)
    except Conflict as exc:
        return _form_page(
            request, values, person=person, errors={"email": exc.message}, status_code=409
        )
    browser.flash(tr("Saved {name}.", name=_display_name(saved)))
    return RedirectResponse("/people", status_code=303)


def _display_name(person: Person) -> str:
    return " ".join(part for part in (person.first_name, person.last_name) if part) or (
        person.email or f"person {person.id}"
    )


@router.get("/new")
def new_person(request: Request, user: CurrentUser) -> Response:
    return _form_page(request, {})


@router.post("/new")
def create_person(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    form: PersonFormDep,
) -> Response:
    return _save(
        request, browser, form, lambda values: people.create_person(runtime, user, values), None
    )


@router.get("/import")
def import_form(request: Request, user: CurrentUser) -> Response:
    return _import_page(request, mapping="", report=None)


def _import_page(
    request: Request,
    *,
    mapping: str,
    report: people.ImportReport | None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "section": "people",
        "mapping": mapping,
        "report": report,
        "error": error,
        "fields": list(FIELD_LABELS),
    }
    return render(request, "people_import.html", context, status_code=status_code)


def parse_mapping_lines(text: str) -> dict[str, str] | None:
    """The form's mapping: one ``Column name = field`` per line (or the API's JSON object)."""
    if text.strip().startswith("{"):
        return parse_mapping(text)
    mapping: dict[str, str] = {}
    for line in filter(str.strip, text.splitlines()):
        column, equals, field = line.rpartition("=")
        if not equals or not column.strip():
            raise InvalidInput(
                tr("{value} is not of the form 'Column name = field'", value=repr(line.strip())),
                field="mapping",
            )
        mapping[column.strip()] = field.strip()
    return mapping or None


@router.post("/import")
def import_people(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    mapping: Annotated[str, Form()] = "",
) -> Response:
    try:
        content = read_upload(file) if file is not None else b""
        report = people.import_people_csv(runtime, user, content, parse_mapping_lines(mapping))
    except InvalidInput as exc:
        error = f"{'File' if exc.field == 'file' else 'Column mapping'}: {exc.message}"
        return _import_page(request, mapping=mapping, report=None, error=error, status_code=422)
    return _import_page(request, mapping=mapping, report=report)


@router.get("/{person_id}/edit")
def edit_person(
    request: Request, runtime: RuntimeDep, user: CurrentUser, person_id: IdPath
) -> Response:
    person = people.get_person(runtime, user, person_id)
    return _form_page(request, people.values_of(person), person=person)


@router.post("/{person_id}/edit")
def update_person(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    browser: SessionDep,
    person_id: IdPath,
    form: PersonFormDep,
) -> Response:
    person = people.get_person(runtime, user, person_id)

    def save(values: dict[str, Any]) -> Person:
        return people.update_person(runtime, user, person_id, values)

    return _save(request, browser, form, save, person)


@router.post("/{person_id}/delete")
def delete_person(
    runtime: RuntimeDep, user: CurrentUser, browser: SessionDep, person_id: IdPath
) -> Response:
    people.delete_person(runtime, user, person_id)
    browser.flash(tr("The person was deleted."))
    return RedirectResponse("/people", status_code=303)
