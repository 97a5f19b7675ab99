"""What a message in a rep's mailbox is to salesync: one row per case."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.bounces import Dsn, DsnRecipient
from salesync.domain.mail_headers import MessageFacts
from salesync.domain.mailbox_rules import (
    FolderRole,
    KnownMail,
    LogReply,
    LogSent,
    MailboxPolicy,
    MarkBounced,
    Skip,
    SkipReason,
    classify,
    matches_domain,
    normalize_domains,
    reply_about,
)

POLICY = MailboxPolicy(
    own_addresses=frozenset({"rex@team.test"}),
    internal_domains=frozenset({"team.test"}),
    blocked_domains=frozenset({"blocked.test"}),
)
KNOWN = KnownMail(
    message_ids=frozenset({"<sent@team.test>", "<old-reply@p.test>"}),
    sent_by_rep=frozenset({"<sent@team.test>"}),
    people=frozenset({"pat@p.test", "kim@blocked.test"}),
)


def facts(
    *,
    key: str = "<new@team.test>",
    sender: str | None = "rex@team.test",
    to: tuple[str, ...] = ("pat@p.test",),
    cc: tuple[str, ...] = (),
    in_reply_to: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    auto: str = "no",
) -> MessageFacts:
    return MessageFacts(
        key=key, has_message_id=True, from_address=sender, to=to, cc=cc, subject="S",
        date=None, in_reply_to=in_reply_to, references=references, content_type="text/plain",
        report_type=None, auto_submitted=auto,
    )  # fmt: skip


SENT_CASES = [
    ("to a known person", facts(), LogSent(("pat@p.test",))),
    ("salesync has it already", facts(key="<sent@team.test>"), Skip(SkipReason.ALREADY_KNOWN)),
    ("internal only", facts(to=("boss@team.test",)), Skip(SkipReason.INTERNAL)),
    ("internal subdomain", facts(to=("a@eu.team.test",)), Skip(SkipReason.INTERNAL)),
    ("to myself", facts(to=("REX@team.test",)), Skip(SkipReason.INTERNAL)),
    ("blocked domain", facts(to=("kim@blocked.test",)), Skip(SkipReason.BLOCKLISTED)),
    ("stranger", facts(to=("who@else.test",)), Skip(SkipReason.NO_KNOWN_PERSON)),
    ("no recipients", facts(to=()), Skip(SkipReason.NO_RECIPIENTS)),
    (
        "known person in Cc among others",
        facts(to=("boss@team.test", "who@else.test"), cc=("pat@p.test", "kim@blocked.test")),
        LogSent(("pat@p.test",)),
    ),
]


@pytest.mark.parametrize(
    ("name", "message", "expected"), SENT_CASES, ids=[c[0] for c in SENT_CASES]
)
def test_sent_folder(name: str, message: MessageFacts, expected: object) -> None:
    assert classify(message, FolderRole.SENT, POLICY, KNOWN) == expected


def test_the_team_option_logs_mail_to_anyone_outside() -> None:
    anyone = MailboxPolicy(
        POLICY.own_addresses, POLICY.internal_domains, POLICY.blocked_domains, True
    )
    message = facts(to=("who@else.test", "boss@team.test", "x@blocked.test"))
    assert classify(message, FolderRole.SENT, anyone, KNOWN) == LogSent(("who@else.test",))


INBOX_CASES = [
    (
        "reply by the person",
        facts(sender="pat@p.test", to=("rex@team.test",), in_reply_to=("<sent@team.test>",)),
        LogReply("<sent@team.test>"),
    ),
    (
        "reply by a colleague, found through References only",
        facts(sender="lee@p.test", references=("<x@y>", "<sent@team.test>")),
        LogReply("<sent@team.test>"),
    ),
    ("not a reply", facts(sender="pat@p.test"), Skip(SkipReason.NOT_A_REPLY)),
    (
        "answering someone else's email",
        facts(sender="pat@p.test", in_reply_to=("<other@team.test>",)),
        Skip(SkipReason.NOT_A_REPLY),
    ),
    (
        "a teammate answering in the thread",
        facts(sender="boss@team.test", in_reply_to=("<sent@team.test>",)),
        Skip(SkipReason.INTERNAL),
    ),
    (
        "blocked sender",
        facts(sender="kim@blocked.test", in_reply_to=("<sent@team.test>",)),
        Skip(SkipReason.BLOCKLISTED),
    ),
    (
        "out of office",
        facts(sender="pat@p.test", in_reply_to=("<sent@team.test>",), auto="auto-replied"),
        Skip(SkipReason.AUTOMATIC),
    ),
    (
        "no sender",
        facts(sender=None, in_reply_to=("<sent@team.test>",)),
        Skip(SkipReason.INTERNAL),
    ),
    (
        "recorded already",
        facts(key="<old-reply@p.test>", sender="pat@p.test", in_reply_to=("<sent@team.test>",)),
        Skip(SkipReason.ALREADY_KNOWN),
    ),
]


@pytest.mark.parametrize(
    ("name", "message", "expected"), INBOX_CASES, ids=[c[0] for c in INBOX_CASES]
)
def test_inbox(name: str, message: MessageFacts, expected: object) -> None:
    assert classify(message, FolderRole.INBOX, POLICY, KNOWN) == expected


FAILED = DsnRecipient("pat@p.test", "failed", "5.1.1", "550 unknown")
DELAYED = DsnRecipient("pat@p.test", "delayed", "4.4.1", None)


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (Dsn("<sent@team.test>", (FAILED,)), MarkBounced("<sent@team.test>", (FAILED,))),
        (Dsn("<sent@team.test>", (DELAYED,)), Skip(SkipReason.NOT_A_FAILURE)),
        (Dsn("<other@team.test>", (FAILED,)), Skip(SkipReason.NOT_OUR_BOUNCE)),
        (Dsn(None, (FAILED,)), Skip(SkipReason.NOT_OUR_BOUNCE)),
    ],
)
def test_bounces(report: Dsn, expected: object) -> None:
    message = facts(sender="mailer-daemon@mx.test", auto="auto-replied")
    assert classify(message, FolderRole.INBOX, POLICY, KNOWN, report) == expected


@pytest.mark.parametrize(
    ("value", "domains", "expected"),
    [
        ("a@team.test", {"team.test"}, True),
        ("a@TEAM.test.", {"team.test"}, True),
        ("a@eu.team.test", {"team.test"}, True),
        ("a@notteam.test", {"team.test"}, False),
        ("team.test", {"team.test"}, True),
        ("a@x.test", set(), False),
    ],
)
def test_matches_domain(value: str, domains: set[str], expected: bool) -> None:
    assert matches_domain(value, frozenset(domains)) is expected


def test_normalize_domains() -> None:
    assert normalize_domains([" @Example.com", "example.com.", "", "B.test"]) == {
        "example.com",
        "b.test",
    }


@pytest.mark.parametrize(
    ("replier", "recipients", "expected"),
    [
        ("lee@p.test", [("x@q.test", 1), ("pat@p.test", 2)], 2),
        ("lee@p.test", [("x@q.test", 1), ("y@r.test", 3)], 1),
        ("lee@p.test", [("x@q.test", None)], None),
        ("lee@p.test", [], None),
    ],
)
def test_reply_about(
    replier: str, recipients: list[tuple[str, int | None]], expected: int | None
) -> None:
    assert reply_about(replier, recipients) == expected


addresses = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.sampled_from(["a", "b", "rex", "pat", "kim"]),
    st.sampled_from(["team.test", "eu.team.test", "p.test", "blocked.test", "x.test"]),
)


@given(st.lists(addresses, max_size=6), st.lists(addresses, max_size=4), st.booleans())
def test_sent_mail_is_never_logged_to_the_team_or_a_blocked_domain(
    to: list[str], cc: list[str], anyone: bool
) -> None:
    policy = MailboxPolicy(
        POLICY.own_addresses, POLICY.internal_domains, POLICY.blocked_domains, anyone
    )
    message = facts(to=tuple(dict.fromkeys(to)), cc=tuple(dict.fromkeys(cc)))
    decision = classify(message, FolderRole.SENT, policy, KNOWN)
    if isinstance(decision, LogSent):
        assert decision.recipients
        for address in decision.recipients:
            assert not matches_domain(address, policy.internal_domains)
            assert not matches_domain(address, policy.blocked_domains)
            assert anyone or address in KNOWN.people
