"""CSV import of people: column mapping, upsert by email, a per-row report of rejections."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.tables import Person, User
from tests.integration.web.web_support import Team2, browser_for, token_client

MAPPING = {
    "Email": "email",
    "First": "first_name",
    "Last": "last_name",
    "SFDC Contact": "sf_contact_id",
    "SFDC Lead": "sf_lead_id",
    "Notes": "",
}

GOOD_AND_BAD = (
    "Email,First,Last,SFDC Contact,SFDC Lead,Notes\n"
    "ada@example.com,Ada,Lovelace,003000000000001,,first\n"  # row 2: created, id normalised
    "not-an-email,Bad,Email,,,\n"  # row 3: bad email
    "bob@example.com,Bob,,00Q000000000001,,\n"  # row 4: a Lead id in the Contact column
    "\n"  # blank line: skipped, not reported
    # row 6: created, with a 15-character Contact id and an 18-character Lead id
    "cy@example.com,Cy,,0030000000000XX,00Q000000000001EAA,\n"
    ",No,Email,,,\n"  # row 7: no email to match on
    'dee@example.com,Dee,"Quote, Jr",,00Q00000000000,\n'  # row 8: 14-character lead id
)


def _import(
    client: httpx.Client, content: str | bytes, mapping: dict[str, Any] | str | None = MAPPING
) -> httpx.Response:
    data = (
        {}
        if mapping is None
        else {"mapping": mapping if isinstance(mapping, str) else json.dumps(mapping)}
    )
    raw = content.encode() if isinstance(content, str) else content
    return client.post(
        "/api/v1/people/import", files={"file": ("people.csv", raw, "text/csv")}, data=data
    )


def _people(runtime: Runtime) -> dict[str, Person]:
    with runtime.sessions() as session:
        return {p.email or "": p for p in session.scalars(select(Person).order_by(Person.id))}


def test_report_lists_each_row_with_what_happened(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with token_client(server, rep) as client:
        answer = _import(client, GOOD_AND_BAD)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["totals"] == {"created": 2, "updated": 0, "rejected": 4, "rows": 6}
    by_row = {row["row"]: row for row in report["rows"]}
    assert sorted(by_row) == [2, 3, 4, 6, 7, 8]
    assert {n: r["status"] for n, r in by_row.items()} == {
        2: "created",
        3: "rejected",
        4: "rejected",
        6: "created",
        7: "rejected",
        8: "rejected",
    }
    assert [(e["field"], e["column"]) for e in by_row[3]["errors"]] == [("email", "Email")]
    assert "not a valid email" in by_row[3]["errors"][0]["message"]
    assert [(e["field"], e["column"]) for e in by_row[4]["errors"]] == [
        ("sf_contact_id", "SFDC Contact")
    ]
    assert "Lead id" in by_row[4]["errors"][0]["message"]
    assert "rows are matched on email" in by_row[7]["errors"][0]["message"]
    assert [(e["field"], e["column"]) for e in by_row[8]["errors"]] == [("sf_lead_id", "SFDC Lead")]

    people = _people(runtime)
    assert sorted(people) == ["ada@example.com", "cy@example.com"]
    assert people["ada@example.com"].sf_contact_id == "003000000000001AAA"
    assert people["ada@example.com"].owner_id == rep.id
    assert by_row[2]["person_id"] == people["ada@example.com"].id


def test_a_row_with_several_problems_reports_them_all_and_writes_nothing(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    content = "Email,First,SFDC Contact\nbad,Ok,00Q000000000001\n"
    with token_client(server, rep) as client:
        answer = _import(
            client,
            content,
            {"Email": "email", "First": "first_name", "SFDC Contact": "sf_contact_id"},
        )
    [row] = answer.json()["rows"]
    assert row["status"] == "rejected"
    assert [e["field"] for e in row["errors"]] == ["email", "sf_contact_id"]
    assert _people(runtime) == {}


def test_existing_email_is_updated_and_empty_cells_keep_stored_values(
    server: ServerThread, runtime: Runtime, admin: User, rep: User
) -> None:
    with token_client(server, admin) as admin_client, token_client(server, rep) as client:
        created = admin_client.post(
            "/api/v1/people",
            json={
                "email": "Ada@Example.com",
                "first_name": "Ada",
                "company": "Engines",
                "sf_lead_id": "00Q000000000001",
            },
        ).json()
        content = (
            "Email,First,Last,SFDC Contact,SFDC Lead,Notes\n"
            "ada@example.com,,Lovelace,003000000000001,,x\n"
        )
        report = _import(client, content).json()
    assert report["rows"] == [
        {"row": 2, "status": "updated", "person_id": created["id"], "errors": []}
    ]
    person = _people(runtime)["Ada@Example.com"]
    assert (person.first_name, person.last_name, person.company) == ("Ada", "Lovelace", "Engines")
    assert (person.sf_lead_id, person.sf_contact_id) == ("00Q000000000001EAA", "003000000000001AAA")
    assert person.owner_id == admin.id


def test_the_same_email_twice_in_a_file_creates_then_updates(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    content = "Email,First Name\nsam@example.com,Sam\nSAM@example.com,Samuel\n"
    with token_client(server, rep) as client:
        report = _import(client, content, None).json()
    assert [r["status"] for r in report["rows"]] == ["created", "updated"]
    assert _people(runtime)["sam@example.com"].first_name == "Samuel"


def test_without_a_mapping_columns_named_like_fields_are_used(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    content = (
        "\ufeffE-mail,First Name,last_name,SF Lead ID,Notes\n"
        "kay@example.com,Kay,Ko,00Q000000000001,x\n"
    )
    with token_client(server, rep) as client:
        report = _import(client, content, None).json()
    assert report["totals"]["created"] == 1
    person = _people(runtime)["kay@example.com"]
    assert (person.first_name, person.last_name, person.sf_lead_id) == (
        "Kay",
        "Ko",
        "00Q000000000001EAA",
    )


def test_without_a_mapping_a_file_with_no_email_column_is_refused(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with token_client(server, rep) as client:
        answer = _import(client, "Mail,Name\nkay@example.com,Kay\n", None)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "mapping"
    assert _people(runtime) == {}


def test_semicolon_separated_files_are_read(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    content = "Email;Company\nsemi@example.com;Colon, Inc\n"
    with token_client(server, rep) as client:
        report = _import(client, content, {"Email": "email", "Company": "company"}).json()
    assert report["totals"]["created"] == 1
    assert _people(runtime)["semi@example.com"].company == "Colon, Inc"


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"Email": "email", "First": "nickname"}, "not one of"),
        ({"Email": "email", "Missing": "first_name"}, "no column 'Missing'"),
        ({"First": "first_name"}, "no column is mapped to email"),
        ({"Email": "email", "First": "last_name", "Last": "last_name"}, "more than one column"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_an_unusable_mapping_is_422_and_nothing_is_written(
    server: ServerThread, runtime: Runtime, rep: User, mapping: dict[str, str] | str, words: str
) -> None:
    with token_client(server, rep) as client:
        answer = _import(client, GOOD_AND_BAD, mapping)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == "mapping"
    assert words in problem["message"]
    assert _people(runtime) == {}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        ("Email\nj\xf6rg@example.com\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_an_unusable_file_is_422(
    server: ServerThread, runtime: Runtime, rep: User, content: bytes, words: str
) -> None:
    with token_client(server, rep) as client:
        answer = _import(client, content, None)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert (problem["field"], words in problem["message"]) == ("file", True)
    assert _people(runtime) == {}


def test_import_only_touches_the_callers_team(
    server: ServerThread, runtime: Runtime, rep: User, other_team: Team2
) -> None:
    with token_client(server, other_team.rep) as theirs, token_client(server, rep) as mine:
        theirs.post("/api/v1/people", json={"email": "shared@example.com", "company": "Theirs"})
        report = _import(mine, "Email,Company\nshared@example.com,Mine\n", None).json()
    assert report["rows"][0]["status"] == "created"
    with runtime.sessions() as session:
        rows = session.execute(select(Person.team_id, Person.company).order_by(Person.id)).all()
    assert [tuple(r) for r in rows] == [(other_team.rep.team_id, "Theirs"), (rep.team_id, "Mine")]


def test_import_page_shows_the_report(server: ServerThread, runtime: Runtime, rep: User) -> None:
    mapping_lines = "\n".join(f"{column} = {field}" for column, field in MAPPING.items())
    with browser_for(server, rep) as browser:
        csrf = browser.headers.pop("X-CSRF-Token")
        answer = browser.post(
            "/people/import",
            files={"file": ("people.csv", GOOD_AND_BAD.encode(), "text/csv")},
            data={"mapping": mapping_lines, "csrf_token": csrf},
        )
    assert answer.status_code == 200
    assert "6 rows: 2 created, 0 updated, 4 rejected." in answer.text
    assert "<strong>SFDC Contact</strong>: &#39;00Q000000000001&#39; is a Lead id" in answer.text
    assert len(_people(runtime)) == 2


def test_import_page_explains_a_bad_mapping_line(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        csrf = browser.headers.pop("X-CSRF-Token")
        answer = browser.post(
            "/people/import",
            files={"file": ("people.csv", GOOD_AND_BAD.encode(), "text/csv")},
            data={"mapping": "Email -> email", "csrf_token": csrf},
        )
    assert answer.status_code == 422
    assert "Column mapping: &#39;Email -&gt; email&#39; is not of the form" in answer.text
    assert _people(runtime) == {}
