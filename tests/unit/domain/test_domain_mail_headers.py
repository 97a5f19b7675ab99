"""Reading message headers found in mailboxes: every defect is handled, nothing raises."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.mail_headers import (
    HEADER_KEY_DOMAIN,
    message_ids_in,
    read_facts,
)

CLEAN = (
    b"From: Rex Rep <rex@salesync.test>\r\n"
    b"To: Pat <pat@prospect.test>, kim@prospect.test\r\n"
    b"Cc: PAT@prospect.test, boss@salesync.test\r\n"
    b"Subject: Pricing\r\n"
    b"Date: Mon, 2 Mar 2026 15:00:00 +0100\r\n"
    b"Message-ID: <abc@salesync.test>\r\n"
    b"In-Reply-To: <p1@prospect.test>\r\n"
    b"References: <p0@prospect.test> <p1@prospect.test>\r\n\r\n"
)


def test_a_clean_message() -> None:
    facts = read_facts(CLEAN)
    assert facts.key == "<abc@salesync.test>" and facts.has_message_id
    assert facts.from_address == "rex@salesync.test"
    assert facts.to == ("pat@prospect.test", "kim@prospect.test")
    assert facts.recipients == ("pat@prospect.test", "kim@prospect.test", "boss@salesync.test")
    assert facts.subject == "Pricing"
    assert facts.date == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    assert facts.thread_ids == ("<p1@prospect.test>", "<p0@prospect.test>")
    assert facts.content_type == "text/plain" and facts.report_type is None
    assert facts.problems == ()


def test_rfc2047_encoded_words_are_decoded() -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e?= <renee@prospect.test>\r\nTo: a@b.test\r\n"
        b"Subject: =?iso-8859-1?q?Caf=E9_cr=E8me?= =?utf-8?b?4pyT?=\r\n\r\n"
    )
    facts = read_facts(raw)
    assert facts.subject == "Café crème✓"
    assert facts.from_address == "renee@prospect.test"


def test_raw_8bit_headers_do_not_break_reading() -> None:
    raw = "From: Zoë <zoe@prospect.test>\r\nTo: a@b.test\r\nSubject: Grüße ✓\r\n\r\n".encode()
    facts = read_facts(raw + b"\xff\xfe")
    assert facts.from_address == "zoe@prospect.test"
    assert "Gr" in facts.subject


def test_latin1_8bit_subject_becomes_replacement_characters_not_an_error() -> None:
    facts = read_facts(b"To: a@b.test\r\nSubject: caf\xe9\r\n\r\n")
    assert facts.subject.startswith("caf")


def test_a_missing_message_id_gets_a_stable_key_from_the_headers() -> None:
    raw = (
        b"From: a@x.test\r\nTo: b@y.test\r\nSubject: Hi\r\n"
        b"Date: Mon, 2 Mar 2026 15:00:00 +0000\r\n\r\n"
    )
    facts = read_facts(raw)
    assert not facts.has_message_id
    assert facts.key.endswith(f"@{HEADER_KEY_DOMAIN}>")
    # The same message filed again (a server adds trace headers) has the same key...
    moved = b"Received: from mx by imap; Tue, 3 Mar 2026\r\nX-Flags: moved\r\n" + raw
    assert read_facts(moved).key == facts.key
    # ...and another message has another.
    assert read_facts(raw.replace(b"Subject: Hi", b"Subject: Ho")).key != facts.key


def test_bad_addresses_are_left_out_and_noted() -> None:
    facts = read_facts(b'To: not an address, ok@fine.test, <@@>, "x" <>\r\n\r\n')
    assert facts.to == ("ok@fine.test",)
    assert any("not an email address" in p for p in facts.problems)


def test_a_bad_date_is_none_and_noted() -> None:
    facts = read_facts(b"To: a@b.test\r\nDate: yesterday-ish\r\n\r\n")
    assert facts.date is None and any(p.startswith("Date:") for p in facts.problems)


def test_a_date_without_zone_is_read_as_utc() -> None:
    facts = read_facts(b"To: a@b.test\r\nDate: Mon, 2 Mar 2026 15:00:00 -0000\r\n\r\n")
    assert facts.date == dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def test_a_multipart_report_is_recognised() -> None:
    raw = (
        b"To: a@b.test\r\nContent-Type: multipart/report; report-type=Delivery-Status;\r\n"
        b' boundary="x"\r\n\r\n'
    )
    facts = read_facts(raw)
    assert (facts.content_type, facts.report_type) == ("multipart/report", "delivery-status")


def test_line_breaks_and_controls_never_reach_the_subject() -> None:
    facts = read_facts(b"To: a@b.test\r\nSubject: one\r\n two\x07three\r\n\r\n")
    assert facts.subject == "one two three"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("<a@b>", ("<a@b>",)),
        ("  <a@b>  <c@d> <a@b>", ("<a@b>", "<c@d>")),
        ("junk <a@b> (comment) <c d>", ("<a@b>",)),
        ("no brackets@all", ()),
    ],
)
def test_message_ids_in(value: str | None, expected: tuple[str, ...]) -> None:
    assert message_ids_in(value) == expected


@given(st.binary(max_size=2000))
def test_any_bytes_give_facts_and_never_raise(raw: bytes) -> None:
    facts = read_facts(raw)
    assert facts.key.startswith("<") and facts.key.endswith(">")
    assert len(facts.key) <= 255
    assert "\n" not in facts.subject


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "References", "Date"]),
            st.text(max_size=80),
        ),
        max_size=12,
    )
)
def test_any_header_text_gives_facts(headers: list[tuple[str, str]]) -> None:
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "replace")
    facts = read_facts(raw + b"\r\n")
    assert all("@" in address for address in facts.recipients)
