"""Every id, number and text the API takes is bounded: out-of-range or unstorable input is a
422 naming the field, never a 500; oversized bodies are refused; replies thread only under
the sender's own emails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store.tables import Call, Person, User
from tests.integration.web.security_support import (
    CountingHasher,
    admin,
    app,
    counted_runtime,
    hasher,
    rep,
    server,
    signed_in_client,
)
from tests.support import FakeClock

__all__ = ["admin", "app", "hasher", "rep", "server"]

#: Small enough to test cheaply, large enough for every ordinary request below.
BODY_CAP = 64 * 1024
TOO_BIG = str(2**63)


@pytest.fixture
def runtime(
    engine: Engine, tmp_path: Path, clock: FakeClock, hasher: CountingHasher
) -> Iterator[Runtime]:
    yield from counted_runtime(engine, tmp_path, clock, hasher, max_request_bytes=BODY_CAP)


@pytest.fixture
def mailer(app: FastAPI) -> InMemoryMailer:
    fake = InMemoryMailer()
    app.state.mailer_factory = lambda runtime, user: fake
    return fake


@pytest.fixture
def as_rep(server: ServerThread, rep: User) -> Iterator[httpx.Client]:
    with signed_in_client(server, rep) as client:
        yield client


@pytest.fixture
def as_admin(server: ServerThread, admin: User) -> Iterator[httpx.Client]:
    with signed_in_client(server, admin) as client:
        yield client


def _fields(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    return [str(problem.get("field")) for problem in answer.json()["detail"]]


def _count(runtime: Runtime, table: type[Any]) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", f"/api/v1/people/{TOO_BIG}", "person_id"),
        ("GET", "/api/v1/people/0", "person_id"),
        ("GET", f"/api/v1/people?offset={TOO_BIG}", "offset"),
        ("GET", f"/api/v1/tasks?assignee_id={TOO_BIG}", "assignee_id"),
        ("GET", f"/api/v1/tasks?offset={TOO_BIG}", "offset"),
        ("GET", f"/api/v1/tasks/{TOO_BIG}", "task_id"),
        ("GET", f"/api/v1/emails/{TOO_BIG}", "email_id"),
        ("GET", f"/api/v1/calls/{TOO_BIG}/salesforce", "call_id"),
        ("GET", f"/api/v1/diagnostics?user_id={TOO_BIG}", "user_id"),
        ("DELETE", f"/api/v1/tokens/{TOO_BIG}", "token_id"),
    ],
)
def test_ids_and_numbers_past_64_bits_are_422(
    as_rep: httpx.Client, method: str, url: str, field: str
) -> None:
    assert field in _fields(as_rep.request(method, url))


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/calls",
            {"person_id": 2**63, "occurred_at": "2026-03-02T10:00:00Z", "duration_seconds": 1},
            "person_id",
        ),
        ("/api/v1/tasks", {"name": "Call back", "person_id": 2**63}, "person_id"),
        ("/api/v1/tasks", {"name": "Call back", "assignee_id": 2**64}, "assignee_id"),
        (
            "/api/v1/emails",
            {"to": [{"person_id": 2**63}], "subject": "Hi", "body_text": "x"},
            "to.0.person_id",
        ),
        (
            "/api/v1/emails",
            {
                "to": [{"email": "a@b.example"}],
                "subject": "Hi",
                "body_text": "x",
                "reply_to_email_id": 2**63,
            },
            "reply_to_email_id",
        ),
    ],
)
def test_ids_in_bodies_past_64_bits_are_422(
    as_rep: httpx.Client, mailer: InMemoryMailer, url: str, body: dict[str, Any], field: str
) -> None:
    assert field in _fields(as_rep.post(url, json=body))
    assert mailer.sent == []


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "title", "email"])
def test_an_unpaired_surrogate_is_422_naming_the_field(
    as_rep: httpx.Client, runtime: Runtime, field: str
) -> None:
    raw = '{"' + field + '": "Ada \\ud800"}'
    answer = as_rep.post(
        "/api/v1/people", content=raw, headers={"Content-Type": "application/json"}
    )
    assert _fields(answer) == [field]
    assert "surrogate" in answer.json()["detail"][0]["message"]
    assert _count(runtime, Person) == 0


def test_an_unpaired_surrogate_in_free_text_is_422(as_rep: httpx.Client) -> None:
    raw = '{"name": "Call back", "details": "see \\udfff"}'
    answer = as_rep.post("/api/v1/tasks", content=raw, headers={"Content-Type": "application/json"})
    assert _fields(answer) == ["details"]


def test_a_control_character_in_a_single_line_field_is_422(as_rep: httpx.Client) -> None:
    answer = as_rep.post("/api/v1/people", json={"first_name": "Ada\u0000", "email": "a@b.example"})
    assert _fields(answer) == ["first_name"]
    assert answer.json()["detail"][0]["message"] == "contains control characters (U+0000)"


def test_a_host_with_control_characters_is_refused_and_not_stored(as_rep: httpx.Client) -> None:
    answer = as_rep.put(
        "/api/v1/salesforce/smtp", json={"host": "smtp.example.com\r\nX", "port": 25}
    )
    assert _fields(answer) == ["host"]
    assert as_rep.get("/api/v1/me").status_code == 200


def test_line_breaks_are_kept_in_free_text(as_rep: httpx.Client) -> None:
    answer = as_rep.post("/api/v1/tasks", json={"name": "Call back", "details": "a\r\n\tb"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["details"] == "a\r\n\tb"


def test_call_notes_have_a_maximum_length(
    as_rep: httpx.Client, runtime: Runtime, rep: User
) -> None:
    person = as_rep.post("/api/v1/people", json={"email": "p@b.example"}).json()
    call = {
        "person_id": person["id"],
        "occurred_at": "2026-03-02T10:00:00Z",
        "duration_seconds": 5,
        "notes": "n" * 32_001,
    }
    assert _fields(as_rep.post("/api/v1/calls", json=call)) == ["notes"]
    assert _count(runtime, Call) == 0


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/people", {"first_name": "x" * 101}, "first_name"),
        ("/api/v1/tasks", {"name": "x" * 256}, "name"),
        ("/api/v1/tokens", {"name": "x" * 101}, "name"),
        ("/api/v1/diagnostics/retry", {"code": "x" * 65}, "code"),
    ],
)
def test_every_text_field_has_a_maximum_length(
    as_rep: httpx.Client, url: str, body: dict[str, Any], field: str
) -> None:
    assert field in _fields(as_rep.post(url, json=body))


def test_the_request_body_cap_refuses_large_bodies_with_413(as_rep: httpx.Client) -> None:
    answer = as_rep.post("/api/v1/people", json={"first_name": "x" * (BODY_CAP + 1)})
    assert answer.status_code == 413
    assert str(BODY_CAP) in answer.json()["detail"]


def test_the_cap_also_counts_a_streamed_body(as_rep: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"first_name": "'
        for _ in range(BODY_CAP // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    answer = as_rep.post(
        "/api/v1/people", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


def test_a_reply_cannot_thread_under_a_teammates_email(
    server: ServerThread, admin: User, rep: User, mailer: InMemoryMailer
) -> None:
    with signed_in_client(server, admin) as ada:
        sent = ada.post(
            "/api/v1/emails",
            json={"to": [{"email": "p@b.example"}], "subject": "Hi", "body_text": "x"},
        )
        assert sent.status_code == 201, sent.text
        teammate_email = sent.json()["id"]
    with signed_in_client(server, rep) as rex:
        reply = {
            "to": [{"email": "p@b.example"}],
            "subject": "Re: Hi",
            "body_text": "y",
            "reply_to_email_id": teammate_email,
        }
        refused = rex.post("/api/v1/emails", json=reply)
        missing = rex.post("/api/v1/emails", json=reply | {"reply_to_email_id": 987654})
    assert _fields(refused) == ["reply_to_email_id"]
    # A teammate's email and an id that does not exist get the same answer.
    assert refused.json() == {
        "detail": [
            {
                "field": "reply_to_email_id",
                "message": f"no email of yours has the id {teammate_email}",
            }
        ]
    }
    assert missing.json()["detail"][0]["message"] == "no email of yours has the id 987654"
    assert len(mailer.sent) == 1


def test_the_sender_threads_under_their_own_email(
    as_rep: httpx.Client, mailer: InMemoryMailer
) -> None:
    first = as_rep.post(
        "/api/v1/emails", json={"to": [{"email": "p@b.example"}], "subject": "Hi", "body_text": "x"}
    ).json()
    reply = as_rep.post(
        "/api/v1/emails",
        json={
            "to": [{"email": "p@b.example"}],
            "subject": "Re: Hi",
            "body_text": "y",
            "reply_to_email_id": first["id"],
        },
    )
    assert reply.status_code == 201, reply.text
    assert mailer.sent[-1].email.in_reply_to == first["message_id"]


def _unbounded(schema: dict[str, Any], where: str, components: dict[str, Any]) -> list[str]:
    """Strings without maxLength, integers without maximum, arrays without maxItems."""
    if "$ref" in schema:
        return _unbounded(components[schema["$ref"].split("/")[-1]], where, components)
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _unbounded(sub, where, components)
    kind = schema.get("type")
    uploaded = schema.get("format") == "binary" or "contentMediaType" in schema
    if kind == "string" and not ({"maxLength", "enum", "const"} & schema.keys() or uploaded):
        if schema.get("format") not in ("date", "date-time"):
            found.append(f"{where}: text without maxLength")
    if kind == "integer" and "maximum" not in schema:
        found.append(f"{where}: integer without maximum")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: list without maxItems")
        found += _unbounded(schema.get("items", {}), f"{where}[]", components)
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, f"{where}.{name}", components)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found += _unbounded(extra, f"{where}.*", components)
    return found


def test_every_input_of_the_api_is_bounded(app: FastAPI) -> None:
    """A new route or field without bounds fails here, before a fuzzer finds its 500."""
    spec = app.openapi()
    components = spec["components"]["schemas"]
    problems: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                name = f"{where} {parameter['in']} {parameter['name']}"
                problems += _unbounded(parameter["schema"], name, components)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                problems += _unbounded(content["schema"], f"{where} body", components)
    assert problems == []
