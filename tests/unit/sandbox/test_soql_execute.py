"""SOQL evaluation against a small in-memory org: filters, dates, order, relationships, errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pytest

from salesync.sandbox.soql import FieldMeta, QueryResult, SoqlError, execute, parse

F = FieldMeta
NOW = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)  # a Wednesday; the week began Sunday 28th
VERSION = "59.0"
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(id15: str) -> str:
    """Append the case checksum (API-FACTS §2.13)."""
    suffix = ""
    for chunk in range(3):
        part = id15[chunk * 5 : chunk * 5 + 5]
        suffix += SUFFIX_ALPHABET[sum(1 << i for i, char in enumerate(part) if char.isupper())]
    return id15 + suffix


def test_the_id_helper_matches_the_documented_vector() -> None:
    assert id18("a0BA0000000L2ZC") == "a0BA0000000L2ZCMA0"


def rid(prefix: str, n: int) -> str:
    return id18(f"{prefix}{n:012d}")


USER = rid("005", 1)
QUEUE = rid("00G", 1)
ACME = rid("001", 1)
GLOBEX = rid("001", 2)
DEAL = rid("006", 1)
ANN = rid("00Q", 1)  # a Lead
BOB = rid("003", 1)  # a Contact
CASE_LOWER = id18("00Tabcdefghijkl")  # two Tasks whose ids differ only by case
CASE_UPPER = id18("00TABCDEFGHIJKL")
T1, T2, T3, T4, T5, T6 = (rid("00T", n) for n in range(1, 7))

OBJECTS: dict[str, tuple[FieldMeta, ...]] = {
    "Task": (
        F("Id", "id"),
        F("Subject", "combobox"),
        F("Status", "picklist"),
        F("Description", "textarea", filterable=False),
        F("ActivityDate", "date"),
        F("SystemModstamp", "datetime"),
        F("IsClosed", "boolean"),
        F("IsDeleted", "boolean"),
        F("CallDurationInSeconds", "int"),
        F("Amount__c", "currency"),
        F("WhoId", "reference", reference_to=("Contact", "Lead"), relationship_name="Who"),
        F("WhatId", "reference", reference_to=("Account", "Opportunity"), relationship_name="What"),
        F("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
        F("OwnerId", "reference", reference_to=("User", "Group"), relationship_name="Owner"),
    ),
    "Lead": (F("Id", "id"), F("Name", "string"), F("Email", "email")),
    # Contact.Email exists in the rows but field-level security hides it from this caller
    "Contact": (
        F("Id", "id"),
        F("Name", "string"),
        F("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
    ),
    "Account": (
        F("Id", "id"),
        F("Name", "string"),
        F("OwnerId", "reference", reference_to=("User",), relationship_name="Owner"),
    ),
    "Opportunity": (F("Id", "id"), F("Name", "string")),
    "User": (F("Id", "id"), F("Name", "string"), F("Email", "email")),
    "Group": (F("Id", "id"), F("Name", "string")),
}

CHILDREN = {
    ("lead", "tasks"): ("Task", "WhoId"),
    ("contact", "tasks"): ("Task", "WhoId"),
    ("account", "tasks"): ("Task", "WhatId"),
    ("account", "contacts"): ("Contact", "AccountId"),
}


def task(record_id: str, subject: str | None, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Id": record_id,
        "Subject": subject,
        "Status": "Not Started",
        "Description": "notes",
        "ActivityDate": None,
        "SystemModstamp": datetime(2024, 1, 1, tzinfo=UTC),
        "IsClosed": False,
        "IsDeleted": False,
        "CallDurationInSeconds": None,
        "Amount__c": None,
        "WhoId": None,
        "WhatId": None,
        "AccountId": None,
        "OwnerId": USER,
        "Secret__c": "hidden by field-level security",
    }
    row.update(fields)
    return row


def org_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "User": [{"Id": USER, "Name": "Uma", "Email": "uma@example.com"}],
        "Group": [{"Id": QUEUE, "Name": "Support Queue"}],
        "Account": [
            {"Id": ACME, "Name": "Acme", "OwnerId": USER},
            {"Id": GLOBEX, "Name": "Globex", "OwnerId": None},
        ],
        "Opportunity": [{"Id": DEAL, "Name": "Big Deal"}],
        "Lead": [{"Id": ANN, "Name": "Ann Lee", "Email": "ann@example.com"}],
        "Contact": [{"Id": BOB, "Name": "Bob Roe", "Email": "bob@example.com", "AccountId": ACME}],
        "Task": [
            task(
                T1,
                "Call Ann",
                Status="Completed",
                ActivityDate=date(2024, 1, 31),
                SystemModstamp=datetime(2024, 1, 31, 9, tzinfo=UTC),
                IsClosed=True,
                CallDurationInSeconds=60,
                Amount__c=12.5,
                WhoId=ANN,
                WhatId=ACME,
                AccountId=ACME,
            ),
            task(
                T2,
                "Email: Quote",
                ActivityDate=date(2024, 1, 30),
                SystemModstamp=datetime(2024, 1, 30, 23, 59, 59, tzinfo=UTC),
                WhoId=BOB,
                WhatId=DEAL,
                OwnerId=QUEUE,
            ),
            task(
                T3,
                "100% done_ok",
                Status="In Progress",
                ActivityDate=date(2024, 2, 1),
                SystemModstamp=datetime(2024, 1, 1, tzinfo=UTC),
                CallDurationInSeconds=300,
                WhatId=GLOBEX,
                AccountId=GLOBEX,
            ),
            task(
                T4,
                None,
                Status="Deferred",
                SystemModstamp=datetime(2023, 12, 31, 23, tzinfo=UTC),
                CallDurationInSeconds=0,
            ),
            task(
                T5,
                "call bob",
                ActivityDate=date(2024, 1, 24),
                SystemModstamp=datetime(2024, 1, 27, 10, tzinfo=UTC),
                IsClosed=True,
                WhoId=BOB,
                AccountId=ACME,
            ),
            task(T6, "Deleted call", IsDeleted=True, WhoId=ANN),
        ],
    }


class FakeOrg:
    """An in-memory QuerySource; it records the include_deleted flags it was given.

    Object names arrive as the query spells them, so every lookup ignores case.
    """

    def __init__(self, rows: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.data = org_rows() if rows is None else rows
        self.include_deleted_seen: list[bool] = []

    def fields(self, sobject: str) -> Mapping[str, FieldMeta] | None:
        for name, metas in OBJECTS.items():
            if name.lower() == sobject.lower():
                return {meta.name: meta for meta in metas}
        return None

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        self.include_deleted_seen.append(include_deleted)
        rows = next((v for k, v in self.data.items() if k.lower() == sobject.lower()), [])
        return [row for row in rows if include_deleted or not row.get("IsDeleted")]

    def lookup(
        self, sobject: str, field: str, keys: Iterable[str], include_deleted: bool
    ) -> Iterable[Mapping[str, Any]] | None:
        return None  # no index: every query reads ``rows``

    def row_by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        for sobject, rows in self.data.items():
            for row in rows:
                if row["Id"] == record_id:
                    return sobject, row
        return None

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        return CHILDREN.get((sobject.lower(), name.lower()))


def run(soql: str, org: FakeOrg | None = None, *, include_deleted: bool = False) -> QueryResult:
    return execute(
        parse(soql), org or FakeOrg(), now=NOW, version=VERSION, include_deleted=include_deleted
    )


def subjects(where: str, *, include_deleted: bool = False) -> set[str | None]:
    result = run(f"SELECT Subject FROM Task WHERE {where}", include_deleted=include_deleted)
    return {record["Subject"] for record in result.records}


def soql_error(soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        run(soql)
    return caught.value


ALL_LIVE = {"Call Ann", "Email: Quote", "100% done_ok", None, "call bob"}

# -- WHERE: text, boolean, numbers, logic ---------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Subject = 'call ann'", {"Call Ann"}),
        ("Subject = 'CALL ANN'", {"Call Ann"}),
        ("Subject != 'Call Ann'", ALL_LIVE - {"Call Ann"}),  # nulls satisfy != in SOQL
        ("Subject <> 'call ann'", ALL_LIVE - {"Call Ann"}),
        ("Subject = null", {None}),
        ("Subject != null", ALL_LIVE - {None}),
        ("Subject = ''", set()),
        ("Subject > 'c'", {"Call Ann", "call bob", "Email: Quote"}),
        ("Subject <= 'CALL BOB'", {"Call Ann", "call bob", "100% done_ok"}),
        ("Subject IN ('CALL ANN', 'call bob', 'nobody')", {"Call Ann", "call bob"}),
        ("Subject IN ('Call Ann', null)", {"Call Ann", None}),
        ("Subject NOT IN ('Call Ann')", ALL_LIVE - {"Call Ann"}),
        ("Subject NOT IN ('Call Ann', null)", ALL_LIVE - {"Call Ann", None}),
        ("Status = 'completed'", {"Call Ann"}),
        ("Status = 'Completed' OR Status = 'Deferred'", {"Call Ann", None}),
        ("IsClosed = true", {"Call Ann", "call bob"}),
        ("IsClosed = FALSE", {"Email: Quote", "100% done_ok", None}),
        ("IsClosed != true", {"Email: Quote", "100% done_ok", None}),
        # SOQL "Use null in WHERE": on a boolean, null means false
        ("IsClosed = null", {"Email: Quote", "100% done_ok", None}),
        ("IsClosed != null", {"Call Ann", "call bob"}),
        ("IsClosed IN (null)", {"Email: Quote", "100% done_ok", None}),
        ("CallDurationInSeconds > 0", {"Call Ann", "100% done_ok"}),
        ("CallDurationInSeconds >= 60", {"Call Ann", "100% done_ok"}),
        ("CallDurationInSeconds < 60", {None}),
        ("CallDurationInSeconds = 60.0", {"Call Ann"}),
        ("CallDurationInSeconds = null", {"Email: Quote", "call bob"}),
        ("CallDurationInSeconds IN (0, 300)", {None, "100% done_ok"}),
        ("Amount__c > 12.4", {"Call Ann"}),
        ("Amount__c < -1", set()),
        ("IsClosed = false AND CallDurationInSeconds > 0", {"100% done_ok"}),
        ("NOT Subject = 'Call Ann'", ALL_LIVE - {"Call Ann"}),
        ("(IsClosed = true AND Subject LIKE '%bob') OR Status = 'Deferred'", {"call bob", None}),
        (
            "IsClosed = true AND (Subject LIKE '%bob' OR Status = 'Completed')",
            {"call bob", "Call Ann"},
        ),
        ("NOT (IsClosed = true OR Status = 'Deferred')", {"Email: Quote", "100% done_ok"}),
        ("IsClosed = true AND (NOT Subject LIKE 'call a%')", {"call bob"}),
        ("Subject LIKE 'call%'", {"Call Ann", "call bob"}),
        ("Subject LIKE 'CALL%'", {"Call Ann", "call bob"}),
        ("Subject LIKE 'call'", set()),
        ("Subject LIKE '%:%'", {"Email: Quote"}),
        ("Subject LIKE 'call _nn'", {"Call Ann"}),
        ("Subject LIKE '%\\%%'", {"100% done_ok"}),
        ("Subject LIKE '100\\% done\\_ok'", {"100% done_ok"}),
        ("Subject LIKE '100_ done_ok'", {"100% done_ok"}),
        ("Subject LIKE '100\\_ done_ok'", set()),
        ("Subject LIKE '%.%'", set()),  # regex characters are literal
        ("Subject LIKE '%'", ALL_LIVE - {None}),
    ],
)
def test_where_on_plain_fields(where: str, expected: set[str | None]) -> None:
    assert subjects(where) == expected


# -- WHERE: dates and datetimes (now = Wed 2024-01-31 12:00 UTC) ----------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("ActivityDate = TODAY", {"Call Ann"}),
        ("ActivityDate = YESTERDAY", {"Email: Quote"}),
        ("ActivityDate = TOMORROW", {"100% done_ok"}),
        ("ActivityDate < TODAY", {"Email: Quote", "call bob"}),
        ("ActivityDate <= TODAY", {"Call Ann", "Email: Quote", "call bob"}),
        ("ActivityDate > TODAY", {"100% done_ok"}),
        ("ActivityDate >= TODAY", {"Call Ann", "100% done_ok"}),
        ("ActivityDate != TODAY", ALL_LIVE - {"Call Ann"}),
        ("ActivityDate = LAST_N_DAYS:1", {"Call Ann", "Email: Quote"}),
        ("ActivityDate = LAST_N_DAYS:6", {"Call Ann", "Email: Quote"}),
        ("ActivityDate = LAST_N_DAYS:7", {"Call Ann", "Email: Quote", "call bob"}),
        ("ActivityDate = NEXT_N_DAYS:1", {"100% done_ok"}),
        ("ActivityDate = NEXT_N_DAYS:0", set()),
        ("ActivityDate = THIS_WEEK", {"Call Ann", "Email: Quote", "100% done_ok"}),
        ("ActivityDate = LAST_WEEK", {"call bob"}),
        ("ActivityDate = NEXT_WEEK", set()),
        ("ActivityDate < THIS_WEEK", {"call bob"}),
        ("ActivityDate = THIS_MONTH", {"Call Ann", "Email: Quote", "call bob"}),
        ("ActivityDate > THIS_MONTH", {"100% done_ok"}),
        ("ActivityDate IN (TODAY, TOMORROW)", {"Call Ann", "100% done_ok"}),
        ("ActivityDate = 2024-01-31", {"Call Ann"}),
        ("ActivityDate > 2024-01-30", {"Call Ann", "100% done_ok"}),
        ("ActivityDate IN (2024-01-24, 2024-02-01)", {"call bob", "100% done_ok"}),
        ("ActivityDate = null", {None}),
        ("SystemModstamp = TODAY", {"Call Ann"}),
        ("SystemModstamp = YESTERDAY", {"Email: Quote"}),
        ("SystemModstamp > YESTERDAY", {"Call Ann"}),
        ("SystemModstamp >= YESTERDAY", {"Call Ann", "Email: Quote"}),
        ("SystemModstamp < TODAY", ALL_LIVE - {"Call Ann"}),
        ("SystemModstamp <= TODAY", ALL_LIVE),
        ("SystemModstamp = LAST_WEEK", {"call bob"}),
        ("SystemModstamp = THIS_MONTH", ALL_LIVE - {None}),
        ("SystemModstamp = LAST_N_DAYS:30", ALL_LIVE - {None}),
        ("SystemModstamp >= 2024-01-01T00:00:00Z", ALL_LIVE - {None}),
        ("SystemModstamp > 2024-01-01T00:00:00Z", {"Call Ann", "Email: Quote", "call bob"}),
        ("SystemModstamp = 2024-01-01T00:00:00.000+0000", {"100% done_ok"}),
        ("SystemModstamp = 2024-01-01T01:00:00+01:00", {"100% done_ok"}),
        ("SystemModstamp < 2024-01-01T00:30:00+01:00", {None}),
        ("SystemModstamp > 2024-01-30T18:00:00-06:00", {"Call Ann"}),
    ],
)
def test_where_on_dates_and_datetimes(where: str, expected: set[str | None]) -> None:
    assert subjects(where) == expected


def test_relative_dates_use_the_given_now_in_utc() -> None:
    late_evening_in_chicago = datetime(2024, 1, 31, 20, tzinfo=UTC).astimezone()
    result = execute(
        parse("SELECT Subject FROM Task WHERE ActivityDate = TODAY"),
        FakeOrg(),
        now=late_evening_in_chicago,
        version=VERSION,
    )
    assert [record["Subject"] for record in result.records] == ["Call Ann"]
    next_day = execute(
        parse("SELECT Subject FROM Task WHERE ActivityDate = TODAY"),
        FakeOrg(),
        now=datetime(2024, 2, 1, 0, 0, 1, tzinfo=UTC),
        version=VERSION,
    )
    assert [record["Subject"] for record in next_day.records] == ["100% done_ok"]


def test_a_missing_boolean_reads_as_false() -> None:
    rows = {"Task": [task(T1, "unset", IsClosed=None), task(T2, "set", IsClosed=True)]}
    result = run("SELECT Subject, IsClosed FROM Task WHERE IsClosed = false", FakeOrg(rows))
    assert [record["Subject"] for record in result.records] == ["unset"]


def test_weeks_start_on_sunday() -> None:
    rows = {
        "Task": [
            task(T1, "Sat", ActivityDate=date(2024, 1, 27)),
            task(T2, "Sun", ActivityDate=date(2024, 1, 28)),
        ]
    }
    result = run("SELECT Subject FROM Task WHERE ActivityDate = THIS_WEEK", FakeOrg(rows))
    assert [record["Subject"] for record in result.records] == ["Sun"]


# -- WHERE: relationships, ids, deleted rows ---------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Who.Type = 'Lead'", {"Call Ann"}),
        ("Who.Type = 'contact'", {"Email: Quote", "call bob"}),
        ("What.Type IN ('Account')", {"Call Ann", "100% done_ok"}),
        ("What.Type = null", {None, "call bob"}),
        ("Who.Name LIKE 'ann%'", {"Call Ann"}),
        ("Who.Name = 'Bob Roe'", {"Email: Quote", "call bob"}),
        ("Owner.Name = 'Support Queue'", {"Email: Quote"}),
        ("Owner.Email = 'uma@example.com'", ALL_LIVE - {"Email: Quote"}),
        ("Owner.Type = 'Group'", {"Email: Quote"}),
        ("Account.Name = 'acme'", {"Call Ann", "call bob"}),
        ("Account.Owner.Name = 'Uma'", {"Call Ann", "call bob"}),
        ("Account.Owner.Name = null", ALL_LIVE - {"Call Ann", "call bob"}),
        ("Who.Account.Name = 'Acme'", {"Email: Quote", "call bob"}),
    ],
)
def test_where_on_parent_relationships(where: str, expected: set[str | None]) -> None:
    assert subjects(where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (f"Id = '{T1}'", {"Call Ann"}),
        (f"Id = '{T1[:15]}'", {"Call Ann"}),
        (f"Id = '{T1.lower()}'", {"Call Ann"}),  # 18-char ids are case-insensitive
        (f"Id IN ('{T1[:15]}', '{T2}')", {"Call Ann", "Email: Quote"}),
        (f"Id != '{T1[:15]}'", ALL_LIVE - {"Call Ann"}),
        (f"Id NOT IN ('{T1}', '{T2[:15]}')", ALL_LIVE - {"Call Ann", "Email: Quote"}),
        (f"WhoId = '{ANN[:15]}'", {"Call Ann"}),
        (f"WhoId IN ('{BOB.upper()}')", {"Email: Quote", "call bob"}),
        ("WhoId = null", {"100% done_ok", None}),
        ("WhoId != null", {"Call Ann", "Email: Quote", "call bob"}),
        ("Id = 'not-an-id'", set()),
        ("Id != 'not-an-id'", ALL_LIVE),
        ("Id LIKE '00T%'", ALL_LIVE),
    ],
)
def test_where_on_ids(where: str, expected: set[str | None]) -> None:
    assert subjects(where) == expected


def test_15_char_ids_compare_case_sensitively() -> None:
    rows = {"Task": [task(CASE_LOWER, "lower"), task(CASE_UPPER, "upper")]}
    org = FakeOrg(rows)

    def found(literal: str) -> list[str]:
        result = run(f"SELECT Subject FROM Task WHERE Id = '{literal}'", org)
        return [record["Subject"] for record in result.records]

    assert found(CASE_LOWER[:15]) == ["lower"]
    assert found(CASE_UPPER[:15]) == ["upper"]
    assert found("00TAbcdefghijkl") == []
    assert found(CASE_UPPER.lower()) == ["upper"]  # the 18-char suffix restores the case
    assert found(CASE_LOWER.upper()) == ["lower"]


def test_deleted_rows_only_with_include_deleted_which_is_passed_through() -> None:
    org = FakeOrg()
    assert "Deleted call" not in {
        r["Subject"] for r in run("SELECT Subject FROM Task", org).records
    }
    assert org.include_deleted_seen == [False]
    every = run("SELECT Subject FROM Task WHERE IsDeleted = true", org, include_deleted=True)
    assert [record["Subject"] for record in every.records] == ["Deleted call"]
    assert org.include_deleted_seen[-1] is True


# -- ORDER BY, LIMIT, OFFSET --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Subject", [None, "100% done_ok", "Call Ann", "call bob", "Email: Quote"]),
        ("Subject ASC", [None, "100% done_ok", "Call Ann", "call bob", "Email: Quote"]),
        ("Subject DESC", [None, "Email: Quote", "call bob", "Call Ann", "100% done_ok"]),
        ("Subject NULLS LAST", ["100% done_ok", "Call Ann", "call bob", "Email: Quote", None]),
        ("Subject DESC NULLS LAST", ["Email: Quote", "call bob", "Call Ann", "100% done_ok", None]),
        (
            "Subject DESC NULLS FIRST",
            [None, "Email: Quote", "call bob", "Call Ann", "100% done_ok"],
        ),
        ("SystemModstamp", [None, "100% done_ok", "call bob", "Email: Quote", "Call Ann"]),
        ("SystemModstamp DESC", ["Call Ann", "Email: Quote", "call bob", "100% done_ok", None]),
        (
            "IsClosed, SystemModstamp DESC",
            ["Email: Quote", "100% done_ok", None, "Call Ann", "call bob"],
        ),
        ("IsClosed DESC, Subject", ["Call Ann", "call bob", None, "100% done_ok", "Email: Quote"]),
        (
            "ActivityDate DESC NULLS LAST, Id",
            ["100% done_ok", "Call Ann", "Email: Quote", "call bob", None],
        ),
        (
            "CallDurationInSeconds NULLS LAST, Subject",
            [None, "Call Ann", "100% done_ok", "call bob", "Email: Quote"],
        ),
        (
            "Who.Name NULLS LAST, Subject",
            ["Call Ann", "call bob", "Email: Quote", None, "100% done_ok"],
        ),
        (
            "Account.Owner.Name, Subject DESC",
            [None, "Email: Quote", "100% done_ok", "call bob", "Call Ann"],
        ),
        ("Id DESC", ["call bob", None, "100% done_ok", "Email: Quote", "Call Ann"]),
    ],
)
def test_order_by(order: str, expected: list[str | None]) -> None:
    result = run(f"SELECT Subject FROM Task ORDER BY {order}")
    assert [record["Subject"] for record in result.records] == expected


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        ("LIMIT 2", ["Call Ann", "Email: Quote"]),
        ("LIMIT 0", []),
        ("LIMIT 99", ["Call Ann", "Email: Quote", "100% done_ok", None, "call bob"]),
        ("LIMIT 2 OFFSET 1", ["Email: Quote", "100% done_ok"]),
        ("OFFSET 3", [None, "call bob"]),
        ("OFFSET 2000", []),
    ],
)
def test_limit_and_offset_apply_after_ordering(clauses: str, expected: list[str | None]) -> None:
    result = run(f"SELECT Subject FROM Task ORDER BY Id {clauses}")
    assert [record["Subject"] for record in result.records] == expected
    assert result.total_size == len(expected)


# -- output shape -------------------------------------------------------------------------------


def test_records_carry_attributes_and_wire_values_in_select_order() -> None:
    result = run(
        "SELECT SystemModstamp, ActivityDate, IsClosed, CallDurationInSeconds, Amount__c,"
        f" Subject, Id, WhoId FROM Task WHERE Id = '{T1}'"
    )
    assert result.total_size == 1
    record = result.records[0]
    assert record == {
        "attributes": {"type": "Task", "url": f"/services/data/v59.0/sobjects/Task/{T1}"},
        "SystemModstamp": "2024-01-31T09:00:00.000+0000",
        "ActivityDate": "2024-01-31",
        "IsClosed": True,
        "CallDurationInSeconds": 60,
        "Amount__c": 12.5,
        "Subject": "Call Ann",
        "Id": T1,
        "WhoId": ANN,
    }
    assert list(record) == [
        "attributes", "SystemModstamp", "ActivityDate", "IsClosed", "CallDurationInSeconds",
        "Amount__c", "Subject", "Id", "WhoId",
    ]  # fmt: skip


def test_datetimes_keep_milliseconds_and_are_written_in_utc() -> None:
    stamp = datetime(2024, 3, 1, 1, 2, 3, 456789, tzinfo=UTC).astimezone()
    rows = {"Task": [task(T1, "x", SystemModstamp=stamp)]}
    result = run("SELECT SystemModstamp FROM Task", FakeOrg(rows))
    assert result.records[0]["SystemModstamp"] == "2024-03-01T01:02:03.456+0000"


def test_names_are_case_insensitive_and_output_uses_canonical_names() -> None:
    result = run(f"select id, SUBJECT, who.NAME, what.type from TASK where ID = '{T1}'")
    assert result.records == [
        {
            "attributes": {"type": "Task", "url": f"/services/data/v59.0/sobjects/Task/{T1}"},
            "Id": T1,
            "Subject": "Call Ann",
            "Who": {
                "attributes": {"type": "Name", "url": f"/services/data/v59.0/sobjects/Lead/{ANN}"},
                "Name": "Ann Lee",
            },
            "What": {
                "attributes": {
                    "type": "Name",
                    "url": f"/services/data/v59.0/sobjects/Account/{ACME}",
                },
                "Type": "Account",
            },
        }
    ]


def test_parent_fields_merge_into_one_object_per_relationship() -> None:
    result = run(
        "SELECT Who.Name, Subject, Who.Type, Account.Name, Account.Owner.Name, Owner.Email"
        " FROM Task ORDER BY Id LIMIT 3"
    )
    url = "/services/data/v59.0/sobjects"
    first, second, third = result.records
    assert first["Who"] == {
        "attributes": {"type": "Name", "url": f"{url}/Lead/{ANN}"},
        "Name": "Ann Lee",
        "Type": "Lead",
    }
    assert first["Account"] == {
        "attributes": {"type": "Account", "url": f"{url}/Account/{ACME}"},
        "Name": "Acme",
        "Owner": {"attributes": {"type": "User", "url": f"{url}/User/{USER}"}, "Name": "Uma"},
    }
    assert first["Owner"] == {
        "attributes": {"type": "Name", "url": f"{url}/User/{USER}"},
        "Email": "uma@example.com",
    }
    assert list(first) == ["attributes", "Who", "Subject", "Account", "Owner"]
    assert second["Who"]["Type"] == "Contact"
    assert second["Account"] is None
    assert second["Owner"] == {
        "attributes": {"type": "Name", "url": f"{url}/Group/{QUEUE}"},
        "Email": None,  # a queue has no Email
    }
    assert third["Who"] is None
    assert third["Account"]["Owner"] is None  # Globex has no owner


def test_a_polymorphic_parent_never_shows_a_field_hidden_on_its_actual_type() -> None:
    result = run("SELECT Who.Email FROM Task ORDER BY Id LIMIT 2")
    assert [record["Who"]["Email"] for record in result.records] == ["ann@example.com", None]


def test_child_subqueries() -> None:
    result = run(
        "SELECT Name, (SELECT Subject, Who.Type FROM Tasks ORDER BY Subject DESC),"
        " (SELECT Name FROM Contacts) FROM Account ORDER BY Name"
    )
    url = "/services/data/v59.0/sobjects"
    acme, globex = result.records
    assert acme["Name"] == "Acme"
    assert acme["Tasks"] == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {"type": "Task", "url": f"{url}/Task/{T1}"},
                "Subject": "Call Ann",
                "Who": {"attributes": {"type": "Name", "url": f"{url}/Lead/{ANN}"}, "Type": "Lead"},
            }
        ],
    }
    assert acme["Contacts"]["records"] == [
        {"attributes": {"type": "Contact", "url": f"{url}/Contact/{BOB}"}, "Name": "Bob Roe"}
    ]
    assert globex["Tasks"]["totalSize"] == 1
    assert globex["Contacts"] is None


def test_child_subqueries_filter_order_and_limit_per_parent() -> None:
    def lead_tasks(subquery: str, *, include_deleted: bool = False) -> Any:
        result = run(f"SELECT Id, ({subquery}) FROM Contact", include_deleted=include_deleted)
        return result.records[0]["Tasks"]

    both = lead_tasks("SELECT Subject FROM Tasks ORDER BY Subject")
    assert [r["Subject"] for r in both["records"]] == ["call bob", "Email: Quote"]
    assert both["totalSize"] == 2
    limited = lead_tasks("SELECT Subject FROM Tasks ORDER BY Subject DESC LIMIT 1")
    assert [r["Subject"] for r in limited["records"]] == ["Email: Quote"]
    assert limited["totalSize"] == 1
    assert lead_tasks("SELECT Subject FROM Tasks WHERE IsClosed = true")["totalSize"] == 1
    assert lead_tasks("SELECT Subject FROM Tasks WHERE Subject = 'none'") is None
    ann = run("SELECT (SELECT Subject FROM Tasks) FROM Lead", include_deleted=True)
    assert [r["Subject"] for r in ann.records[0]["Tasks"]["records"]] == [
        "Call Ann",
        "Deleted call",
    ]


def test_the_object_type_label_is_canonical_whatever_the_from_spelling() -> None:
    result = run("SELECT Id FROM lead")
    assert result.records[0]["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v59.0/sobjects/Lead/{ANN}",
    }


# -- COUNT ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "expected"),
    [
        ("SELECT COUNT() FROM Task", 5),
        ("SELECT count() FROM Task WHERE IsClosed = true", 2),
        ("SELECT COUNT() FROM Task WHERE Subject = 'nobody'", 0),
        ("SELECT COUNT() FROM Task LIMIT 3", 3),
        ("SELECT COUNT() FROM Task LIMIT 3 OFFSET 4", 1),
    ],
)
def test_count_returns_a_size_and_no_records(soql: str, expected: int) -> None:
    result = run(soql)
    assert result.total_size == expected
    assert result.records == []


def test_count_of_a_field_is_one_aggregate_result() -> None:
    result = run("SELECT COUNT(Id), COUNT(WhoId) withWho, COUNT(Subject) FROM Task")
    assert result.total_size == 1
    assert result.records == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 5, "withWho": 3, "expr1": 4}
    ]


def test_count_all_includes_deleted_rows() -> None:
    assert run("SELECT COUNT() FROM Task", include_deleted=True).total_size == 6


# -- errors -------------------------------------------------------------------------------------

UNSUPPORTED_FOO = (
    "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure"
    " to append the '__c' after the entity name. Please reference your WSDL or the describe call"
    " for the appropriate names."
)


def no_such_column(field: str, entity: str) -> str:
    return (
        f"No such column '{field}' on entity '{entity}'. If you are attempting to use a custom"
        " field, be sure to append the '__c' after the custom field name. Please reference your"
        " WSDL or the describe call for the appropriate names."
    )


@pytest.mark.parametrize(
    ("soql", "code", "message"),
    [
        ("SELECT Id FROM Foo", "INVALID_TYPE", UNSUPPORTED_FOO),
        ("SELECT COUNT() FROM Foo", "INVALID_TYPE", UNSUPPORTED_FOO),
        ("SELECT Foo FROM Task", "INVALID_FIELD", no_such_column("Foo", "Task")),
        ("SELECT Secret__c FROM Task", "INVALID_FIELD", no_such_column("Secret__c", "Task")),
        ("SELECT Id FROM Task WHERE Foo = 1", "INVALID_FIELD", no_such_column("Foo", "Task")),
        ("SELECT Id FROM Task ORDER BY Foo", "INVALID_FIELD", no_such_column("Foo", "Task")),
        ("SELECT COUNT(Foo) FROM Task", "INVALID_FIELD", no_such_column("Foo", "Task")),
        ("SELECT Who.Foo FROM Task", "INVALID_FIELD", no_such_column("Foo", "Name")),
        ("SELECT Account.Foo FROM Task", "INVALID_FIELD", no_such_column("Foo", "Account")),
        ("SELECT Account.Owner.Foo FROM Task", "INVALID_FIELD", no_such_column("Foo", "User")),
        ("SELECT Account.Type FROM Task", "INVALID_FIELD", no_such_column("Type", "Account")),
        ("SELECT Who FROM Task", "INVALID_FIELD", no_such_column("Who", "Task")),
        (
            "SELECT Id, (SELECT Foo FROM Tasks) FROM Lead",
            "INVALID_FIELD",
            no_such_column("Foo", "Task"),
        ),
        (
            "SELECT Id FROM Task WHERE Description = 'x'",
            "INVALID_FIELD",
            "field 'Description' can not be filtered in a query call",
        ),
        (
            "SELECT Id FROM Task WHERE description LIKE 'x%'",
            "INVALID_FIELD",
            "field 'Description' can not be filtered in a query call",
        ),
        (
            "SELECT Id FROM Task WHERE Description IN ('x')",
            "INVALID_FIELD",
            "field 'Description' can not be filtered in a query call",
        ),
        (
            "SELECT Id, (SELECT Id FROM Tasks WHERE Description = null) FROM Lead",
            "INVALID_FIELD",
            "field 'Description' can not be filtered in a query call",
        ),
        (
            "SELECT Id FROM Task ORDER BY Description",
            "INVALID_FIELD",
            "field 'Description' can not be sorted in a query call",
        ),
        (
            "SELECT ActivityDate FROM Task WHERE ActivityDate = '2024-01-31'",
            "INVALID_FIELD",
            "value of filter criterion for field 'ActivityDate' must be of type date and should"
            " not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE ActivityDate = 2024-01-31T00:00:00Z",
            "INVALID_FIELD",
            "value of filter criterion for field 'ActivityDate' must be of type date and should"
            " not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE SystemModstamp > 2024-01-01",
            "INVALID_FIELD",
            "value of filter criterion for field 'SystemModstamp' must be of type dateTime and"
            " should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE IsClosed = 'true'",
            "INVALID_FIELD",
            "value of filter criterion for field 'IsClosed' must be of type boolean and should"
            " not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE CallDurationInSeconds IN (1, '2')",
            "INVALID_FIELD",
            "value of filter criterion for field 'CallDurationInSeconds' must be of type integer"
            " and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE Subject = 5",
            "INVALID_FIELD",
            "value of filter criterion for field 'Subject' must be of type string and should be"
            " enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE WhoId = TRUE",
            "INVALID_FIELD",
            "value of filter criterion for field 'WhoId' must be of type string and should be"
            " enclosed in quotes",
        ),
        (
            "SELECT Id FROM Task WHERE SystemModstamp LIKE '2024%'",
            "INVALID_FIELD",
            "invalid operator on datetime field: SystemModstamp",
        ),
    ],
)
def test_semantic_errors(soql: str, code: str, message: str) -> None:
    error = soql_error(soql)
    assert (error.error_code, error.message) == (code, message)


@pytest.mark.parametrize(
    ("soql", "relationship"),
    [
        ("SELECT Foo.Name FROM Task", "Foo"),
        ("SELECT WhoId.Name FROM Task", "WhoId"),
        ("SELECT Id FROM Task WHERE Bar.Name = 'x'", "Bar"),
        ("SELECT Account.Nope.Name FROM Task", "Nope"),
    ],
)
def test_unknown_parent_relationships(soql: str, relationship: str) -> None:
    error = soql_error(soql)
    assert error.error_code == "INVALID_FIELD"
    assert error.message.startswith(
        f"Didn't understand relationship '{relationship}' in field path"
    )


def test_unknown_child_relationship_is_invalid_type() -> None:
    error = soql_error("SELECT Id, (SELECT Id FROM Notes) FROM Lead")
    assert error.error_code == "INVALID_TYPE"
    assert error.message.startswith("Didn't understand relationship 'Notes' in FROM part")


def test_errors_are_raised_even_when_no_row_would_be_read() -> None:
    error = soql_error("SELECT Id FROM Opportunity WHERE Name = 'x' AND Amount > 5")
    assert error.message == no_such_column("Amount", "Opportunity")


def test_a_parsed_query_runs_again_with_other_data() -> None:
    query = parse("SELECT Subject FROM Task WHERE IsClosed = true ORDER BY Subject")
    first = execute(query, FakeOrg(), now=NOW, version=VERSION)
    other = FakeOrg({"Task": [task(T1, "only", IsClosed=True)]})
    second = execute(query, other, now=NOW, version="60.0")
    assert [r["Subject"] for r in first.records] == ["Call Ann", "call bob"]
    assert second.records[0]["attributes"]["url"] == f"/services/data/v60.0/sobjects/Task/{T1}"
