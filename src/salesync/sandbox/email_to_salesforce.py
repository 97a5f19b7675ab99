"""Email to Salesforce: who may send to a user's address, and logging a message as Tasks.

API-FACTS §4 and "Emulator must reproduce" item 16: mail from one of the user's acceptable
senders becomes a completed email Task on each matching Lead/Contact (and open opportunity);
mail that matches nothing becomes an open Task with no WhoId in the user's unresolved items.
Real Salesforce accepts every message and bounces refusals later by email; the sandbox refuses
at RCPT (or DATA) instead, so a sender learns why at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from salesync.sandbox.e2s_matching import LogTarget, Targets, find_targets
from salesync.sandbox.e2s_state import E2sUser
from salesync.sandbox.errors import ApiError
from salesync.sandbox.mail_catcher import E2sOutcome
from salesync.sandbox.objects import CustomFieldSpec

if TYPE_CHECKING:
    from salesync.sandbox.org import Org

#: The User field that carries each user's address when the org exposes it (see docs/bcc.md).
E2S_ADDRESS_FIELD = "Email_to_Salesforce_Address__c"
#: ``changeOrigin`` of the Tasks Email to Salesforce creates (in /__sandbox__/changes).
CHANGE_ORIGIN = "email-to-salesforce"
#: Task limits (API-FACTS §1): Subject 255, Description 32,000 (longer bodies are cut).
MAX_SUBJECT, MAX_DESCRIPTION = 255, 32_000
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class RecipientCheck:
    """What the listener answers for one RCPT TO address."""

    #: The user whose Email-to-Salesforce address this is; None for any other address.
    user: E2sUser | None
    #: The SMTP refusal (``550 ...``), or None when the address takes the mail.
    refusal: str | None = None


def check_recipient(org: Org, address: str, sender: str) -> RecipientCheck:
    """Whether ``address`` takes mail from ``sender``: other addresses are always caught."""
    e2s = org.e2s
    if not e2s.owns(address):
        return RecipientCheck(None)
    user = e2s.by_address(address)
    if user is None:
        return RecipientCheck(None, f"550 5.1.1 <{address}>: no such Email to Salesforce address")
    return RecipientCheck(user, refusal_for(org, user, sender))


def refusal_for(org: Org, user: E2sUser, sender: str) -> str | None:
    """Why ``user``'s address refuses mail from ``sender`` (msia-rules TROUBLE-13), or None."""
    username = username_of(org, user.user_id)
    record = org.user(user.user_id)
    if not org.e2s.settings.active:
        return (
            "550 5.7.1 Email to Salesforce is not active in this org "
            "(Setup > Email Administration > Email to Salesforce)"
        )
    if record is None or not record.get("IsActive"):
        return f"550 5.7.1 The Salesforce user {username} is inactive"
    if not user.active:
        return (
            f"550 5.7.1 Email to Salesforce is not active for {username} "
            "(My Settings > Email > My Email to Salesforce)"
        )
    if not user.accepts_sender(sender):
        return f"550 5.7.1 Sender <{sender}> not among the acceptable email addresses of {username}"
    return None


