"""The org's web pages over HTTP: tabs, list views with search, record pages with related
lists, a Task's edit/complete/delete, the API call log and the fault switches."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.sandbox_support import Sandbox

API = "/services/data/v59.0"


@pytest.fixture
def org(sandbox_factory: Any) -> Sandbox:
    sandbox: Sandbox = sandbox_factory("empty")
    return sandbox


def _create(org: Sandbox, sobject: str, **fields: Any) -> str:
    response = org.control().post(
        "/__sandbox__/records", json={"sobject": sobject, "fields": fields}
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _section(html: str, label: str) -> str:
    """The HTML of the card labelled ``label`` (a related list or a list view)."""
    match = re.search(rf'<section class="card" aria-label="{label}">(.*?)</section>', html, re.S)
    assert match is not None, f"no section {label}"
    return match.group(1)


def _pages(org: Sandbox) -> httpx.Client:
    return httpx.Client(base_url=org.base_url, follow_redirects=False)


def test_home_has_the_tabs_of_the_sales_app(org: Sandbox) -> None:
    home = _pages(org).get("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    for name in ("Task", "Contact", "Lead", "Account", "Opportunity"):
        assert f'href="/lightning/o/{name}/list"' in home.text
    assert 'href="/lightning/setup/api-calls"' in home.text
    assert 'href="/lightning/setup/faults"' in home.text


def test_list_view_searches_by_name_and_email(org: Sandbox) -> None:
    ann = _create(org, "Contact", FirstName="Ann", LastName="Archer", Email="ann@acme.example")
    _create(org, "Contact", FirstName="Bob", LastName="Baker", Email="bob@other.example")
    pages = _pages(org)
    by_name = _section(
        pages.get("/lightning/o/Contact/list", params={"q": "archer"}).text, "Contacts"
    )
    assert f"/lightning/r/Contact/{ann}/view" in by_name
    assert "Baker" not in by_name
    by_email = _section(
        pages.get("/lightning/o/Contact/list", params={"q": "other.ex"}).text, "Contacts"
    )
    assert "Bob Baker" in by_email and "Archer" not in by_email
    quote = pages.get("/lightning/o/Contact/list", params={"q": "O'Brien\\"})
    assert quote.status_code == 200
    assert "0 items" in quote.text


def test_contact_page_lists_open_activities_and_activity_history(org: Sandbox) -> None:
    contact = _create(org, "Contact", FirstName="Cy", LastName="Cole", Email="cy@acme.example")
    _create(org, "Task", Subject="Call back", Status="Not Started", WhoId=contact)
    _create(
        org, "Task", Subject="Email: Hello", Status="Completed", TaskSubtype="Email", WhoId=contact
    )
    _create(org, "Task", Subject="Somebody else's", Status="Not Started")
    page = _pages(org).get(f"/lightning/r/Contact/{contact}/view").text
    open_activities = _section(page, "Open Activities")
    history = _section(page, "Activity History")
    assert "Call back" in open_activities and "Email: Hello" not in open_activities
    assert "Email: Hello" in history and "Call back" not in history
    assert "Somebody else" not in page


def test_a_task_is_edited_completed_and_deleted_from_its_page(org: Sandbox) -> None:
    task = _create(org, "Task", Subject="Draft", Status="Not Started", Priority="Normal")
    pages = _pages(org)
    form = pages.get(f"/lightning/r/Task/{task}/edit")
    assert 'name="Subject" value="Draft"' in form.text
    saved = pages.post(
        f"/lightning/r/Task/{task}/edit",
        data={
            "Subject": "Final",
            "Status": "In Progress",
            "Priority": "High",
            "ActivityDate": "2026-12-24",
            "Description": "Two\nlines",
        },
    )
    assert saved.status_code == 303
    record = org.org.get_record(task)
    assert record is not None
    assert (record["Subject"], record["Status"], record["Priority"]) == (
        "Final",
        "In Progress",
        "High",
    )
    assert str(record["ActivityDate"]) == "2026-12-24"
    assert record["LastModifiedById"] == org.org.user_id(ADMIN_USERNAME)
    assert "Task saved." in pages.get(saved.headers["location"]).text

    completed = pages.post(f"/lightning/r/Task/{task}/complete")
    assert completed.status_code == 303
    record = org.org.get_record(task)
    assert record is not None and record["Status"] == "Completed" and record["IsClosed"] is True
    assert "Mark complete" not in pages.get(f"/lightning/r/Task/{task}/view").text

    deleted = pages.post(f"/lightning/r/Task/{task}/delete")
    assert deleted.status_code == 303
    assert deleted.headers["location"].startswith("/lightning/o/Task/list")
    assert "Task deleted." in pages.get(deleted.headers["location"]).text
    record = org.org.get_record(task)
    assert record is not None and record["IsDeleted"] is True
    assert pages.get(f"/lightning/r/Task/{task}/view").status_code == 404


def test_a_refused_edit_shows_the_orgs_message_and_keeps_the_input(org: Sandbox) -> None:
    task = _create(org, "Task", Subject="Draft", Status="Not Started")
    rule = {"sobject": "Task", "field": "Subject", "pattern": "!", "message": "No shouting"}
    org.control().post("/__sandbox__/validation-rules", json=rule).raise_for_status()
    refused = _pages(org).post(
        f"/lightning/r/Task/{task}/edit",
        data={"Subject": "Now!", "Status": "Not Started", "Priority": "Normal"},
    )
    assert refused.status_code == 200
    assert "No shouting" in refused.text
    assert 'value="Now!"' in refused.text
    record = org.org.get_record(task)
    assert record is not None and record["Subject"] == "Draft"


def test_browsing_the_pages_spends_no_api_calls(org: Sandbox) -> None:
    contact = _create(org, "Contact", LastName="Quiet")
    pages = _pages(org)
    for path in ("/", "/lightning/o/Task/list", f"/lightning/r/Contact/{contact}/view"):
        assert pages.get(path).status_code == 200
    assert org.control().get("/__sandbox__/api-calls").json()["total"] == 0


def test_api_call_log_lists_rest_calls(org: Sandbox) -> None:
    client = org.client(**{"Sforce-Call-Options": "client=salesync"})
    client.get(f"{API}/query", params={"q": "SELECT Id FROM Contact"}).raise_for_status()
    log = _section(_pages(org).get("/lightning/setup/api-calls").text, "API call log")
    assert "<code>/query</code>" in log
    assert "salesync" in log


def test_fault_switches_turn_outages_on_and_off(org: Sandbox) -> None:
    pages = _pages(org)
    switched = pages.post("/lightning/setup/faults", data={"preset": "outage"})
    assert switched.status_code == 303
    client = org.client()
    assert client.get(f"{API}/limits").status_code == 503
    active = _section(pages.get("/lightning/setup/faults").text, "Active faults")
    fault_id = re.search(r'name="remove" value="(\d+)"', active)
    assert fault_id is not None and "503 SERVER_UNAVAILABLE" in active
    pages.post("/lightning/setup/faults", data={"remove": fault_id.group(1)})
    assert client.get(f"{API}/limits").status_code == 200
    assert org.control().get("/__sandbox__/faults").json() == []


def test_control_plane_query_reads_without_counting(org: Sandbox) -> None:
    _create(org, "Contact", LastName="Zed")
    found = org.control().get("/__sandbox__/query", params={"q": "SELECT LastName FROM Contact"})
    assert found.status_code == 200
    assert [r["LastName"] for r in found.json()["records"]] == ["Zed"]
    bad = org.control().get("/__sandbox__/query", params={"q": "SELECT Nope FROM Contact"})
    assert bad.status_code == 400
    assert bad.json()["errorCode"] == "INVALID_FIELD"
    assert org.control().get("/__sandbox__/api-calls").json()["total"] == 0


def test_record_urls_open_the_record_page(org: Sandbox) -> None:
    contact = _create(org, "Contact", LastName="Linked")
    opened = _pages(org).get(f"/{contact}")
    assert opened.status_code == 302
    assert opened.headers["location"] == f"/lightning/r/Contact/{contact}/view"
    assert _pages(org).get(f"/{contact[:15]}").headers["location"] == opened.headers["location"]


def test_a_new_task_is_made_from_a_contacts_page(org: Sandbox) -> None:
    rep = org.org.add_user(
        "rep@sandbox.salesync.test", first_name="Rae", last_name="Rep", email="rae@x.example"
    )
    contact = _create(org, "Contact", LastName="Asked")
    pages = _pages(org)
    contact_page = pages.get(f"/lightning/r/Contact/{contact}/view").text
    assert f'href="/lightning/o/Task/new?about={contact}"' in contact_page
    form = pages.get("/lightning/o/Task/new", params={"about": contact}).text
    assert f'<option value="{rep}">Rae Rep</option>' in form
    created = pages.post(
        "/lightning/o/Task/new",
        data={
            "about": contact,
            "Subject": "Ring back",
            "ActivityDate": "2026-12-24",
            "Priority": "High",
            "Status": "Not Started",
            "OwnerId": rep,
            "Description": "",
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == f"/lightning/r/Contact/{contact}/view?created=1"
    page = pages.get(created.headers["location"]).text
    assert "Task created." in page and "Ring back" in _section(page, "Open Activities")
    task = next(t for t in org.org.records.rows("Task") if t["Subject"] == "Ring back")
    assert (task["WhoId"], task["OwnerId"], task["TaskSubtype"]) == (contact, rep, "Task")
    assert task["CreatedById"] == org.org.user_id(ADMIN_USERNAME)


def test_a_new_task_needs_a_record_to_be_about(org: Sandbox) -> None:
    assert _pages(org).get("/lightning/o/Task/new", params={"about": "nope"}).status_code == 404
