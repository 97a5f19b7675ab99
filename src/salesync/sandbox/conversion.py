"""Lead conversion: a Contact and Account (optionally an Opportunity) replace the Lead."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from salesync.sandbox.errors import ApiError

if TYPE_CHECKING:
    from salesync.sandbox.org import Org


def convert_lead(org: Org, lead_id: str, create_opportunity: bool) -> dict[str, str]:
    """Convert ``lead_id`` and move its open activities to the new contact.

    Moving the tasks changes their WhoId and SystemModstamp, as a real conversion does
    (API-FACTS "Polymorphic Who/What").
    """
    lead = org.records.get(lead_id)
    if lead is None or org.records.sobject_of(lead_id) != "Lead" or lead["IsDeleted"]:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if lead["IsConverted"]:
        raise ApiError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
    dml = org.dml(str(lead["OwnerId"]), mode="system")
    schema = org.schema.objects
    account_id = dml.create(schema["Account"], {"Name": lead["Company"]})
    contact_id = dml.create(
        schema["Contact"],
        {
            "FirstName": lead["FirstName"],
            "LastName": lead["LastName"],
            "Email": lead["Email"],
            "Phone": lead["Phone"],
            "Title": lead["Title"],
            "AccountId": account_id,
        },
    )
    result = {"accountId": account_id, "contactId": contact_id}
    lead_update = {
        "IsConverted": True,
        "ConvertedContactId": contact_id,
        "ConvertedAccountId": account_id,
        "ConvertedDate": dml.now.date(),
        "Status": "Closed - Converted",
    }
    if create_opportunity:
        opportunity_id = dml.create(
            schema["Opportunity"],
            {
                "Name": f"{lead['Company']}-",
                "StageName": "Prospecting",
                "CloseDate": (dml.now + timedelta(days=30)).date().isoformat(),
                "AccountId": account_id,
            },
        )
        lead_update["ConvertedOpportunityId"] = opportunity_id
        result["opportunityId"] = opportunity_id
    dml.update(schema["Lead"], lead_id, {k: _raw(v) for k, v in lead_update.items()})
    for task in [t for t in org.records.rows("Task") if t["WhoId"] == lead_id]:
        if not task["IsDeleted"]:
            dml.update(schema["Task"], task["Id"], {"WhoId": contact_id})
    return result


def _raw(value: object) -> object:
    """Values go through the same coercion as request bodies, so dates travel as text."""
    return value.isoformat() if hasattr(value, "isoformat") else value
