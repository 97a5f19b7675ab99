"""The lookup indexes (Email on Contact and Lead, Task's WhoId and WhatId): a query by Email,
and a Tasks subquery, answer as a full scan would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from salesync.sandbox import soql
from salesync.sandbox.org import Org
from salesync.sandbox.query_source import OrgQuerySource


class ScanOnly(OrgQuerySource):
    """The org without its lookup index: every query reads all rows."""

    def lookup(
        self, sobject: str, field: str, keys: Iterable[str], include_deleted: bool
    ) -> Iterable[Mapping[str, Any]] | None:
        return None


def ids(org: Org, statement: str, *, include_deleted: bool = False) -> list[str]:
    """The ids the query returns, checked against the same query answered by a full scan."""
    results = [
        soql.execute(
            soql.parse(statement),
            source(org, org.admin_user_id),
            now=org.clock.now(),
            version="59.0",
            include_deleted=include_deleted,
        )
        for source in (OrgQuerySource, ScanOnly)
    ]
    assert results[0] == results[1]
    return [record["Id"] for record in results[0].records]


def by_email(org: Org, *emails: str, sobject: str = "Contact", **options: Any) -> list[str]:
    quoted = ", ".join(f"'{email}'" for email in emails)
    return ids(org, f"SELECT Id, Email FROM {sobject} WHERE Email IN ({quoted})", **options)


@pytest.fixture
def org() -> Org:
    return Org("empty")


def contact(org: Org, email: str | None, name: str = "Doe") -> str:
    return org.create_record("Contact", {"LastName": name, "Email": email})


def test_lookup_ignores_case_and_keeps_row_order(org: Org) -> None:
    first = contact(org, "Ann@Example.com")
    second = contact(org, "ann@example.COM")
    contact(org, "bob@example.com")
    lead = org.create_record("Lead", {"LastName": "L", "Company": "C", "Email": "ann@example.com"})
    assert by_email(org, "ANN@example.com") == [first, second]
    assert by_email(org, "ann@example.com", sobject="Lead") == [lead]
    assert by_email(org, "nobody@example.com", "") == []
    statement = "SELECT Id FROM Contact WHERE Email = 'ann@example.com' AND LastName = 'Doe'"
    assert ids(org, statement) == [first, second]


def test_an_email_update_moves_the_record_in_the_index(org: Org) -> None:
    first = contact(org, "ann@example.com")
    second = contact(org, "ann@example.com")
    org.update_record(first, {"Email": "zed@example.com"})
    assert by_email(org, "ann@example.com") == [second]
    assert by_email(org, "zed@example.com") == [first]
    # An update moves the row to the end of the object's rows, as a scan reads them.
    org.update_record(first, {"Email": "ann@example.com"})
    assert by_email(org, "ann@example.com") == [second, first]
    org.update_record(second, {"Email": None})
    assert by_email(org, "ann@example.com") == [first]
    assert ids(org, "SELECT Id FROM Contact WHERE Email = null") == [second]


def test_delete_undelete_and_purge_are_seen_by_the_index(org: Org) -> None:
    kept = contact(org, "ann@example.com")
    deleted = contact(org, "ann@example.com")
    org.delete_record(deleted)
    assert by_email(org, "ann@example.com") == [kept]
    assert by_email(org, "ann@example.com", include_deleted=True) == [kept, deleted]
    org.undelete_record(deleted)
    assert by_email(org, "ann@example.com") == [kept, deleted]
    org.delete_record(kept)
    assert by_email(org, "ann@example.com", include_deleted=True) == [deleted, kept]
    org.purge_deleted(kept)
    assert by_email(org, "ann@example.com", include_deleted=True) == [deleted]


def test_a_rolled_back_batch_leaves_the_index_as_it_was(org: Org) -> None:
    first = contact(org, "ann@example.com")
    with pytest.raises(RuntimeError), org.batch():
        writer, obj = org.dml(), org.schema.objects["Contact"]
        writer.update(obj, first, {"Email": "zed@example.com"})
        writer.create(obj, {"LastName": "Doe", "Email": "ann@example.com"})
        assert by_email(org, "ann@example.com") != [first]
        raise RuntimeError("roll back")
    assert by_email(org, "ann@example.com") == [first]
    assert by_email(org, "zed@example.com") == []


def test_a_reopened_org_rebuilds_the_index(tmp_path: Any) -> None:
    org = Org.open(tmp_path / "org.db")
    first = contact(org, "ann@example.com")
    contact(org, "bob@example.com")
    assert org.store is not None
    org.store.close()
    assert by_email(Org.open(tmp_path / "org.db"), "ANN@example.com") == [first]


def task(org: Org, subject: str, who: str | None) -> str:
    return org.create_record("Task", {"Subject": subject, "WhoId": who})


def tasks_of(org: Org, *emails: str, **options: Any) -> list[tuple[str, list[str]]]:
    quoted = ", ".join(f"'{email}'" for email in emails)
    statement = (
        "SELECT Id, (SELECT Id, Subject FROM Tasks WHERE Subject != 'skip' ORDER BY Subject"
        f" DESC) FROM Contact WHERE Email IN ({quoted})"
    )
    results = [
        soql.execute(
            soql.parse(statement),
            source(org, org.admin_user_id),
            now=org.clock.now(),
            version="59.0",
            **options,
        )
        for source in (OrgQuerySource, ScanOnly)
    ]
    assert results[0] == results[1]
    return [
        (row["Id"], [t["Subject"] for t in (row["Tasks"] or {"records": []})["records"]])
        for row in results[0].records
    ]


def test_a_tasks_subquery_reads_the_tasks_of_the_result_only(org: Org) -> None:
    ann, bob = contact(org, "ann@example.com"), contact(org, "bob@example.com")
    first = task(org, "a1", ann)
    task(org, "b1", bob)
    task(org, "a2", ann)
    task(org, "skip", ann)
    task(org, "nobody", None)
    assert tasks_of(org, "ann@example.com") == [(ann, ["a2", "a1"])]
    assert tasks_of(org, "ann@example.com", "bob@example.com") == [
        (ann, ["a2", "a1"]),
        (bob, ["b1"]),
    ]
    org.update_record(first, {"WhoId": bob})
    assert tasks_of(org, "ann@example.com", "bob@example.com") == [
        (ann, ["a2"]),
        (bob, ["b1", "a1"]),
    ]
    org.delete_record(first)
    assert tasks_of(org, "bob@example.com") == [(bob, ["b1"])]
    assert tasks_of(org, "bob@example.com", include_deleted=True) == [(bob, ["b1", "a1"])]
    org.update_record(task(org, "b0", None), {"WhoId": bob})
    assert tasks_of(org, "bob@example.com") == [(bob, ["b1", "b0"])]
