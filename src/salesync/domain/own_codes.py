"""Diagnostics texts for reasons salesync itself detects (not Salesforce error codes).

Salesforce's own codes live in :mod:`salesync.domain.error_catalog`; these are the reasons
an activity waits or is skipped before Salesforce is asked (matching, connection, budget).
"""

from __future__ import annotations

from dataclasses import dataclass

from salesync.domain.wording import tr


@dataclass(frozen=True)
class OwnCode:
    code: str
    #: Diagnostics group: "unmatched", "authentication", "setup", "access_validation" or
    #: "intermittent".
    category: str
    cause: str
    fix: str


_CODES = (
    OwnCode(
        "TASK_CDC_OFF",
        "setup",
        tr(
            "Change Data Capture is not enabled for Task in this Salesforce org, so salesync "
            "reads Task changes by polling instead of in real time."
        ),
        tr(
            "In Salesforce Setup, open Change Data Capture and move Task to Selected Entities; "
            "salesync switches to real time within minutes."
        ),
    ),
    OwnCode(
        "NO_SALESFORCE_ID",
        "unmatched",
        tr("Calls are logged by Salesforce ID only (MATCH-2) and this person has none."),
        tr(
            "Add the Lead or Contact ID to the person (People, or CSV import); the call is "
            "logged as soon as it is there."
        ),
    ),
    OwnCode(
        "NO_MATCHING_RECORD",
        "unmatched",
        tr(
            "No Lead or Contact in Salesforce has this email address, and your no-match rule "
            "is 'skip'."
        ),
        tr(
            "Create the Lead or Contact in Salesforce or add its ID to the person; or choose "
            "'create lead' or 'log unassigned' in Sync Settings. Then Retry."
        ),
    ),
    OwnCode(
        "NO_EMAIL_ADDRESS",
        "unmatched",
        tr("The person has no email address to look up."),
        tr("Add the email address or a Salesforce ID to the person."),
    ),
    OwnCode(
        "LEADS_DISABLED",
        "unmatched",
        tr("Only a Lead matches, and logging to Leads is off in your Sync Settings."),
        tr("Turn on 'Log to Leads' or convert the Lead, then Retry."),
    ),
    OwnCode(
        "CONTACTS_DISABLED",
        "unmatched",
        tr("Only a Contact matches, and logging to Contacts is off in your Sync Settings."),
        tr("Turn on 'Log to Contacts', then Retry."),
    ),
    OwnCode(
        "CONVERTED_LEAD_WITHOUT_CONTACT",
        "unmatched",
        tr("The Lead was converted but Salesforce names no converted Contact (MATCH-10)."),
        tr("Link the person to the Contact the Lead became, then Retry."),
    ),
    OwnCode(
        "LEAD_NOT_CREATED",
        "access_validation",
        tr(
            "Your no-match rule creates a Lead, and Salesforce refused it: a required field, a "
            "validation rule, a duplicate rule or your Lead create permission. Salesforce's code "
            "and message are shown with the activity."
        ),
        tr(
            "Fix what Salesforce names (your admin knows the rule or field), or create the Lead in "
            "Salesforce and put its id on the person. Then Retry."
        ),
    ),
    OwnCode(
        "LEAD_ACCESS_REFUSED",
        "access_validation",
        tr(
            "Salesforce does not let you read Leads (object permission or sharing), so an address "
            "could not be looked up among Leads."
        ),
        tr(
            "Ask your Salesforce admin to grant Read on Leads, or turn off 'Log to Leads' in Sync "
            "Settings. Then Retry: the activity is kept and logged then."
        ),
    ),
    OwnCode(
        "CONTACT_ACCESS_REFUSED",
        "access_validation",
        tr(
            "Salesforce does not let you read Contacts (object permission or sharing), so an "
            "address could not be looked up among Contacts."
        ),
        tr(
            "Ask your Salesforce admin to grant Read on Contacts, or turn off 'Log to Contacts' "
            "in Sync Settings. Then Retry: the activity is kept and logged then."
        ),
    ),
    OwnCode(
        "OPPORTUNITY_ACCESS_REFUSED",
        "access_validation",
        tr(
            "Salesforce does not let you read Opportunities or their contact roles "
            "(OpportunityContactRole), so a contact's open opportunities could not be found."
        ),
        tr(
            "Ask your Salesforce admin to grant Read on Opportunities, or set Opportunities to "
            "'off' in Sync Settings. Then Retry: the activity is kept and logged then."
        ),
    ),
    OwnCode(
        "STALE_SALESFORCE_ID",
        "access_validation",
        tr(
            "The Lead or Contact id stored on the person no longer exists in Salesforce: the "
            "record was deleted, or merged into another one. Calls are logged by id only "
            "(MATCH-2); emails fall back to the email address by themselves (MATCH-1)."
        ),
        tr(
            "Find the surviving record in Salesforce (after a merge, the one kept) and put its id "
            "on the person in People (or by CSV import), or clear the id. Then Retry."
        ),
    ),
    OwnCode(
        "NOT_CONNECTED",
        "authentication",
        tr("Your Salesforce account is not connected, so nothing can be logged (CONN-3)."),
        tr(
            "Settings > My Account > Salesforce > Connections > Connect. Waiting items are "
            "logged right after."
        ),
    ),
    OwnCode(
        "CONNECTION_BROKEN",
        "authentication",
        tr(
            "Salesforce no longer accepts the stored sign-in (expired, revoked, inactive user "
            "or org, IP restriction) (CONN-10)."
        ),
        tr("Reconnect Salesforce; everything queued meanwhile is logged then."),
    ),
    OwnCode(
        "TASK_FIELDS_SKIPPED",
        "setup",
        tr(
            "Task fields salesync writes are missing in your org or not editable for you "
            "(FIELDS-2/3). Tasks are logged without them."
        ),
        tr(
            "Create the Activity custom fields with the exact API names and give reps edit "
            "access (field-level security), then Retry to rediscover the org."
        ),
    ),
    OwnCode(
        "API_BUDGET",
        "intermittent",
        tr("salesync reached the share of the org's daily API calls your admin allows."),
        tr(
            "Nothing is dropped: work resumes as the 24-hour window frees calls, or an admin "
            "raises the share in Sync Settings."
        ),
    ),
    OwnCode(
        "USER_GONE",
        "other",
        tr("The user of this activity was deleted."),
        tr("Nothing to do; the activity cannot be logged for a deleted user."),
    ),
    OwnCode(
        "INTERNAL_ERROR",
        "intermittent",
        tr("salesync hit an internal error."),
        tr("It is retried automatically; report it if it persists."),
    ),
    OwnCode(
        "BCC_ADDRESS_MISSING",
        "setup",
        tr(
            "BCC logging is on, but salesync has no Email to Salesforce address for you, so the "
            "email went out without the BCC and was not logged (BCC-2)."
        ),
        tr(
            "In Salesforce: My Settings > Email > My Email to Salesforce; copy the Email to "
            "Salesforce Address into Sync Settings > Email to Salesforce (BCC). No such page? A "
            "Salesforce admin turns it on: Setup > Email Administration > Email to Salesforce > "
            "Edit > Active > Save."
        ),
    ),
    OwnCode(
        "BCC_REFUSED_BY_SMTP",
        "setup",
        tr(
            "The mail server refused your Email to Salesforce address, so this email was sent "
            "to your recipients but not logged."
        ),
        tr(
            "Check the address in Sync Settings > Email to Salesforce (BCC) against My Settings > "
            "Email > My Email to Salesforce in Salesforce, then send a test message from that tab."
        ),
    ),
    OwnCode(
        "BCC_SENDER_NOT_ACCEPTED",
        "setup",
        tr(
            "Salesforce takes BCC email only from your acceptable email addresses, and the "
            "address salesync sends from is not one of them (BCC-2)."
        ),
        tr(
            "In Salesforce: My Settings > Email > My Email to Salesforce > My Acceptable Email "
            "Addresses: add the address you send from in salesync, Save Changes, then send a test "
            "message from the Email to Salesforce (BCC) tab."
        ),
    ),
    OwnCode(
        "BCC_NOT_ACTIVE",
        "setup",
        tr(
            "Email to Salesforce is not active for you, or not for your org, so the BCC was "
            "refused (TROUBLE-13)."
        ),
        tr(
            "You: My Settings > Email > My Email to Salesforce > Active. Your Salesforce admin: "
            "Setup > Email Administration > Email to Salesforce > Edit > Active > Save."
        ),
    ),
    OwnCode(
        "ENGAGEMENT_FIELDS_SKIPPED",
        "setup",
        tr(
            "Engagement or Most Recent Activity fields salesync writes are missing in your org or "
            "not editable for you (FIELDS-2/3, API-9). Everything else is written without them."
        ),
        tr(
            "Create the fields with the API names of Admin Settings > Engagement (or map yours "
            "there) and give reps edit access (field-level security)."
        ),
    ),
    OwnCode(
        "OPT_OUT_NO_SALESFORCE_ID",
        "unmatched",
        tr(
            "An unsubscribe can reach Salesforce only for a person with a Lead or Contact ID "
            "(UNSUB-1); this one stays in salesync only."
        ),
        tr(
            "Add the Lead or Contact ID to the person (People, or CSV import); the person is still "
            "never emailed by salesync."
        ),
    ),
)
_BY_CODE = {entry.code: entry for entry in _CODES}


def own_code(code: str) -> OwnCode | None:
    return _BY_CODE.get(code.upper())
