"""Request and response bodies of the JSON API (kept apart from the tables)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from salesync.store.tables import Role


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _Input(BaseModel):
    #: An unknown field is a typo the client wants to hear about.
    model_config = ConfigDict(extra="forbid")


class FieldProblemPublic(BaseModel):
    field: str | None
    message: str


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
    #: The language the user reads salesync in (BCP 47 tag).
    language: str
    is_active: bool
    created_at: datetime


class ProfileUpdate(_Input):
    """PATCH /api/v1/me: only the fields sent change."""

    name: str | None = Field(default=None, max_length=200)
    #: IANA time zone name, e.g. ``Europe/Paris``.
    time_zone: str | None = Field(default=None, max_length=64)
    #: BCP 47 language tag, e.g. ``en`` or ``de``.
    language: str | None = Field(default=None, max_length=16)


class UserCreate(_Input):
    email: str
    name: str = ""
    role: Role = Role.REP
    #: IANA time zone name, e.g. ``Europe/Paris``.
    time_zone: str = "UTC"
    password: str


class TokenCreate(_Input):
    name: str = Field(description="What the token is for, e.g. 'CRM import script'.")


class TokenPublic(_Public):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself. It is shown only in this answer.")


class PersonFields(_Input):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    company: str | None = None
    title: str | None = None
    phone: str | None = None
    sf_lead_id: str | None = Field(None, description="Salesforce Lead id (00Q…), 15 or 18 chars.")
    sf_contact_id: str | None = Field(None, description="Salesforce Contact id (003…).")
    sf_account_id: str | None = Field(None, description="Salesforce Account id (001…).")
    sf_opportunity_id: str | None = Field(None, description="Salesforce Opportunity id (006…).")


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
