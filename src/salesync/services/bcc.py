"""Email to Salesforce (BCC) logging for a rep: status, activate, deactivate, a test send,
and Diagnostics for BCC failures at send time (msia-rules BCC-1..4, TROUBLE-13).

While BCC is active, ``activities.send_email`` puts the rep's Email-to-Salesforce address on
the SMTP envelope only and queues no API logging; Salesforce itself matches and logs the email.
Real Salesforce has no API for a user's address, so it is read from the User field
``Email_to_Salesforce_Address__c`` where an org has one (docs/bcc.md), else entered by the rep.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import datetime

import httpx
from sqlalchemy.orm import Session

from salesync.domain import soql
from salesync.domain.settings import ForceMode, LoggingMode, SyncSettings
from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.i18n import gettext, use_language
from salesync.mail import message as mail_message
from salesync.mail.errors import InvalidMessage, MailError, MailRecipientsRefused, MailRejected
from salesync.mail.message import OutgoingEmail
from salesync.mail.smtp import Mailer, SentMessage
from salesync.runtime import Runtime
from salesync.salesforce.errors import SalesforceError
from salesync.salesforce_access import open_client
from salesync.services import sync_settings
from salesync.services.accounts import validate_email
from salesync.store import connections, diagnostics
from salesync.store.db import unit_of_work
from salesync.store.tables import ConnectionStatus, SalesforceConnection, User

#: The User field salesync reads the address from, where the org has it (docs/bcc.md).
ADDRESS_FIELD = "Email_to_Salesforce_Address__c"

#: Diagnostics codes of BCC logging (texts in domain/own_codes.py).
ADDRESS_MISSING = "BCC_ADDRESS_MISSING"
REFUSED_BY_SMTP = "BCC_REFUSED_BY_SMTP"
SENDER_NOT_ACCEPTED = "BCC_SENDER_NOT_ACCEPTED"
NOT_ACTIVE = "BCC_NOT_ACTIVE"

#: BCC-2, from the seeds: where a rep finds (or sets up) the address in Salesforce.
REP_STEPS = (
    tr("Log in to Salesforce."),
    tr("Open the menu under your name (top right) and choose My Settings."),
    tr("Choose Email, then My Email to Salesforce."),
    tr(
        "The page shows your Email to Salesforce Address. If nothing is next to it, scroll to "
        "My Acceptable Email Addresses."
    ),
    tr(
        "Enter the email addresses you send BCC emails from (the one salesync sends from included)."
    ),
    tr("Click Save Changes, then copy the address into the Email to Salesforce (BCC) tab here."),
)
#: BCC-2: when My Email to Salesforce is missing, a Salesforce admin enables it org-wide.
ADMIN_STEPS = (
    tr("Click Setup."),
    tr("Click Email Administration."),
    tr("Click Email to Salesforce."),
    tr("Click Edit."),
    tr("Tick the box next to Active."),
    tr("Click Save."),
)


class AddressSource(enum.StrEnum):
    """Where the stored address came from."""

    SALESFORCE = "salesforce"
    ENTERED = "entered"


@dataclasses.dataclass(frozen=True)
class BccStatus:
    """What the Email to Salesforce (BCC) tab shows."""

    #: BCC logging applies to the rep's emails now.
    active: bool
    logging_mode: LoggingMode
    #: The address salesync BCCs (kept while BCC is off, for the next activation).
    address: str | None
    source: AddressSource | None
    #: The address the rep's org exposes, when salesync could read one.
    salesforce_address: str | None
    #: The admin's team override, if any (API-4, BCC-4).
    force_mode: ForceMode | None
    #: An admin locked the logging mode (name of who locked it).
    locked_by: str | None
    can_activate: bool
    can_deactivate: bool
    #: Set-up steps, shown while no address is known (BCC-2).
    steps: tuple[str, ...] = ()
    admin_steps: tuple[str, ...] = ()


class CheckStatus(enum.StrEnum):
    """Outcome of the test message."""

    #: Salesforce has a Task for the test message.
    LOGGED = "logged"
    #: The mail server took it; no Task is visible (yet).
    ACCEPTED = "accepted"
    #: The address refused the message (see ``code``).
    REFUSED = "refused"
    MISSING_ADDRESS = "missing_address"
    #: The mail server could not be used at all.
    SEND_FAILED = "send_failed"


@dataclasses.dataclass(frozen=True)
class BccCheck:
    """What the rep reads after "Send a test message"."""

    status: CheckStatus
    message: str
    address: str | None = None
    #: A Diagnostics code when the check failed (own_codes.py has cause and fix).
    code: str | None = None
    smtp_code: int | None = None
    smtp_text: str = ""
    task_id: str | None = None
    subject: str = ""
    steps: tuple[str, ...] = ()


# --- the address in Salesforce --------------------------------------------------------------


def fetch_address(runtime: Runtime, user: User, *, http: httpx.Client | None = None) -> str | None:
    """The rep's address as their org exposes it; None when not connected, when the org has
    no such field, or when it is empty. Costs one API call when connected."""
    connection = _connection(runtime, user)
    if connection is None:
        return None
    query = f"SELECT {ADDRESS_FIELD} FROM User WHERE Id = {soql.quote(connection.sf_user_id)}"
    try:
        with open_client(runtime, connection, http=http) as client:
            records = list(client.query(query))
    except SalesforceError:
        return None  # INVALID_FIELD: the org has no such field; other errors: not now
    value = records[0].get(ADDRESS_FIELD) if records else None
    try:
        return checked_address(str(value)) if value else None
    except InvalidInput:
        return None


def _connection(runtime: Runtime, user: User) -> SalesforceConnection | None:
    with runtime.sessions() as session:
        row = connections.for_user(session, user.id)
        if row is None or row.status is not ConnectionStatus.CONNECTED:
            return None
        session.expunge(row)
        return row


def checked_address(address: str) -> str:
    """``address`` if the mail layer can send to it; InvalidInput otherwise."""
    address = validate_email(address, field="bcc_address")
    probe = OutgoingEmail(from_address=address, to=[address], subject="", body_text="")
    try:
        mail_message.validate_email(probe)
    except InvalidMessage as exc:
        raise InvalidInput(
            tr("{address} is not an address we can send to", address=repr(address)),
            field="bcc_address",
        ) from exc
    return address


# --- the tab: status, activate, deactivate --------------------------------------------------


def status(
    runtime: Runtime, user: User, *, fetch: bool = True, http: httpx.Client | None = None
) -> BccStatus:
    """The tab's state; with ``fetch``, also the address the org exposes (one API call)."""
    exposed = fetch_address(runtime, user, http=http) if fetch else None
    return _status(runtime, user, exposed)


