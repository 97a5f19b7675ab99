"""getUpdated / getDeleted windows and errors, and query paging (API-FACTS §2.7, §2.8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.sandbox.sandbox_support import API, Sandbox, assert_error

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(instant: datetime) -> str:
    return instant.isoformat()


def updated(client: httpx.Client, start: datetime, end: datetime, **kw: Any) -> httpx.Response:
    return client.get(
        f"{API}/sobjects/Task/updated/", params={"start": iso(start), "end": iso(end)}, **kw
    )


def deleted(client: httpx.Client, start: datetime, end: datetime) -> httpx.Response:
    return client.get(
        f"{API}/sobjects/Task/deleted/", params={"start": iso(start), "end": iso(end)}
    )


@pytest.fixture
def frozen(sandbox: Sandbox) -> Sandbox:
    sandbox.org.clock.set(START)
    sandbox.org.clock.freeze()
    return sandbox


def create_task(client: httpx.Client) -> str:
    record_id: str = client.post(f"{API}/sobjects/Task", json={}).json()["id"]
    return record_id


def test_updated_uses_system_modstamp_with_truncated_seconds(frozen: Sandbox) -> None:
    client = frozen.client()
    frozen.org.clock.set(START + timedelta(minutes=1, seconds=30))
    first = create_task(client)
    frozen.org.clock.set(START + timedelta(minutes=10))
    second = create_task(client)
    frozen.org.clock.set(START + timedelta(minutes=20))
    body = updated(client, START, START + timedelta(minutes=10, seconds=59)).json()
    # end 09:10:59 truncates to 09:10, so the 09:10:00 change falls in the next window.
    assert body == {"ids": [first], "latestDateCovered": "2026-03-02T09:10:00.000+0000"}
    frozen.control().post(f"/__sandbox__/records/{first}/bump")
    frozen.org.clock.set(START + timedelta(minutes=25))
    later = updated(client, START + timedelta(minutes=10), START + timedelta(minutes=30)).json()
    assert later["ids"] == [second, first]
    assert later["latestDateCovered"] == "2026-03-02T09:25:00.000+0000"  # capped at now


def test_updated_window_errors(frozen: Sandbox) -> None:
    client = frozen.client()
    too_old = updated(client, START - timedelta(days=31), START)
    assert_error(too_old, 400, "INVALID_REPLICATION_DATE")
    # 09:00:10 and 09:00:50 both truncate to 09:00: an empty window.
    too_short = updated(client, START + timedelta(seconds=10), START + timedelta(seconds=50))
    assert_error(too_short, 400, "INVALID_REPLICATION_DATE")
    reversed_window = updated(client, START, START - timedelta(hours=1))
    assert_error(reversed_window, 400, "INVALID_REPLICATION_DATE")
    naive = client.get(
        f"{API}/sobjects/Task/updated/",
        params={"start": "2026-03-02T08:00:00", "end": "2026-03-02T09:00:00"},
    )
    assert_error(naive, 400, "INVALID_REPLICATION_DATE")


def test_exceeded_id_limit_with_a_configurable_cap(frozen: Sandbox) -> None:
    client = frozen.client()
    for _ in range(3):
        create_task(client)
    frozen.control().put("/__sandbox__/limits", json={"replicationIdLimit": 2})
    frozen.org.clock.advance(timedelta(minutes=5))
    response = updated(client, START - timedelta(hours=1), START + timedelta(hours=1))
    assert_error(response, 400, "EXCEEDED_ID_LIMIT")


def test_deleted_lists_deletes_and_earliest_date(frozen: Sandbox) -> None:
    client = frozen.client()
    task_id = create_task(client)
    frozen.org.clock.set(START + timedelta(minutes=5))
    client.delete(f"{API}/sobjects/Task/{task_id}")
    frozen.org.clock.set(START + timedelta(hours=1))
    body = deleted(client, START, START + timedelta(hours=1)).json()
    assert body["deletedRecords"] == [
        {"id": task_id, "deletedDate": "2026-03-02T09:05:00.000+0000"}
    ]
    assert body["earliestDateAvailable"] == "2026-02-15T10:00:00.000+0000"  # 15 days back
    assert body["latestDateCovered"] == "2026-03-02T10:00:00.000+0000"


def test_purging_the_delete_log_moves_earliest_date_available(frozen: Sandbox) -> None:
    client = frozen.client()
    task_id = create_task(client)
    client.delete(f"{API}/sobjects/Task/{task_id}")
    frozen.org.clock.set(START + timedelta(hours=2))
    purged = frozen.control().post(
        "/__sandbox__/delete-log/purge", json={"before": iso(START + timedelta(hours=1))}
    )
    assert purged.json()["purged"] == 1
    body = deleted(client, START, START + timedelta(hours=2)).json()
    assert body["deletedRecords"] == []
    assert body["earliestDateAvailable"] == "2026-03-02T10:00:00.000+0000"
    query_all = client.get(f"{API}/queryAll", params={"q": "SELECT Id FROM Task"}).json()
    assert query_all["totalSize"] == 0  # purged rows are gone for good


def test_query_pages_with_batch_size_and_locators(sandbox: Sandbox) -> None:
    dml = sandbox.org.dml(mode="system")
    task_object = sandbox.org.schema.objects["Task"]
    with sandbox.org.batch():
        for index in range(450):
            dml.create(task_object, {"Subject": f"t{index:03d}"})
    client = sandbox.client(**{"Sforce-Query-Options": "batchSize=200"})
    soql = "SELECT Subject FROM Task ORDER BY Subject"
    first = client.get(f"{API}/query", params={"q": soql}).json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    locator_url = first["nextRecordsUrl"]
    assert locator_url.startswith(f"{API}/query/") and locator_url.endswith("-200")
    # The page size sticks to the cursor even when later requests don't repeat the header.
    second = sandbox.client().get(locator_url).json()
    assert len(second["records"]) == 200
    third = client.get(second["nextRecordsUrl"]).json()
    assert third["done"] is True and "nextRecordsUrl" not in third
    subjects = [r["Subject"] for page in (first, second, third) for r in page["records"]]
    assert subjects == [f"t{i:03d}" for i in range(450)]
    unaligned = client.get(locator_url.replace("-200", "-250")).json()
    assert [r["Subject"] for r in unaligned["records"]] == [f"t{i:03d}" for i in range(250, 450)]
    assert_error(client.get(locator_url.replace("-200", "-100")), 400, "INVALID_QUERY_LOCATOR")


def test_default_page_is_2000_and_locators_expire(sandbox: Sandbox) -> None:
    dml = sandbox.org.dml(mode="system")
    task_object = sandbox.org.schema.objects["Task"]
    with sandbox.org.batch():
        for _ in range(2001):
            dml.create(task_object, {})
    client = sandbox.client()
    first = client.get(f"{API}/queryAll", params={"q": "SELECT Id FROM Task"}).json()
    assert len(first["records"]) == 2000 and first["nextRecordsUrl"].endswith("-2000")
    sandbox.org.clock.advance(timedelta(minutes=16))
    expired = sandbox.client().get(first["nextRecordsUrl"])
    assert_error(expired, 400, "INVALID_QUERY_LOCATOR")


def test_soql_errors_keep_their_codes(admin: httpx.Client) -> None:
    assert_error(admin.get(f"{API}/query", params={"q": "SELEKT Id FROM Task"}), 400,
                 "MALFORMED_QUERY")  # fmt: skip
    assert_error(admin.get(f"{API}/query", params={"q": "SELECT Id FROM Nope"}), 400,
                 "INVALID_TYPE")  # fmt: skip
    assert_error(admin.get(f"{API}/query", params={"q": "SELECT Nope FROM Task"}), 400,
                 "INVALID_FIELD")  # fmt: skip
    where_description = "SELECT Id FROM Task WHERE Description = 'x'"
    assert_error(admin.get(f"{API}/query", params={"q": where_description}), 400, "INVALID_FIELD")
    assert_error(admin.get(f"{API}/query"), 400, "MALFORMED_QUERY")
