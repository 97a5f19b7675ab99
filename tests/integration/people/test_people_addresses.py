"""One rule for addresses: what salesync would refuse to send to is refused on the person."""

from __future__ import annotations

import pytest

from salesync.mail.errors import InvalidAddress
from salesync.mail.message import OutgoingEmail, validate_email
from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.tables import User
from tests.integration.people.test_people_import import _import, _people
from tests.integration.web.web_support import token_client

#: Addresses a looser rule accepted while the SMTP side refuses them.
REFUSED_AT_SEND = [
    "pat@exa_mple.com",  # underscore in a host name
    "pät@example.com",  # non-ASCII local part (no SMTPUTF8)
    "pat..smith@example.com",  # two dots in a row
    "pat@-example.com",  # a label starting with a hyphen
    ("p" * 65) + "@example.com",  # local part over 64 octets
    "pat@example",  # no dot in the domain
]


def _refused_at_send(address: str) -> bool:
    email = OutgoingEmail(
        from_address="rep@salesync.test",
        to=(address,),
        subject="Hi",
        body_text="Hello",
    )
    try:
        validate_email(email)
    except InvalidAddress:
        return True
    return False


@pytest.mark.parametrize("address", REFUSED_AT_SEND)
def test_an_address_refused_at_send_is_refused_on_create_edit_and_import(
    server: ServerThread, rep: User, address: str
) -> None:
    assert _refused_at_send(address)
    with token_client(server, rep) as client:
        created = client.post("/api/v1/people", json={"email": address})
        assert created.status_code == 422
        assert [p["field"] for p in created.json()["detail"]] == ["email"]
        person = client.post("/api/v1/people", json={"email": "fine@example.com"}).json()
        edited = client.patch(f"/api/v1/people/{person['id']}", json={"email": address})
        assert edited.status_code == 422
        assert [p["field"] for p in edited.json()["detail"]] == ["email"]
        report = _import(client, f"Email,First\n{address},Pat\n", None).json()
    assert report["totals"]["rejected"] == 1
    assert report["rows"][0]["errors"][0]["field"] == "email"


def test_an_address_accepted_on_the_person_is_accepted_at_send(
    server: ServerThread, rep: User
) -> None:
    address = "o'brien+sales@mail.example.co.uk"
    with token_client(server, rep) as client:
        assert client.post("/api/v1/people", json={"email": address}).status_code == 201
    assert not _refused_at_send(address)


def test_imported_people_keep_only_good_addresses(
    server: ServerThread, rep: User, runtime: Runtime
) -> None:
    with token_client(server, rep) as client:
        _import(client, "Email\ngood@example.com\nbad@exa_mple.com\n", None)
    assert sorted(_people(runtime)) == ["good@example.com"]
