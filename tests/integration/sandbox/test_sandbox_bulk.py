"""Bulk API 2.0 query jobs (API-FACTS §9, item 18): lifecycle, CSV results, locators."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest

from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

JOBS = f"{API}/jobs/query"


def create(admin: httpx.Client, soql: str, **extra: Any) -> dict[str, Any]:
    response = admin.post(JOBS, json={"operation": "query", "query": soql, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tasks(sandbox: Sandbox, count: int, **fields: Any) -> list[str]:
    return [
        str(sandbox.org.create_record("Task", {"Subject": f"Task {i}", **fields}))
        for i in range(count)
    ]


def test_a_job_moves_from_upload_complete_to_job_complete_on_the_sandbox_clock(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    sandbox.org.clock.freeze()
    control = sandbox.control()
    assert control.put("/__sandbox__/bulk", json={"processingSeconds": 30}).status_code == 200
    tasks(sandbox, 2)
    job = create(admin, "SELECT Id, Subject FROM Task")
    assert job["id"].startswith("750") and job["state"] == "UploadComplete"
    assert (job["jobType"], job["contentType"], job["columnDelimiter"]) == (
        "V2Query",
        "CSV",
        "COMMA",
    )
    polled = admin.get(f"{JOBS}/{job['id']}").json()
    assert polled["state"] == "InProgress"
    assert_error(admin.get(f"{JOBS}/{job['id']}/results"), 412, "API_ERROR")
    sandbox.org.clock.advance(dt.timedelta(seconds=31))
    done = admin.get(f"{JOBS}/{job['id']}").json()
    assert done["state"] == "JobComplete" and done["numberRecordsProcessed"] == 2


def test_results_are_csv_pages_behind_a_locator(sandbox: Sandbox, admin: httpx.Client) -> None:
    ids = tasks(sandbox, 5, Description='says "hi", twice')
    contact = sandbox.org.create_record("Contact", {"LastName": "Diaz"})
    sandbox.org.update_record(ids[0], {"WhoId": contact})
    job = create(admin, "SELECT Id, Subject, Description, Who.Name, ActivityDate FROM Task")
    admin.get(f"{JOBS}/{job['id']}")
    rows: list[dict[str, str]] = []
    locator: str | None = None
    pages = 0
    while locator != "null":
        params = {"maxRecords": "2", **({"locator": locator} if locator else {})}
        page = admin.get(f"{JOBS}/{job['id']}/results", params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
        text = page.text
        assert text.splitlines()[0] == '"Id","Subject","Description","Who.Name","ActivityDate"'
        found = list(csv.DictReader(io.StringIO(text)))
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(found)
        rows.extend(found)
        locator = page.headers["Sforce-Locator"]
        pages += 1
    assert pages == 3 and sorted(r["Id"] for r in rows) == sorted(ids)
    first = next(r for r in rows if r["Id"] == ids[0])
    assert first["Description"] == 'says "hi", twice' and first["Who.Name"] == "Diaz"
    assert first["ActivityDate"] == ""  # null is an empty field
    assert ",," in admin.get(f"{JOBS}/{job['id']}/results").text.replace('""', "")


def test_query_all_includes_deleted_rows(sandbox: Sandbox, admin: httpx.Client) -> None:
    ids = tasks(sandbox, 2)
    sandbox.org.delete_record(ids[0])
    live = create(admin, "SELECT Id, IsDeleted FROM Task")
    everything = create(admin, "SELECT Id, IsDeleted FROM Task", operation="queryAll")
    counts = {}
    for job in (live, everything):
        admin.get(f"{JOBS}/{job['id']}")
        counts[job["operation"]] = admin.get(f"{JOBS}/{job['id']}/results").headers[
            "Sforce-NumberOfRecords"
        ]
    assert counts == {"query": "1", "queryAll": "2"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"operation": "insert", "query": "SELECT Id FROM Task"}, "INVALIDJOB"),
        (
            {"operation": "query", "query": "SELECT Id FROM Task", "columnDelimiter": "X"},
            "INVALIDJOB",
        ),
        ({"operation": "query", "query": "SELECT Id FROM Task", "lineEnding": "CR"}, "INVALIDJOB"),
        ({"operation": "query", "query": "SELECT COUNT() FROM Task"}, "API_ERROR"),
        ({"operation": "query", "query": "SELECT Id FROM Task LIMIT 5 OFFSET 2"}, "API_ERROR"),
        (
            {"operation": "query", "query": "SELECT Id, (SELECT Id FROM Tasks) FROM Contact"},
            "API_ERROR",
        ),
    ],
)
def test_invalid_jobs_are_refused(admin: httpx.Client, body: dict[str, Any], code: str) -> None:
    assert_error(admin.post(JOBS, json=body), 400, code)


def test_results_need_the_creating_version_and_jobs_can_be_aborted_and_deleted(
    sandbox: Sandbox, admin: httpx.Client
) -> None:
    job = create(admin, "SELECT Id FROM Task")
    admin.get(f"{JOBS}/{job['id']}")
    other = admin.get(f"{JOBS.replace('v59.0', 'v58.0')}/{job['id']}/results")
    assert_error(other, 409, "API_ERROR")
    sandbox.control().put("/__sandbox__/bulk", json={"processingSeconds": 3600})
    pending = create(admin, "SELECT Id FROM Task")
    aborted = admin.patch(f"{JOBS}/{pending['id']}", json={"state": "Aborted"})
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    assert_error(
        admin.patch(f"{JOBS}/{job['id']}", json={"state": "Aborted"}), 400, "INVALIDJOBSTATE"
    )
    assert admin.delete(f"{JOBS}/{job['id']}").status_code == 204
    assert_error(admin.get(f"{JOBS}/{job['id']}"), 404, "NOT_FOUND")


def test_every_call_counts_against_the_api_limit(sandbox: Sandbox, admin: httpx.Client) -> None:
    before = sandbox.org.usage.report(sandbox.org.clock.now())
    job = create(admin, "SELECT Id FROM Task")
    admin.get(f"{JOBS}/{job['id']}")
    response = admin.get(f"{JOBS}/{job['id']}/results")
    after = sandbox.org.usage.report(sandbox.org.clock.now())
    assert "api-usage=" in response.headers["Sforce-Limit-Info"]
    assert after["total"] - before["total"] == 3
