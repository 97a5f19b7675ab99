"""CSV files in and out are UTF-8: exports start with a byte order mark (so Excel reads
Japanese, Chinese and German names right), imports read files with or without one."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from salesync.runtime import Runtime
from salesync.serving import ServerThread
from salesync.store import diagnostics as diagnostic_store
from salesync.store.db import unit_of_work
from salesync.store.tables import Person, User
from tests.integration.web.web_support import browser_for, token_client

JAPANESE_NAME = "山田 花子"
MESSAGE = "Kein Lead gefunden: 顧客「株式会社サンプル」"


def test_the_diagnostics_export_starts_with_a_bom_and_keeps_a_japanese_name(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    with browser_for(server, rep) as browser:
        assert browser.patch("/api/v1/me", json={"name": JAPANESE_NAME}).status_code == 200
        with unit_of_work(runtime.sessions) as session:
            diagnostic_store.record(
                session,
                team_id=rep.team_id,
                user_id=rep.id,
                item_type="email",
                item_id=1,
                code="NO_MATCHING_RECORD",
                category="unmatched",
                message=MESSAGE,
                now=runtime.clock.now(),
            )
        answer = browser.get("/api/v1/diagnostics/export.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(row["user"], row["message"]) for row in rows] == [(JAPANESE_NAME, MESSAGE)]
    assert "category" in rows[0]  # the BOM is not part of the first column's name


def _import(server: ServerThread, rep: User, content: bytes) -> dict[str, object]:
    mapping = {"Email": "email", "名": "first_name", "姓": "last_name"}
    with token_client(server, rep) as client:
        answer = client.post(
            "/api/v1/people/import",
            files={"file": ("people.csv", content, "text/csv")},
            data={"mapping": json.dumps(mapping, ensure_ascii=False)},
        )
    assert answer.status_code == 200, answer.text
    report: dict[str, object] = answer.json()
    return report


def test_an_import_reads_utf8_with_and_without_a_bom(
    server: ServerThread, runtime: Runtime, rep: User
) -> None:
    text = "Email,名,姓\nhanako@example.jp,花子,山田\n"
    with_bom = _import(server, rep, b"\xef\xbb\xbf" + text.encode())
    without = _import(server, rep, text.replace("hanako", "taro").replace("花子", "太郎").encode())
    assert with_bom["totals"] == without["totals"]
    with runtime.sessions() as session:
        people = {p.email: (p.last_name, p.first_name) for p in session.scalars(select(Person))}
    assert people == {"hanako@example.jp": ("山田", "花子"), "taro@example.jp": ("山田", "太郎")}
