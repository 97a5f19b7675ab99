"""Lookups Salesforce refused because the rep may not read an object, named as such.

A rep without Read on Leads (object permission) gets every Lead query refused. Treating that
as "no record matches" would hide the cause and, with the "create lead" rule, even create
Leads the rep cannot see. Instead the activity is kept as an access problem that names the
object and the fix, and is logged when retried after the fix.
"""

from __future__ import annotations

import dataclasses

from salesync.domain.categories import ErrorCategory
from salesync.domain.wording import Translatable, tr

#: Our Diagnostics code per object whose read access is missing.
ACCESS_CODES = {
    "Lead": "LEAD_ACCESS_REFUSED",
    "Contact": "CONTACT_ACCESS_REFUSED",
    "Opportunity": "OPPORTUNITY_ACCESS_REFUSED",
    "OpportunityContactRole": "OPPORTUNITY_ACCESS_REFUSED",
}

_PLURAL = {
    "Lead": "Leads",
    "Contact": "Contacts",
    "Opportunity": "Opportunities",
    "OpportunityContactRole": "Opportunity Contact Roles",
}

_SWITCH = {
    "Lead": "turn off 'Log to Leads'",
    "Contact": "turn off 'Log to Contacts'",
    "Opportunity": "set Opportunities to 'off'",
    "OpportunityContactRole": "set Opportunities to 'off'",
}


@dataclasses.dataclass(frozen=True)
class AccessRefused:
    """Not logged: the rep may not read ``sobject``; kept until the access is fixed."""

    sobject: str
    code: str
    reason_text: str
    fix: str
    category: ErrorCategory = ErrorCategory.ACCESS_VALIDATION


def access_refused(sobject: str, salesforce_reason: str = "") -> AccessRefused:
    """The access problem for ``sobject`` with Salesforce's own words, if any, appended."""
    plural = _PLURAL.get(sobject, sobject)
    text = _refused_text(sobject, plural, salesforce_reason)
    switch = _SWITCH.get(sobject, "turn off logging to it")
    read_on = "Opportunities" if sobject == "OpportunityContactRole" else plural
    fix = (
        f"Ask your Salesforce admin to grant Read on {read_on} to your profile or a "
        f"permission set (and sharing for the records), or {switch} in Sync Settings. "
        "Then Retry: the activity is kept and logged then."
    )
    return AccessRefused(sobject, ACCESS_CODES.get(sobject, "OBJECT_ACCESS_REFUSED"), text, fix)


def _refused_text(sobject: str, plural: str, reason: str) -> Translatable:
    """The whole sentence for each object, with or without Salesforce's own words."""
    if sobject == "Lead":
        if reason:
            return tr(
                "Salesforce does not let you read Leads, so this activity could not be matched. "
                "Salesforce said: {reason}",
                reason=reason,
            )
        return tr("Salesforce does not let you read Leads, so this activity could not be matched.")
    if sobject == "Contact":
        if reason:
            return tr(
                "Salesforce does not let you read Contacts, so this activity could not be "
                "matched. Salesforce said: {reason}",
                reason=reason,
            )
        return tr(
            "Salesforce does not let you read Contacts, so this activity could not be matched."
        )
    if sobject in ("Opportunity", "OpportunityContactRole"):
        if reason:
            return tr(
                "Salesforce does not let you read {objects}, so the opportunities of this "
                "contact could not be found. Salesforce said: {reason}",
                objects=plural,
                reason=reason,
            )
        return tr(
            "Salesforce does not let you read {objects}, so the opportunities of this "
            "contact could not be found.",
            objects=plural,
        )
    if reason:
        return tr(
            "Salesforce does not let you read {objects}, so this activity could not be matched. "
            "Salesforce said: {reason}",
            objects=plural,
            reason=reason,
        )
    return tr(
        "Salesforce does not let you read {objects}, so this activity could not be matched.",
        objects=plural,
    )