def parse_message(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def header_sender(message: EmailMessage, envelope_sender: str) -> str:
    """The From address as written in the message (the envelope sender when there is none)."""
    _, address = parseaddr(str(message.get("From", "")))
    return address or envelope_sender


def body_text(message: EmailMessage) -> str:
    """The plain-text body (HTML without its tags when there is no text part)."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
    except (KeyError, LookupError, ValueError):
        return ""
    text = str(content)
    return _TAGS.sub("", text) if part.get_content_subtype() == "html" else text


def log_message(org: Org, user: E2sUser, message: EmailMessage, recipient: str) -> E2sOutcome:
    """Create the Tasks for one received message as ``user``; nothing is saved on failure."""
    body = body_text(message)
    with org.lock:
        outcome = E2sOutcome(recipient, user.user_id, username_of(org, user.user_id), "failed")
        targets = find_targets(org, message, body)
        try:
            with org.batch():
                task_ids = _create_tasks(org, user.user_id, message, body, targets)
        except ApiError as exc:
            return replace(outcome, reason=f"{exc.error_code}: {exc.message}")
    found = replace(
        outcome, task_ids=task_ids, matched=targets.matched, referenced=tuple(targets.referenced)
    )
    if targets.tasks:
        return replace(found, status="logged")
    if task_ids:
        reason = "no matching records: sent to My Unresolved Items"
        return replace(found, status="unresolved", reason=reason)
    reason = "no matching records, and unresolved items are off: not saved"
    return replace(found, status="discarded", reason=reason)


def _create_tasks(
    org: Org, user_id: str, message: EmailMessage, body: str, targets: Targets
) -> tuple[str, ...]:
    dml = org.dml(user_id, origin=CHANGE_ORIGIN, mode="ui")
    task = org.schema.objects["Task"]
    if targets.tasks:
        closed = _first_closed_status(org)
        return tuple(
            dml.create(task, _task_fields(org, message, body, target, closed))
            for target in targets.tasks
        )
    if org.e2s.settings.create_unresolved_tasks:
        # An open Task without WhoId: the default (open) status (API-FACTS §4).
        return (dml.create(task, _task_fields(org, message, body, LogTarget(None, None), None)),)
    return ()


def _task_fields(
    org: Org, message: EmailMessage, body: str, target: LogTarget, status: str | None
) -> dict[str, Any]:
    subject = str(message.get("Subject", "") or "").strip()
    fields: dict[str, Any] = {
        "Subject": f"Email: {subject}"[:MAX_SUBJECT],
        "TaskSubtype": "Email",
        "Description": body[:MAX_DESCRIPTION],
        "ActivityDate": org.clock.now().date().isoformat(),
        "WhoId": target.who,
        "WhatId": target.what,
    }
    task_type = send_email_default_type(org)
    if task_type:
        fields["Type"] = task_type
    if status:
        fields["Status"] = status
    return fields


def _first_closed_status(org: Org) -> str | None:
    """The first closed TaskStatus value; never a hard-coded "Completed" (API-FACTS §4)."""
    return next((str(r["ApiName"]) for r in org.picklist_rows("TaskStatus") if r["IsClosed"]), None)


def send_email_default_type(org: Org) -> str | None:
    """The Type picklist's "Send Email Default" (API-FACTS §4); "Email" when not configured
    and the picklist has it."""
    configured = org.e2s.settings.send_email_default_type
    if configured:
        return configured
    type_field = org.schema.objects["Task"].fields.get("Type")
    values = {entry.value for entry in type_field.picklist} if type_field else set()
    return "Email" if "Email" in values else None


def publish_addresses(org: Org) -> None:
    """Keep ``User.Email_to_Salesforce_Address__c`` equal to each active address while the
    org exposes it (the field is created on first use and emptied when exposure stops)."""
    e2s = org.e2s
    user_object = org.schema.objects["User"]
    if E2S_ADDRESS_FIELD not in user_object.fields:
        if not e2s.settings.expose_address_field:
            return
        org.add_custom_field(
            CustomFieldSpec(
                "User", E2S_ADDRESS_FIELD, "text", 255, label="Email to Salesforce Address"
            )
        )
    for record in list(org.records.rows("User")):
        entry = e2s.users.get(str(record["Id"]))
        shown = e2s.settings.expose_address_field and e2s.settings.active
        value = entry.address if shown and entry is not None and entry.active else None
        if record.get(E2S_ADDRESS_FIELD) != value:
            org.records.replace({**record, E2S_ADDRESS_FIELD: value})


def username_of(org: Org, user_id: str) -> str:
    record = org.user(user_id)
    return str(record["Username"]) if record else user_id
