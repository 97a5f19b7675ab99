"""Decide what a message found in a rep's mailbox is to salesync (DESIGN §3 mailbox sync).

In the Sent folder: mail to people outside the team is logged like mail sent through
salesync, to salesync people only, or by team option to anyone Salesforce knows by address;
internal mail, blocklisted domains and mail salesync already has (same Message-ID) never are.
In the Inbox: a message whose In-Reply-To or References names an email the rep sent is a
reply from whoever wrote it (REPLY-5); a delivery status notification about such an email is
a bounce. Everything else is skipped, with the reason.
"""

from __future__ import annotations

import dataclasses
import enum

from salesync.domain.bounces import Dsn, DsnRecipient
from salesync.domain.mail_headers import MessageFacts, domain_of


class FolderRole(enum.StrEnum):
    """The folders salesync reads, found by SPECIAL-USE (RFC 6154) or set by hand."""

    SENT = "sent"
    INBOX = "inbox"


class SkipReason(enum.StrEnum):
    ALREADY_KNOWN = "already_known"
    INTERNAL = "internal"
    BLOCKLISTED = "blocklisted"
    NO_KNOWN_PERSON = "no_known_person"
    NO_RECIPIENTS = "no_recipients"
    NOT_A_REPLY = "not_a_reply"
    AUTOMATIC = "automatic"
    NOT_OUR_BOUNCE = "not_our_bounce"
    NOT_A_FAILURE = "not_a_failure"


@dataclasses.dataclass(frozen=True)
class MailboxPolicy:
    """The team's and rep's rules for mailbox mail."""

    #: The rep's own addresses, lower-cased.
    own_addresses: frozenset[str]
    #: The team's own domains: mail among them is internal (subdomains included).
    internal_domains: frozenset[str]
    #: Domains never logged (subdomains included).
    blocked_domains: frozenset[str] = frozenset()
    #: Log sent mail to any outside address (Salesforce matching decides), not only to
    #: salesync people.
    log_anyone: bool = False


@dataclasses.dataclass(frozen=True)
class KnownMail:
    """What salesync already knows about the messages of one batch."""

    #: Message-IDs (or header keys) of every email salesync has, sent or logged.
    message_ids: frozenset[str] = frozenset()
    #: Message-IDs of emails this rep sent (what a reply or a bounce must name).
    sent_by_rep: frozenset[str] = frozenset()
    #: Lower-cased addresses of the team's salesync people.
    people: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class LogSent:
    """Log this sent message for these recipients (To and Cc, outside the team)."""

    recipients: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class LogReply:
    """A reply to the rep's email ``parent_id``."""

    parent_id: str


@dataclasses.dataclass(frozen=True)
class MarkBounced:
    """The rep's email ``original_id`` bounced for these recipients."""

    original_id: str
    failures: tuple[DsnRecipient, ...]


@dataclasses.dataclass(frozen=True)
class Skip:
    reason: SkipReason


Decision = LogSent | LogReply | MarkBounced | Skip


def matches_domain(address_or_domain: str, domains: frozenset[str]) -> bool:
    """True when the domain equals one of ``domains`` or is a subdomain of one."""
    domain = domain_of(address_or_domain) if "@" in address_or_domain else address_or_domain
    domain = domain.lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in domains)


def normalize_domains(values: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Domains as an admin typed them ("@Example.com ", "example.com.") in one form."""
    cleaned = (v.strip().lower().lstrip("@").rstrip(".") for v in values)
    return frozenset(v for v in cleaned if v)


def classify(
    facts: MessageFacts,
    folder: FolderRole,
    policy: MailboxPolicy,
    known: KnownMail,
    dsn: Dsn | None = None,
) -> Decision:
    """What to do with one message of ``folder``; pure, so every case is a table row."""
    if facts.key in known.message_ids:
        return Skip(SkipReason.ALREADY_KNOWN)
    if folder is FolderRole.SENT:
        return _sent(facts, policy, known)
    if dsn is not None:
        return _bounce(dsn, known)
    return _reply(facts, policy, known)


def _outside(address: str, policy: MailboxPolicy) -> bool:
    lowered = address.lower()
    return lowered not in policy.own_addresses and not matches_domain(
        lowered, policy.internal_domains
    )


def _sent(facts: MessageFacts, policy: MailboxPolicy, known: KnownMail) -> Decision:
    if not facts.recipients:
        return Skip(SkipReason.NO_RECIPIENTS)
    outside = [a for a in facts.recipients if _outside(a, policy)]
    if not outside:
        return Skip(SkipReason.INTERNAL)
    allowed = [a for a in outside if not matches_domain(a, policy.blocked_domains)]
    if not allowed:
        return Skip(SkipReason.BLOCKLISTED)
    chosen = allowed if policy.log_anyone else [a for a in allowed if a.lower() in known.people]
    if not chosen:
        return Skip(SkipReason.NO_KNOWN_PERSON)
    return LogSent(tuple(chosen))


def _reply(facts: MessageFacts, policy: MailboxPolicy, known: KnownMail) -> Decision:
    parent = next((i for i in facts.thread_ids if i in known.sent_by_rep), None)
    if parent is None:
        return Skip(SkipReason.NOT_A_REPLY)
    sender = facts.from_address
    if sender is None or not _outside(sender, policy):
        return Skip(SkipReason.INTERNAL)
    if matches_domain(sender, policy.blocked_domains):
        return Skip(SkipReason.BLOCKLISTED)
    if facts.auto_submitted != "no":
        # RFC 3834: out-of-office and other automatic answers are not a prospect's reply.
        return Skip(SkipReason.AUTOMATIC)
    return LogReply(parent)


def reply_about(replier: str, recipients: list[tuple[str, int | None]]) -> int | None:
    """REPLY-5: the person a reply is about when someone else at their side wrote it: the
    emailed person at the replier's domain, else the first person the email went to."""
    domain = domain_of(replier)
    known = [(address, person) for address, person in recipients if person is not None]
    same_side = [person for address, person in known if domain_of(address) == domain]
    if same_side:
        return same_side[0]
    return known[0][1] if known else None


def _bounce(dsn: Dsn, known: KnownMail) -> Decision:
    if dsn.original_message_id is None or dsn.original_message_id not in known.sent_by_rep:
        return Skip(SkipReason.NOT_OUR_BOUNCE)
    failures = dsn.failures
    if not failures:
        return Skip(SkipReason.NOT_A_FAILURE)  # "delayed" or "delivered" reports
    return MarkBounced(dsn.original_message_id, failures)
