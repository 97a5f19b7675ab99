"""Request and response bodies of the JSON API (kept apart from the tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from salesync.store.tables import Role

# --- Bounds shared by every request body, path and query --------------------------------------
# Database keys are signed 64-bit integers: a larger number can never name a row, and SQLite
# raises on it, so it is refused as invalid input before any query.
MAX_ID = 2**63 - 1
#: Counts and offsets a client may ask for (far beyond any real list, far below 64 bits).
MAX_OFFSET = 1_000_000_000

#: Carriage return, line feed and tab are allowed in multi-line text only.
_LINE_BREAKS = frozenset("\r\n\t")


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` cannot be stored as text, or None.

    An unpaired surrogate (JSON ``"\\ud800"``) cannot be encoded as UTF-8; a control character
    in a name or host breaks headers and logs later. Both are refused where they come in.
    """
    for char in value:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return "contains an unpaired surrogate (not valid Unicode text)"
        if (code < 0x20 or 0x7F <= code < 0xA0) and not (multiline and char in _LINE_BREAKS):
            return f"contains control characters (U+{code:04X})"
    return None


def _single_line(value: str) -> str:
    problem = text_problem(value, multiline=False)
    if problem:
        raise ValueError(problem)
    return value


def _multi_line(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


#: A database id in a body.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: A database id in a path: ``/people/{person_id}``.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
#: An optional database id in a query: ``?user_id=``.
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
#: A paging offset in a query.
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
#: One line of text (a name, a subject, a host): no control characters.
Line = Annotated[str, AfterValidator(_single_line)]
#: Free text (a body, call notes): line breaks and tabs allowed, other control characters not.
Multiline = Annotated[str, AfterValidator(_multi_line)]


Name = Annotated[Line, Field(max_length=200)]
EmailText = Annotated[Line, Field(max_length=320)]
ShortLine = Annotated[Line, Field(max_length=255)]
#: Plain-text email bodies and call notes (Salesforce keeps 32,000 of them in a Task).
LongText = Annotated[Multiline, Field(max_length=100_000)]
#: IANA time zone names are short.
TimeZoneName = Annotated[Line, Field(max_length=64)]
Password = Annotated[str, Field(max_length=256)]


def _check_strings(value: Any) -> Any:
    """Refuse unpaired surrogates anywhere in a value (nested lists and dicts included)."""
    if isinstance(value, str):
        if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
            raise ValueError("contains an unpaired surrogate (not valid Unicode text)")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    return value


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class BoundedInput(BaseModel):
    """Base of every request body: unknown fields refused, and no field of any type may carry
    text that cannot be stored (a per-field type adds lengths and control characters)."""

    #: An unknown field is a typo the client wants to hear about.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _check_strings(value)


_Input = BoundedInput


class FieldProblemPublic(BaseModel):
    field: str | None
    message: str
    #: Only in the answer to a refused task import: the row (None: the whole file) and column.
    row: int | None = None
    column: str | None = None


class ProblemsBody(BaseModel):
    """The body of every 422 answer: each bad field and why."""

    detail: list[FieldProblemPublic]


class MessageBody(BaseModel):
    """The body of 401, 403, 404 and 409 answers."""

    detail: str


class UserPublic(_Public):
    id: int
    email: str
    name: str
    role: Role
    time_zone: str
    #: The language the user chose: ``en``, ``ja``, ``zh-Hant`` or ``de``; "" is automatic
    #: (their browser's language, then their team's).
    language: str
    is_active: bool
    created_at: datetime


class ProfileUpdate(_Input):
    """PATCH /api/v1/me: only the fields sent change."""

    name: str | None = Field(default=None, max_length=200)
    #: IANA time zone name, e.g. ``Europe/Paris``.
    time_zone: str | None = Field(default=None, max_length=64)
    #: ``en``, ``ja``, ``zh-Hant`` or ``de`` (regional tags such as ``de-AT`` or ``zh-TW``
    #: are read as their language), or "" for automatic: the browser's, then the team's.
    language: str | None = Field(default=None, max_length=16)


class UserCreate(_Input):
    email: EmailText
    name: Name = ""
    role: Role = Role.REP
    #: IANA time zone name, e.g. ``Europe/Paris``.
    time_zone: TimeZoneName = "UTC"
    password: Password


class PasswordReset(_Input):
    password: Password


class TokenCreate(_Input):
    name: Annotated[Line, Field(max_length=100)] = Field(
        description="What the token is for, e.g. 'CRM import script'."
    )


class TokenPublic(_Public):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself. It is shown only in this answer.")


SalesforceIdText = Annotated[Line, Field(max_length=18)]


class PersonFields(_Input):
    first_name: Annotated[Line, Field(max_length=100)] | None = None
    last_name: Annotated[Line, Field(max_length=100)] | None = None
    email: EmailText | None = None
    company: Annotated[Line, Field(max_length=200)] | None = None
    title: Annotated[Line, Field(max_length=200)] | None = None
    phone: Annotated[Line, Field(max_length=50)] | None = None
    sf_lead_id: SalesforceIdText | None = Field(
        None, description="Salesforce Lead id (00Q…), 15 or 18 chars."
    )
    sf_contact_id: SalesforceIdText | None = Field(
        None, description="Salesforce Contact id (003…)."
    )
    sf_account_id: SalesforceIdText | None = Field(
        None, description="Salesforce Account id (001…)."
    )
    sf_opportunity_id: SalesforceIdText | None = Field(
        None, description="Salesforce Opportunity id (006…)."
    )


class PersonCreate(PersonFields):
    """A new person: needs an email or a name; the rest is optional."""


class PersonUpdate(PersonFields):
    """Only the fields sent are changed; send ``null`` or ``""`` to clear one."""


class PersonPublic(_Public):
    id: int
    owner_id: int | None
    first_name: str
    last_name: str
    email: str | None
    company: str
    title: str
    phone: str
    #: Salesforce ids, always in their 18-character form.
    sf_lead_id: str | None
    sf_contact_id: str | None
    sf_account_id: str | None
    sf_opportunity_id: str | None
    created_at: datetime
    updated_at: datetime


class PeoplePagePublic(BaseModel):
    items: list[PersonPublic]
    total: int
    limit: int
    offset: int


class ImportProblemPublic(_Public):
    field: str
    column: str | None
    message: str


class ImportRowPublic(_Public):
    row: int = Field(description="Row number as a spreadsheet shows it (the header is row 1).")
    status: str = Field(description="created, updated or rejected")
    person_id: int | None
    errors: list[ImportProblemPublic]


class ImportReportPublic(BaseModel):
    rows: list[ImportRowPublic]
    totals: dict[str, int]
