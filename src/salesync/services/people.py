"""People of a team: create, edit, delete, list and import from CSV, with Salesforce id checks.

Visibility (TASK-10 "shared contacts"): every member of a team sees and edits the team's people;
a person is deleted only by their owner (the user who created them) or by an admin. People of
another team do not exist for the caller (``NotFound``, never ``PermissionDenied``), so ids
reveal nothing across teams. Email addresses are unique within a team, compared
case-insensitively; a CSV import updates the person with the row's email or creates one.
"""

from __future__ import annotations

import dataclasses
import enum
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from salesync.domain import ids, spreadsheet
from salesync.domain.wording import tr
from salesync.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from salesync.runtime import Runtime
from salesync.services import activities
from salesync.services.accounts import validate_email
from salesync.store import accounts as accounts_store
from salesync.store import people as people_store
from salesync.store.db import unit_of_work
from salesync.store.tables import Person, Role, User

#: Every editable field of a person, in display order.
PERSON_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "company",
    "title",
    "phone",
    "sf_lead_id",
    "sf_contact_id",
    "sf_account_id",
    "sf_opportunity_id",
)
#: Longest accepted value of each plain text field (the column sizes in ``tables.Person``).
TEXT_FIELD_LIMITS = {"first_name": 100, "last_name": 100, "company": 200, "title": 200, "phone": 50}
#: The key prefix each Salesforce id field must carry. API-FACTS §2.13.
SF_ID_PREFIXES = {
    "sf_lead_id": "00Q",
    "sf_contact_id": "003",
    "sf_account_id": "001",
    "sf_opportunity_id": "006",
}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: A CSV import is read whole before anything is written, so its size is bounded.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000

PersonValues = dict[str, str | None]


@dataclass(frozen=True)
class FieldProblem:
    """One reason a value was refused."""

    #: The person field (or ``"mapping"``/``"file"`` for a whole import).
    field: str
    message: str
    #: The CSV column the value came from, when it came from a file.
    column: str | None = None


