"""The Email to Salesforce (BCC) tab through the JSON API: status, activate, deactivate, check."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from salesync.domain.settings import LoggingMode
from salesync.services import bcc
from salesync.services.mail_accounts import mailer_for
from salesync.web.deps import CurrentUser, RuntimeDep
from salesync.web.schemas import BoundedInput, Line

router = APIRouter(tags=["bcc"])


class BccStatusPublic(BaseModel):
    active: bool
    logging_mode: str
    address: str | None
    #: ``salesforce`` (read from the org) or ``entered`` (typed in by the rep).
    source: str | None
    salesforce_address: str | None
    force_mode: str | None
    locked_by: str | None
    can_activate: bool
    can_deactivate: bool
    #: Set-up steps in Salesforce, while no address is known (BCC-2).
    steps: list[str]
    admin_steps: list[str]

    @classmethod
    def of(cls, state: bcc.BccStatus) -> BccStatusPublic:
        return cls(
            active=state.active,
            logging_mode=state.logging_mode.value,
            address=state.address,
            source=state.source.value if state.source else None,
            salesforce_address=state.salesforce_address,
            force_mode=state.force_mode.value if state.force_mode else None,
            locked_by=state.locked_by,
            can_activate=state.can_activate,
            can_deactivate=state.can_deactivate,
            steps=list(state.steps),
            admin_steps=list(state.admin_steps),
        )


class ActivateBody(BoundedInput):
    #: Leave out to use the address Salesforce exposes.
    address: Annotated[Line, Field(max_length=254)] | None = None


class DeactivateBody(BoundedInput):
    #: What logs emails afterwards.
    fallback: Literal["api", "off"] = "api"


class BccCheckPublic(BaseModel):
    #: logged | accepted | refused | missing_address | send_failed
    status: str
    message: str
    address: str | None
    #: The Diagnostics code of a failure (cause and fix on the Diagnostics page).
    code: str | None
    smtp_code: int | None
    smtp_text: str
    task_id: str | None
    subject: str
    steps: list[str]


@router.get("/bcc", response_model=BccStatusPublic)
def read_bcc(runtime: RuntimeDep, user: CurrentUser) -> BccStatusPublic:
    """The tab: whether BCC logging is on, the address and where it came from."""
    return BccStatusPublic.of(bcc.status(runtime, user))


@router.post("/bcc/activate", response_model=BccStatusPublic)
def activate_bcc(runtime: RuntimeDep, user: CurrentUser, body: ActivateBody) -> BccStatusPublic:
    """Activate BCC logging (API logging stops for you); 422 with the steps when no
    address is known, or when your admin's override or lock refuses it."""
    return BccStatusPublic.of(bcc.activate(runtime, user, body.address))


@router.post("/bcc/deactivate", response_model=BccStatusPublic)
def deactivate_bcc(runtime: RuntimeDep, user: CurrentUser, body: DeactivateBody) -> BccStatusPublic:
    """Deactivate BCC logging: back to API logging (or off); the address is kept."""
    return BccStatusPublic.of(bcc.deactivate(runtime, user, fallback=LoggingMode(body.fallback)))


@router.post("/bcc/test", response_model=BccCheckPublic)
def test_bcc(runtime: RuntimeDep, user: CurrentUser) -> BccCheckPublic:
    """Send a test message to your address through your SMTP server and report the result."""
    result = bcc.send_test(runtime, user, mailer_for(runtime, user))
    return BccCheckPublic(
        status=result.status.value,
        message=result.message,
        address=result.address,
        code=result.code,
        smtp_code=result.smtp_code,
        smtp_text=result.smtp_text,
        task_id=result.task_id,
        subject=result.subject,
        steps=list(result.steps),
    )
