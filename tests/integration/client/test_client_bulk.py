"""Bulk API 2.0 query jobs through the client, against the sandbox over HTTP."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from salesync.domain import soql as soql_builder
from salesync.salesforce.errors import OtherError
from salesync.salesforce.limits import MemoryLimitsSink
from salesync.sandbox.app import create_sandbox_app
from salesync.sandbox.org import Org
from salesync.serving import serve_in_thread
from tests.integration.client.test_client_records import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    org = Org("empty")
    with serve_in_thread(create_sandbox_app(org)) as server, httpx.Client(timeout=30) as http:
        yield Sandbox(org, server.base_url, http, MemoryLimitsSink())


def make_tasks(sandbox: Sandbox, count: int) -> list[str]:
    values = {"Description": 'a,"b"'}
    with sandbox.org.batch():
        return [
            str(sandbox.org.create_record("Task", {"Subject": f"T{i:05d}", **values}))
            for i in range(count)
        ]


def test_a_bulk_query_reads_every_row_in_pages_of_max_records(sandbox: Sandbox) -> None:
    ids = make_tasks(sandbox, 25)
    client = sandbox.client()
    waits: list[float] = []
    sandbox.control("PUT", "/bulk", {"processingSeconds": 0})
    rows = list(
        client.bulk_query(
            "SELECT Id, Subject, Description, ActivityDate, IsDeleted FROM Task",
            max_records=10,
            booleans=frozenset({"IsDeleted"}),
            sleep=waits.append,
        )
    )
    assert sorted(r["Id"] for r in rows) == sorted(ids)
    assert rows[0]["Description"] == 'a,"b"' and rows[0]["ActivityDate"] is None
    assert rows[0]["IsDeleted"] is False
    # create, one poll, three pages of 10, delete
    assert client.api_calls_made == 6 and waits == [0.5]
    assert sandbox.org.bulk.jobs == {}  # deleted when read


def test_polls_back_off_until_the_job_is_complete(sandbox: Sandbox) -> None:
    make_tasks(sandbox, 3)
    sandbox.org.clock.freeze()
    sandbox.control("PUT", "/bulk", {"processingSeconds": 60})
    client = sandbox.client()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            sandbox.control("POST", "/clock", {"advanceSeconds": 61})

    rows = list(client.bulk_query("SELECT Id FROM Task", sleep=sleep))
    assert len(rows) == 3 and waits == [0.5, 1.0, 2.0]


def test_an_aborted_job_raises(sandbox: Sandbox) -> None:
    sandbox.control("PUT", "/bulk", {"processingSeconds": 3600})
    client = sandbox.client()

    def abort(_: float) -> None:
        [job_id] = sandbox.org.bulk.jobs
        sandbox.org.bulk.jobs[job_id].state = "Aborted"

    with pytest.raises(OtherError, match="Aborted"):
        list(client.bulk_query("SELECT Id FROM Task", sleep=abort))


def test_query_all_large_uses_bulk_only_above_the_threshold(sandbox: Sandbox) -> None:
    make_tasks(sandbox, 30)
    small = sandbox.client()
    assert len(list(small.query_all_large("SELECT Id FROM Task", bulk_above=30))) == 30
    assert small.api_calls_made == 1 and sandbox.org.bulk.created == 0
    large = sandbox.client()
    rows = list(large.query_all_large("SELECT Id, IsDeleted FROM Task", bulk_above=29))
    assert len(rows) == 30 and sandbox.org.bulk.created == 1
    assert large.api_calls_made == 5  # the sizing page, create, poll, one page, delete


def test_a_statement_too_long_for_a_url_is_one_call_in_a_composite_body(
    sandbox: Sandbox,
) -> None:
    """A poll's IN list of 1,000 owners is about 28,000 characters once encoded, too long for
    a query URL (16 KB with headers): it goes in a composite body and still costs one call."""
    ids = make_tasks(sandbox, 3)
    decoys = [f"00Q{n:012d}AAA" for n in range(1000)]
    soql = soql_builder.format_soql(
        "SELECT Id FROM Task WHERE Id IN {} OR Subject IN {}", ids, decoys
    )
    assert len(urllib.parse.quote_plus(soql)) > 16_384
    client = sandbox.client()
    rows = list(client.query_all_large(soql))
    assert sorted(r["Id"] for r in rows) == sorted(ids)
    assert client.api_calls_made == 1
    short = soql_builder.format_soql("SELECT Id FROM Task WHERE Id IN {}", ids)
    assert sorted(r["Id"] for r in client.query_all_large(short)) == sorted(ids)
    assert client.api_calls_made == 2
