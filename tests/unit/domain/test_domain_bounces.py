"""Reading delivery status notifications (RFC 3464) into bounce facts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.bounces import DsnRecipient, is_dsn, parse_dsn, summary
from tests.support_mail import dsn, mail


def test_a_postfix_bounce() -> None:
    report = parse_dsn(dsn(to="rep@x.test", original_id="<o1@x.test>", recipient="pat@p.test"))
    assert report is not None
    assert report.original_message_id == "<o1@x.test>"
    [failure] = report.failures
    assert failure.final_recipient == "pat@p.test"
    assert failure.status == "5.1.1"
    assert failure.diagnostic_code is not None and "User unknown" in failure.diagnostic_code
    assert summary(failure).startswith("5.1.1 550 5.1.1")


def test_a_delay_report_is_not_a_failure() -> None:
    raw = dsn(
        to="rep@x.test", original_id="<o1@x.test>", recipient="pat@p.test", action="delayed",
        status="4.4.1", diagnostic="smtp; 451 try later",
    )  # fmt: skip
    report = parse_dsn(raw)
    assert report is not None and report.failures == ()


def test_without_the_original_the_thread_headers_name_it() -> None:
    raw = dsn(
        to="rep@x.test", original_id="<o1@x.test>", recipient="pat@p.test", include_original=False
    )
    raw = raw.replace(b"MIME-Version", b"In-Reply-To: <o9@x.test>\r\nMIME-Version", 1)
    report = parse_dsn(raw)
    assert report is not None and report.original_message_id == "<o9@x.test>"


def test_an_ordinary_message_is_not_a_dsn() -> None:
    assert parse_dsn(mail(sender="a@b.test", to="c@d.test")) is None
    assert not is_dsn("multipart/report", "disposition-notification")
    assert is_dsn("multipart/report", "delivery-status")


def test_a_cut_report_still_reads_what_arrived() -> None:
    raw = dsn(to="rep@x.test", original_id="<o1@x.test>", recipient="pat@p.test")
    cut = raw[: raw.index(b"Remote-MTA")]
    report = parse_dsn(cut)
    assert report is not None and report.recipients[0].action == "failed"


def test_status_alone_decides_when_action_is_missing() -> None:
    assert DsnRecipient("a@b", "", "5.0.0", None).failed
    assert not DsnRecipient("a@b", "", "4.0.0", None).failed
    assert summary(DsnRecipient(None, "failed", None, None)) == "bounced"


@given(st.binary(max_size=3000))
def test_any_bytes_never_raise(raw: bytes) -> None:
    parse_dsn(
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" + raw
    )