def _status(runtime: Runtime, user: User, exposed: str | None) -> BccStatus:
    with runtime.sessions() as session:
        member = session.get(User, user.id)
        assert member is not None
        policy = sync_settings.team_policy(session, member.team)
        settings = sync_settings.effective_for(session, member).settings
    lock = policy.lock_for("logging_mode")
    address = settings.bcc_address
    source = None
    if address:
        same = exposed is not None and exposed.lower() == address.lower()
        source = AddressSource.SALESFORCE if same else AddressSource.ENTERED
    active = settings.logging_mode is LoggingMode.BCC
    free = lock is None and policy.force_mode is None
    missing = not address and not exposed
    return BccStatus(
        active=active,
        logging_mode=settings.logging_mode,
        address=address,
        source=source,
        salesforce_address=exposed,
        force_mode=policy.force_mode,
        locked_by=lock.locked_by if lock else None,
        can_activate=not active and free,
        can_deactivate=active and free,
        steps=REP_STEPS if missing else (),
        admin_steps=ADMIN_STEPS if missing else (),
    )


def activate(
    runtime: Runtime,
    user: User,
    address: str | None = None,
    *,
    http: httpx.Client | None = None,
) -> BccStatus:
    """Turn BCC logging on with ``address``, or with the address the org exposes.

    API logging stops for the rep at once (DESIGN §3: exclusive). Raises InvalidInput when
    no address is known (the message carries the set-up steps), or when a lock or the
    team override refuses the change.
    """
    exposed = fetch_address(runtime, user, http=http)
    chosen = checked_address(address) if address else exposed
    if chosen is None:
        raise InvalidInput(
            tr(
                "Salesforce did not give us your Email to Salesforce address; enter it here. "
                "To find it: {steps}",
                steps=" ".join(REP_STEPS),
            ),
            field="bcc_address",
        )
    _save(runtime, user, {"logging_mode": LoggingMode.BCC.value, "bcc_address": chosen})
    return _status(runtime, user, exposed)


def deactivate(
    runtime: Runtime, user: User, *, fallback: LoggingMode = LoggingMode.API
) -> BccStatus:
    """Turn BCC logging off: back to API logging (or ``off``); the address is kept."""
    if fallback is LoggingMode.BCC:
        raise InvalidInput(tr("choose api or off"), field="fallback")
    _save(runtime, user, {"logging_mode": fallback.value})
    return _status(runtime, user, None)


def _save(runtime: Runtime, user: User, changes: dict[str, object]) -> None:
    with unit_of_work(runtime.sessions) as session:
        member = session.get(User, user.id)
        assert member is not None
        sync_settings.save_my_settings(session, member, changes, now=runtime.clock.now())


# --- send-time outcome ----------------------------------------------------------------------


def classify_refusal(text: str) -> str:
    """The Diagnostics code for an SMTP refusal of the Email-to-Salesforce address."""
    lowered = text.lower()
    if "acceptable" in lowered:
        return SENDER_NOT_ACCEPTED
    if "not active" in lowered:
        return NOT_ACTIVE
    return REFUSED_BY_SMTP


