"""The demo's mailboxes: where Dovecot is installed, each demo rep gets one, with mail waiting.

Each rep's Sent folder holds two emails to people of the team, written as if from another mail
client; the Inbox holds a colleague's reply to the first and a bounce (RFC 3464) of the second.
The worker's mailbox sync logs all four within its first rounds. Without Dovecot the demo runs
as before: nothing here is required.
"""

from __future__ import annotations

import atexit
import email.utils
import logging
import secrets
import shutil
import tempfile
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from salesync.mailbox import local_dovecot
from salesync.runtime import Runtime
from salesync.services import mailbox_accounts
from salesync.store.tables import Person, Role, User

log = logging.getLogger(__name__)


def start_demo_mailboxes(runtime: Runtime) -> local_dovecot.Dovecot | None:
    """Start a local Dovecot and connect every demo rep to a mailbox in it; None without it."""
    if not local_dovecot.installed():
        return None
    # Under /tmp, not the data folder: Dovecot's own users must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="salesync-demo-mail-"))
    try:
        server = local_dovecot.make_dovecot(root)
        server.start()
    except (OSError, RuntimeError) as exc:
        log.warning("demo mailboxes not started: %s", exc, extra={"action": "demo_mail_failed"})
        shutil.rmtree(root, ignore_errors=True)
        return None
    atexit.register(_stop, server, root)
    with runtime.sessions() as session:
        reps = list(session.scalars(select(User).where(User.role == Role.REP).order_by(User.id)))
        people = list(
            session.scalars(select(Person).where(Person.email.is_not(None)).order_by(Person.id))
        )
        session.expunge_all()
    admin = next(iter(_admins(runtime)), None)
    if admin is not None:
        # The demo's Dovecot is the team's server, set by the admin: reps give only their login.
        mailbox_accounts.save_team_settings(
            runtime,
            admin,
            mailbox_accounts.TeamMailboxInput(
                host="127.0.0.1",
                port=server.imap_port,
                security="plain",
                allow_custom_servers=True,
                internal_domains=(),
                blocked_domains=(),
                log_anyone=False,
            ),
        )
    passwords = {rep.email: secrets.token_urlsafe(12) for rep in reps}
    for address, password in passwords.items():
        server.add_user(address, password)  # all before the first login reads the file
    for index, rep in enumerate(reps):
        password = passwords[rep.email]
        mailbox_accounts.save_mailbox(
            runtime,
            rep,
            mailbox_accounts.MailboxInput(
                username=rep.email,
                password=password,
                host=None if admin is not None else "127.0.0.1",
                port=None if admin is not None else server.imap_port,
                security=None if admin is not None else "plain",
            ),
        )
        pair = people[index * 2 : index * 2 + 2]
        if len(pair) == 2:
            _fill(server, rep, [str(p.email) for p in pair])
    return server


def _fill(server: local_dovecot.Dovecot, rep: User, to: list[str]) -> None:
    domain = rep.email.rsplit("@", 1)[1]
    first_id, second_id = (email.utils.make_msgid(domain=domain) for _ in range(2))
    server.deliver(rep.email, "Sent", _mail(rep.email, to[0], "Quick question", first_id))
    server.deliver(rep.email, "Sent", _mail(rep.email, to[1], "Following up", second_id))
    colleague = "colleague@" + to[0].rsplit("@", 1)[1]
    reply = _mail(colleague, rep.email, "Re: Quick question", None, in_reply_to=first_id)
    server.deliver(rep.email, "INBOX", reply)
    server.deliver(rep.email, "INBOX", _bounce(rep.email, to[1], second_id))


def _mail(
    sender: str, to: str, subject: str, message_id: str | None, *, in_reply_to: str | None = None
) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = message_id or email.utils.make_msgid(domain=to.rsplit("@", 1)[1])
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
        message.set_content("Thanks for reaching out: Pat is away, I can help. Call me Tuesday?")
    else:
        message.set_content(f"Hello,\n\n{subject}: do you have ten minutes this week?\n")
    return message.as_bytes()


def _bounce(rep: str, recipient: str, original_id: str) -> bytes:
    """A delivery status notification (RFC 3464) as a mail server writes one."""
    boundary = "salesync-demo-report"
    return (
        "From: MAILER-DAEMON@mx.demo.example (Mail Delivery System)\r\n"
        f"To: {rep}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: {email.utils.make_msgid(domain='mx.demo.example')}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered to one or more recipients.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.demo.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nTo: {recipient}\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def _stop(server: local_dovecot.Dovecot, root: Path) -> None:
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _admins(runtime: Runtime) -> list[User]:
    with runtime.sessions() as session:
        admins = list(
            session.scalars(select(User).where(User.role == Role.ADMIN).order_by(User.id))
        )
        session.expunge_all()
        return admins
