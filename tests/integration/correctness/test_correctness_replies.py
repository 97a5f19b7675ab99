"""A reply logs as "Reply: <subject of the email sent>", from the prospect to the rep."""

from __future__ import annotations

import pytest

from salesync.runtime import Runtime
from salesync.services import activities
from salesync.store.tables import User
from tests.fixtures_sandbox import Sandbox, add_user, connect
from tests.integration.logging.test_logging_api import contact, drain, send, tasks_for


@pytest.fixture
def rep(runtime: Runtime, sandbox: Sandbox) -> User:
    user = add_user(runtime, "rep1@salesync.test")
    connect(runtime, sandbox, user, "rep1")
    return user


@pytest.mark.parametrize("reply_subject", ["Re: Intro", "AW: RE: Intro", "回复: Intro", "Okay"])
def test_a_reply_logs_with_the_sent_subject_and_who_wrote_to_whom(
    runtime: Runtime, sandbox: Sandbox, rep: User, reply_subject: str
) -> None:
    target = contact(sandbox, 2)
    email_id = send(runtime, rep, [str(target["Email"])], subject="Intro")
    with runtime.sessions() as session:
        sent = activities.get_email(session, rep, email_id)
        message_id, rep_address = sent.message_id, sent.from_address
    activities.record_reply(
        runtime,
        rep,
        activities.InboundReply(
            from_address=str(target["Email"]),
            subject=reply_subject,
            body_text="Sounds good.",
            in_reply_to=message_id,
            message_id="<reply-1@customer.example>",
            received_at=runtime.clock.now(),
        ),
    )
    drain(runtime)
    by_subject = {t["Subject"]: t for t in tasks_for(sandbox, target["Id"])}
    assert set(by_subject) == {"Email: Intro", "Reply: Intro"}
    description = by_subject["Reply: Intro"]["Description"]
    assert f"From: {target['Email']}" in description
    assert f"To: {rep_address}" in description
    assert description.rstrip().endswith("Sounds good.")