def record_bcc_outcome(
    session: Session,
    user: User,
    email_id: int,
    sent: SentMessage,
    *,
    now: datetime,
    settings: SyncSettings | None = None,
) -> str | None:
    """After a send: put a BCC failure on Diagnostics; returns its code, or None.

    Called by ``activities.send_email`` inside its last unit of work, for every sent email,
    with the settings it read before sending (read again here when not given).
    """
    settings = settings or sync_settings.effective_for(session, user).settings
    if settings.logging_mode is not LoggingMode.BCC:
        return None
    address = settings.bcc_address
    if not address:
        missing = tr("Not logged by BCC: salesync has no Email to Salesforce address for you.")
        return _record(session, user, email_id, ADDRESS_MISSING, missing, {}, now)
    refusal = next((v for k, v in sent.refused.items() if k.lower() == address.lower()), None)
    if refusal is None:
        return None
    code, text = refusal
    diagnostic = classify_refusal(text)
    message = _refusal_message(diagnostic, address, user.email, code, text)
    detail = {"address": address, "smtp_code": code, "smtp_text": text}
    return _record(session, user, email_id, diagnostic, message, detail, now)


def _refusal_message(diagnostic: str, address: str, sender: str, code: int, text: str) -> str:
    if diagnostic == SENDER_NOT_ACCEPTED:
        return tr(
            "Not logged by BCC: Salesforce does not accept email from {sender}. Add it to "
            "My Acceptable Email Addresses in Salesforce.",
            sender=sender,
        )
    if diagnostic == NOT_ACTIVE:
        return tr("Not logged by BCC: Email to Salesforce is not active for you or your org.")
    return tr(
        "Not logged by BCC: the mail server refused {address} ({code} {text}).",
        address=address,
        code=code,
        text=text,
    )


def _record(
    session: Session,
    user: User,
    email_id: int,
    code: str,
    message: str,
    detail: dict[str, object],
    now: datetime,
) -> str:
    diagnostics.record(
        session,
        team_id=user.team_id,
        user_id=user.id,
        item_type="email",
        item_id=email_id,
        code=code,
        category="setup",
        message=message,
        now=now,
        detail=detail,
    )
    return code


# --- the check ------------------------------------------------------------------------------


def send_test(
    runtime: Runtime, user: User, mailer: Mailer, *, http: httpx.Client | None = None
) -> BccCheck:
    """Send a test message to the rep's address and say whether Salesforce took (and logged)
    it. The message goes To the address, as a forwarded email would."""
    with runtime.sessions() as session:
        member = session.get(User, user.id)
        assert member is not None
        address = sync_settings.effective_for(session, member).settings.bcc_address
    if not address:
        return BccCheck(
            CheckStatus.MISSING_ADDRESS,
            tr("There is no Email to Salesforce address to test yet."),
            code=ADDRESS_MISSING,
            steps=REP_STEPS,
        )
    subject = f"salesync BCC check {uuid.uuid4().hex[:8]}"
    email = OutgoingEmail(
        from_address=user.email,
        from_name=user.name,
        to=[address],
        subject=subject,
        body_text=_test_body(user.language),
    )
    try:
        mailer.send(email)
    except MailError as exc:
        return _failed_check(exc, address, user.email, subject)
    return _look_for_task(runtime, user, address, subject, http)


def _test_body(language: str | None) -> str:
    """The test message's text, in the rep's language (they see it on the logged Task)."""
    with use_language(language or "en"):
        return gettext(
            "salesync sent this to check that Salesforce logs your BCC emails. "
            "You can delete the Task it made."
        )


def _failed_check(exc: MailError, address: str, sender: str, subject: str) -> BccCheck:
    if isinstance(exc, MailRecipientsRefused) and exc.refused:
        code, text = next(iter(exc.refused.values()))
    elif isinstance(exc, MailRejected):
        code, text = exc.code, exc.text
    else:
        return BccCheck(
            CheckStatus.SEND_FAILED, exc.message, address, REFUSED_BY_SMTP, subject=subject
        )
    diagnostic = classify_refusal(text)
    return BccCheck(
        CheckStatus.REFUSED,
        _refusal_message(diagnostic, address, sender, code, text),
        address,
        diagnostic,
        code,
        text,
        subject=subject,
        steps=ADMIN_STEPS if diagnostic == NOT_ACTIVE else REP_STEPS,
    )


def _look_for_task(
    runtime: Runtime, user: User, address: str, subject: str, http: httpx.Client | None
) -> BccCheck:
    accepted = BccCheck(
        CheckStatus.ACCEPTED,
        tr(
            "The mail server took the test message, but it is not in Salesforce yet. "
            "Salesforce can take a few minutes: look for it in My Unresolved Items."
        ),
        address,
        subject=subject,
    )
    connection = _connection(runtime, user)
    if connection is None:
        return accepted
    query = (
        f"SELECT Id, WhoId FROM Task WHERE Subject = {soql.quote('Email: ' + subject)} "
        f"AND OwnerId = {soql.quote(connection.sf_user_id)}"
    )
    try:
        with open_client(runtime, connection, http=http) as client:
            found = next(iter(client.query(query)), None)
    except SalesforceError:
        return accepted
    if found is None:
        return accepted
    return dataclasses.replace(
        accepted,
        status=CheckStatus.LOGGED,
        message=tr("Salesforce logged the test message: BCC logging works."),
        task_id=str(found["Id"]),
    )