class InvalidPerson(InvalidInput):
    """The person's details are invalid; nothing was changed."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        summary = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
        super().__init__(summary, field=problems[0].field)
        self.problems = tuple(problems)


# -- validation (pure) ------------------------------------------------------------------------


def clean_salesforce_id(field: str, value: str) -> str | None:
    """Return the 18-character form of a Salesforce id for ``field``; empty gives None.

    Raises ValueError when the id is malformed, its checksum does not fit, or its key prefix
    names another object (a Contact id in the Lead field). API-FACTS §2.13.
    """
    value = value.strip()
    if not value:
        return None
    if len(value) not in (15, 18) or not (value.isascii() and value.isalnum()):
        raise ValueError(
            f"{value!r} is not a Salesforce id: it must be 15 or 18 letters and digits"
        )
    try:
        normalized = ids.normalize(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a Salesforce id: its last 3 characters do not match"
        ) from None
    expected = SF_ID_PREFIXES[field]
    if normalized[:3] != expected:
        found = ids.KEY_PREFIXES.get(normalized[:3])
        what = f"a {found} id" if found else f"an id with the key prefix {normalized[:3]}"
        wanted = ids.KEY_PREFIXES[expected]
        raise ValueError(f"{value!r} is {what}; a {wanted} id starts with {expected}")
    return normalized


def _clean_text(field: str, value: str) -> str:
    limit = TEXT_FIELD_LIMITS[field]
    if len(value) > limit:
        raise ValueError(f"is longer than {limit} characters")
    return value


def _clean_email(value: str) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


def _clean_field(field: str, raw: str | None) -> str | None:
    value = (raw or "").strip()
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("contains control characters such as line breaks")
    if field == "email":
        return _clean_email(value)
    if field in SF_ID_PREFIXES:
        return clean_salesforce_id(field, value)
    return _clean_text(field, value)


def clean_values(values: Mapping[str, str | None]) -> tuple[PersonValues, list[FieldProblem]]:
    """Validate and normalise person fields: returns the clean values and every problem found.

    Text is stripped, an empty email or Salesforce id becomes None, and Salesforce ids are
    given in their 18-character form.
    """
    cleaned: PersonValues = {}
    problems: list[FieldProblem] = []
    for field, raw in values.items():
        if field not in PERSON_FIELDS:
            problems.append(FieldProblem(field, tr("is not a field of a person")))
            continue
        try:
            cleaned[field] = _clean_field(field, raw)
        except ValueError as exc:
            problems.append(FieldProblem(field, str(exc)))
    return cleaned, problems


def _identity_problems(values: Mapping[str, str | None]) -> list[FieldProblem]:
    if values.get("email") or values.get("first_name") or values.get("last_name"):
        return []
    return [FieldProblem("email", tr("a person needs an email address or a name"))]


def _complete(values: PersonValues) -> PersonValues:
    """All fields, the missing ones empty (None for email and Salesforce ids)."""
    empty: PersonValues = {
        field: None if field == "email" or field in SF_ID_PREFIXES else ""
        for field in PERSON_FIELDS
    }
    return {**empty, **values}


def _validated(values: Mapping[str, str | None]) -> PersonValues:
    cleaned, problems = clean_values(values)
    if problems:
        raise InvalidPerson(problems)
    return cleaned


def values_of(person: Person) -> PersonValues:
    """The editable fields of a stored person."""
    return {field: getattr(person, field) for field in PERSON_FIELDS}


# -- use cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleQuery:
    search: str = ""
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0


@dataclass(frozen=True)
class PeoplePage:
    items: list[Person]
    #: How many people match the search, over all pages.
    total: int
    limit: int
    offset: int
    #: Names of the team's users by id, to show who owns each person.
    owner_names: dict[int, str]


def _check_paging(query: PeopleQuery) -> None:
    if not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            tr("must be between 1 and {max_page_size}", max_page_size=MAX_PAGE_SIZE), field="limit"
        )
    if query.offset < 0:
        raise InvalidInput(tr("must not be negative"), field="offset")


def list_people(runtime: Runtime, actor: User, query: PeopleQuery) -> PeoplePage:
    """One page of the actor's team's people matching ``query.search``."""
    _check_paging(query)
    team_id = actor.team_id
    with unit_of_work(runtime.sessions) as session:
        items = people_store.search_people(
            session, team_id, query.search, limit=query.limit, offset=query.offset
        )
        total = people_store.count_people(session, team_id, query.search)
        owners = {user.id: user.name for user in accounts_store.team_users(session, team_id)}
    return PeoplePage(items, total, query.limit, query.offset, owners)


def _person_or_not_found(session: Session, actor: User, person_id: int) -> Person:
    person = people_store.person_in_team(session, actor.team_id, person_id)
    if person is None:
        raise NotFound(tr("person {person_id} does not exist", person_id=person_id))
    return person


def get_person(runtime: Runtime, actor: User, person_id: int) -> Person:
    with unit_of_work(runtime.sessions) as session:
        return _person_or_not_found(session, actor, person_id)


def _ensure_email_free(
    session: Session, team_id: int, email: str | None, except_id: int | None = None
) -> None:
    if email is None:
        return
    holder = people_store.person_by_email(session, team_id, email)
    if holder is not None and holder.id != except_id:
        raise Conflict(
            tr(
                "{email} is already the email of person {id} in your team",
                email=holder.email,
                id=holder.id,
            )
        )


def _new_person(actor: User, values: PersonValues, runtime: Runtime) -> Person:
    now = runtime.clock.now()
    return Person(
        team_id=actor.team_id, owner_id=actor.id, created_at=now, updated_at=now, **values
    )


def create_person(runtime: Runtime, actor: User, values: Mapping[str, str | None]) -> Person:
    """Create a person in the actor's team, owned by the actor.

    Raises InvalidPerson (every bad field), or Conflict when the email is taken in the team.
    """
    cleaned = _complete(_validated(values))
    if problems := _identity_problems(cleaned):
        raise InvalidPerson(problems)
    with unit_of_work(runtime.sessions) as session:
        _ensure_email_free(session, actor.team_id, cleaned["email"])
        return people_store.add_person(session, _new_person(actor, cleaned, runtime))


def _apply(session: Session, person: Person, changes: PersonValues, runtime: Runtime) -> None:
    """Change the person; a new Salesforce id retries the activities that found no match."""
    gained_id = any(
        changes.get(field) and changes[field] != getattr(person, field) for field in SF_ID_PREFIXES
    )
    for field, value in changes.items():
        setattr(person, field, value)
    now = runtime.clock.now()
    person.updated_at = now
    if gained_id:
        # DESIGN §3 "No record matches": unmatched items are retried when an id appears.
        activities.requeue_for_person(session, person.id, now=now)


def update_person(
    runtime: Runtime, actor: User, person_id: int, changes: Mapping[str, str | None]
) -> Person:
    """Change some fields of a team's person; fields not named in ``changes`` stay as they are."""
    cleaned = _validated(changes)
    with unit_of_work(runtime.sessions) as session:
        person = _person_or_not_found(session, actor, person_id)
        if problems := _identity_problems({**values_of(person), **cleaned}):
            raise InvalidPerson(problems)
        _ensure_email_free(session, actor.team_id, cleaned.get("email"), person.id)
        _apply(session, person, cleaned, runtime)
        return person


def may_delete(actor: User, person: Person) -> bool:
    """Admins delete anyone in their team; reps only the people they own."""
    return actor.role == Role.ADMIN or person.owner_id == actor.id


def delete_person(runtime: Runtime, actor: User, person_id: int) -> None:
    """Delete a person the actor may delete, unless calls were logged against them."""
    with unit_of_work(runtime.sessions) as session:
        person = _person_or_not_found(session, actor, person_id)
        if not may_delete(actor, person):
            raise PermissionDenied(tr("only an admin or the person's owner can delete this person"))
        # The schema deletes a person's calls with them; keep the call history instead.
        if calls := people_store.count_calls_of(session, person.id):
            raise Conflict(
                tr(
                    "person {id} has {calls} logged call(s) and cannot be deleted",
                    id=person.id,
                    calls=calls,
                )
            )
        people_store.delete_person(session, person)


