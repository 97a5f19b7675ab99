"""Email to Salesforce through the control plane: org switches, users' senders, the mail
catcher, the exposed address field and persistence."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from salesync.sandbox.e2s_listener import SandboxSmtpServer
from salesync.sandbox.email_to_salesforce import E2S_ADDRESS_FIELD
from salesync.sandbox.org import Org
from salesync.sandbox.seed import ADMIN_USERNAME
from tests.integration.sandbox.sandbox_support import API, Sandbox

E2S = "/__sandbox__/email-to-salesforce"
ADMIN_E2S = f"/__sandbox__/users/{ADMIN_USERNAME}/email-to-salesforce"


def note(to: str, subject: str = "Hello") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "admin@salesync.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Body text")
    return message


def smtp_send(server: SandboxSmtpServer, message: EmailMessage, to: list[str], sender: str) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.send_message(message, from_addr=sender, to_addrs=to)


def test_org_settings_read_and_merge(sandbox: Sandbox) -> None:
    control = sandbox.control()
    settings = control.get(E2S).json()
    assert settings["active"] is True
    assert settings["matchMode"] == "all"
    assert settings["domain"] == sandbox.org.e2s.domain
    assert settings["effectiveTaskType"] == "Email"
    assert settings["smtp"] is None
    changed = control.put(E2S, json={"matchMode": "oldest", "createUnresolvedTasks": False}).json()
    assert (changed["matchMode"], changed["createUnresolvedTasks"]) == ("oldest", False)
    assert changed["logToOpportunities"] is True
    assert sandbox.org.e2s.settings.match_mode == "oldest"


@pytest.mark.parametrize("body", [{"matchMode": "newest"}, {"active": "yes"}, {"colour": "blue"}])
def test_bad_org_settings_are_refused(sandbox: Sandbox, body: dict[str, object]) -> None:
    response = sandbox.control().put(E2S, json=body)
    assert response.status_code == 400
    assert sandbox.org.e2s.settings.match_mode == "all"
    assert sandbox.org.e2s.settings.active is True


def test_user_state_has_a_deterministic_address_and_the_own_email_as_sender(
    sandbox: Sandbox,
) -> None:
    state = sandbox.control().get(ADMIN_E2S).json()
    user_id = sandbox.org.user_id(ADMIN_USERNAME)
    assert state["address"] == (
        f"emailtosalesforce+{user_id.lower()}@org-{sandbox.org.org_id.lower()}"
        ".sandbox.salesync.test"
    )
    assert state["address"] == Org("empty").e2s.user(user_id).address
    assert (state["active"], state["acceptableSenders"]) == (True, ["admin@salesync.test"])


def test_adding_an_acceptable_sender_lets_its_mail_in(sandbox: Sandbox) -> None:
    control = sandbox.control()
    address = control.get(ADMIN_E2S).json()["address"]
    with SandboxSmtpServer(sandbox.org) as server:
        assert control.get(E2S).json()["smtp"] == server.address
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp_send(server, note(address), [address], "alias@salesync.test")
        updated = control.put(
            ADMIN_E2S, json={"acceptableSenders": ["admin@salesync.test", "alias@salesync.test"]}
        ).json()
        assert updated["acceptableSenders"][1] == "alias@salesync.test"
        smtp_send(server, note(address), [address], "alias@salesync.test")
    assert sandbox.org.mail.messages()[-1].e2s[0].status == "unresolved"


def test_bad_user_state_is_refused(sandbox: Sandbox) -> None:
    control = sandbox.control()
    assert control.put(ADMIN_E2S, json={"acceptableSenders": "a@b.c"}).status_code == 400
    assert control.put(ADMIN_E2S, json={"address": "x@y.z"}).status_code == 400
    assert control.get("/__sandbox__/users/nobody@x.test/email-to-salesforce").status_code == 400


def test_mail_catcher_lists_filters_shows_raw_and_clears(sandbox: Sandbox) -> None:
    control = sandbox.control()
    with SandboxSmtpServer(sandbox.org) as server:
        smtp_send(server, note("a@customer.example", "First"), ["a@customer.example"], "x@y.test")
        smtp_send(server, note("b@customer.example", "Second"), ["b@customer.example"], "x@y.test")
    listed = control.get("/__sandbox__/mail").json()
    assert [m["subject"] for m in listed] == ["First", "Second"]
    assert listed[0]["rcptTos"] == ["a@customer.example"] and "raw" not in listed[0]
    only_b = control.get("/__sandbox__/mail", params={"to": "B@customer.example"}).json()
    assert [m["subject"] for m in only_b] == ["Second"]
    one = control.get(f"/__sandbox__/mail/{listed[1]['id']}").json()
    assert "Subject: Second" in one["raw"]
    assert control.get("/__sandbox__/mail/999").status_code == 400
    assert control.delete("/__sandbox__/mail").json() == {"deleted": 2}
    assert control.get("/__sandbox__/mail").json() == []


def query_address(client: httpx.Client, user_id: str) -> object:
    soql = f"SELECT {E2S_ADDRESS_FIELD} FROM User WHERE Id = '{user_id}'"
    response = client.get(f"{API}/query", params={"q": soql})
    assert response.status_code == 200, response.text
    return response.json()["records"][0][E2S_ADDRESS_FIELD]


def test_exposed_address_field_follows_the_user_and_org_switches(sandbox: Sandbox) -> None:
    control, client = sandbox.control(), sandbox.client()
    user_id = sandbox.org.user_id(ADMIN_USERNAME)
    missing = client.get(f"{API}/query", params={"q": f"SELECT {E2S_ADDRESS_FIELD} FROM User"})
    assert missing.status_code == 400
    control.put(E2S, json={"exposeAddressField": True})
    address = sandbox.org.e2s.user(user_id).address
    assert query_address(client, user_id) == address
    control.put(ADMIN_E2S, json={"active": False})
    assert query_address(client, user_id) is None
    control.put(ADMIN_E2S, json={"active": True})
    control.put(E2S, json={"active": False})
    assert query_address(client, user_id) is None
    control.put(E2S, json={"active": True, "exposeAddressField": False})
    assert query_address(client, user_id) is None


def test_demo_seed_exposes_every_users_address() -> None:
    org = Org("demo")
    rep = org.user_id("rep1@sandbox.salesync.test")
    created = org.add_user(
        "new@sandbox.salesync.test", first_name="N", last_name="U", email="n@x.test"
    )
    for user_id in (rep, created):
        record = org.get_record(user_id)
        assert record is not None
        assert record[E2S_ADDRESS_FIELD] == org.e2s.user(user_id).address


def test_settings_and_senders_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "org.db"
    org = Org.open(path)
    user_id = org.user_id(ADMIN_USERNAME)
    with org.batch():
        org.e2s.settings.match_mode = "most_activity"
        org.e2s.user(user_id).acceptable_senders.append("alias@salesync.test")
    reopened = Org.open(path)
    assert reopened.e2s.settings.match_mode == "most_activity"
    assert reopened.e2s.user(user_id).acceptable_senders == [
        "admin@salesync.test",
        "alias@salesync.test",
    ]
    assert reopened.e2s.user(user_id).address == org.e2s.user(user_id).address
