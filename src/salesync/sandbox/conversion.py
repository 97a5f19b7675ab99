"""Lead conversion: a Contact and Account (optionally an Opportunity) replace the Lead."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from salesync.sandbox.errors import ApiError
from salesync.sandbox.records import Record

if TYPE_CHECKING:
    from salesync.sandbox.dml import Dml
    from salesync.sandbox.org import Org


def convert_lead(org: Org, lead_id: str, create_opportunity: bool) -> dict[str, str]:
    """Convert ``lead_id`` and move its activities to the new contact.

    Moving the tasks changes their WhoId and SystemModstamp, as a real conversion does
    (API-FACTS "Polymorphic Who/What").
    """
    lead = _convertible_lead(org, lead_id)
    dml = org.dml(str(lead["OwnerId"]), mode="system")
    result = _create_targets(dml, lead, create_opportunity)
    dml.update(
        org.schema.objects["Lead"],
        lead_id,
        {
            "IsConverted": True,
            "ConvertedContactId": result["contactId"],
            "ConvertedAccountId": result["accountId"],
            "ConvertedOpportunityId": result.get("opportunityId"),
            "ConvertedDate": dml.now.date().isoformat(),
            "Status": "Closed - Converted",
        },
    )
    task = org.schema.objects["Task"]
    for row in [t for t in org.records.rows("Task") if t["WhoId"] == lead_id]:
        if not row["IsDeleted"]:
            dml.update(task, row["Id"], {"WhoId": result["contactId"]})
    return result


def _convertible_lead(org: Org, lead_id: str) -> Record:
    lead = org.records.get(lead_id)
    if lead is None or org.records.sobject_of(lead_id) != "Lead" or lead["IsDeleted"]:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if lead["IsConverted"]:
        raise ApiError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
    return lead


def _create_targets(dml: Dml, lead: Record, create_opportunity: bool) -> dict[str, str]:
    """The Account, Contact and (optionally) Opportunity that replace the lead."""
    objects = dml.org.schema.objects
    account_id = dml.create(objects["Account"], {"Name": lead["Company"]})
    person = {k: lead[k] for k in ("FirstName", "LastName", "Email", "Phone", "Title")}
    contact_id = dml.create(objects["Contact"], {**person, "AccountId": account_id})
    result = {"accountId": account_id, "contactId": contact_id}
    if create_opportunity:
        close = (dml.now + timedelta(days=30)).date().isoformat()
        result["opportunityId"] = dml.create(
            objects["Opportunity"],
            {
                "Name": f"{lead['Company']}-",
                "StageName": "Prospecting",
                "CloseDate": close,
                "AccountId": account_id,
            },
        )
    return result