# -- CSV import -------------------------------------------------------------------------------


class RowStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ImportRow:
    """What happened to one data row of the file."""

    #: Row number as a spreadsheet shows it: the header is row 1.
    row: int
    status: RowStatus
    person_id: int | None = None
    errors: tuple[FieldProblem, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    rows: list[ImportRow]

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def totals(self) -> dict[str, int]:
        return {status.value: self.count(status) for status in RowStatus} | {"rows": len(self.rows)}


@dataclass(frozen=True)
class _Columns:
    """Where each mapped field sits in the file, and the column names for the report."""

    header: list[str]
    positions: dict[str, int]

    def name_of(self, field: str) -> str:
        return self.header[self.positions[field]]


_FIELD_BY_KEY = {spreadsheet.column_key(field): field for field in PERSON_FIELDS}


def default_mapping(header: Sequence[str]) -> dict[str, str]:
    """Map the columns named like a person field ("Email", "First Name", "SF Lead ID")."""
    return {
        column: _FIELD_BY_KEY[spreadsheet.column_key(column)]
        for column in header
        if spreadsheet.column_key(column) in _FIELD_BY_KEY
    }


def _mapping_problem(
    column: str, field: str, header_keys: list[str], seen: dict[str, int]
) -> str | None:
    if field not in PERSON_FIELDS:
        return f"{column!r} is mapped to {field!r}, which is not one of {', '.join(PERSON_FIELDS)}"
    if column.strip().lower() not in header_keys:
        return f"the file has no column {column!r}"
    if field in seen:
        return f"more than one column is mapped to {field}"
    return None


def resolve_mapping(header: Sequence[str], mapping: Mapping[str, str] | None) -> dict[str, int]:
    """Turn a column-name -> field mapping into field -> column position.

    Columns are matched case-insensitively; a column mapped to "" is ignored. Raises
    InvalidInput (field ``mapping``) naming every problem; email must be mapped, since rows
    are matched on it.
    """
    chosen = default_mapping(header) if mapping is None else mapping
    header_keys = [column.strip().lower() for column in header]
    positions: dict[str, int] = {}
    problems = []
    for column, field in chosen.items():
        if not field:
            continue
        if problem := _mapping_problem(column, field, header_keys, positions):
            problems.append(problem)
        else:
            positions[field] = header_keys.index(column.strip().lower())
    if "email" not in positions:
        problems.append("no column is mapped to email, which rows are matched on")
    if problems:
        raise InvalidInput("; ".join(problems), field="mapping")
    return positions


def _row_values(cells: list[str], positions: Mapping[str, int]) -> dict[str, str]:
    """The mapped, non-empty cells of a row (an empty cell leaves the stored value alone)."""
    values = {}
    for field, position in positions.items():
        if value := spreadsheet.cell(cells, position):
            values[field] = value
    return values


def _save_row(runtime: Runtime, actor: User, values: PersonValues) -> tuple[RowStatus, int]:
    email = values["email"]
    assert email is not None
    with unit_of_work(runtime.sessions) as session:
        existing = people_store.person_by_email(session, actor.team_id, email)
        if existing is None:
            created = people_store.add_person(
                session, _new_person(actor, _complete(values), runtime)
            )
            return RowStatus.CREATED, created.id
        values.pop("email")  # keep the stored spelling of the address that matched
        _apply(session, existing, values, runtime)
        return RowStatus.UPDATED, existing.id


def _import_row(
    runtime: Runtime, actor: User, number: int, cells: list[str], columns: _Columns
) -> ImportRow:
    values = _row_values(cells, columns.positions)
    cleaned, problems = clean_values(values)
    if "email" not in values:
        problems.append(FieldProblem("email", tr("is empty; rows are matched on email")))
    if problems:
        located = tuple(dataclasses.replace(p, column=columns.name_of(p.field)) for p in problems)
        return ImportRow(number, RowStatus.REJECTED, errors=located)
    status, person_id = _save_row(runtime, actor, cleaned)
    return ImportRow(number, status, person_id)


def import_people_csv(
    runtime: Runtime, actor: User, content: bytes, mapping: Mapping[str, str] | None = None
) -> ImportReport:
    """Create or update the actor's team's people from a CSV file, one transaction per row.

    ``mapping`` maps CSV column names to person fields; None maps the columns named like a
    field. A rejected row is reported with every reason and never stops the other rows.
    Raises InvalidInput (field ``file`` or ``mapping``) before writing anything when the
    file or the mapping is unusable.
    """
    parsed = spreadsheet.read_csv(content, max_bytes=MAX_IMPORT_BYTES, max_rows=MAX_IMPORT_ROWS)
    columns = _Columns(parsed.header, resolve_mapping(parsed.header, mapping))
    rows = [_import_row(runtime, actor, number, cells, columns) for number, cells in parsed.records]
    return ImportReport(rows)
