"""Named org seeds: ``empty`` for tests and ``demo`` (with variants) for demos, deterministic."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from salesync.sandbox.objects import CustomFieldSpec
from salesync.sandbox.security import ObjectAccess, UserAccess
from salesync.sandbox.tokens import ConnectedApp

if TYPE_CHECKING:
    from salesync.sandbox.org import Org

DOMAIN = "sandbox.salesync.test"
PASSWORD = "sandbox"
ADMIN_USERNAME = f"admin@{DOMAIN}"

#: Salesforce's default TaskStatus and TaskPriority values (API-FACTS §1).
DEFAULT_TASK_STATUSES: list[dict[str, Any]] = [
    {"ApiName": "Not Started", "IsClosed": False, "IsDefault": True},
    {"ApiName": "In Progress", "IsClosed": False},
    {"ApiName": "Completed", "IsClosed": True},
    {"ApiName": "Waiting on someone else", "IsClosed": False},
    {"ApiName": "Deferred", "IsClosed": False},
]
DEFAULT_TASK_PRIORITIES: list[dict[str, Any]] = [
    {"ApiName": "High", "IsHighPriority": True},
    {"ApiName": "Normal", "IsDefault": True},
    {"ApiName": "Low"},
]

#: Task custom fields of msia-rules 1.10, plus salesync's idempotency key (DESIGN §3).
MSIA_TASK_FIELDS: list[CustomFieldSpec] = [
    CustomFieldSpec("Task", "mktosales_call_outcome__c", "text", 50, label="Call Outcomes"),
    CustomFieldSpec("Task", "mktosales_call_reason__c", "text", 50, label="Call Reasons"),
    CustomFieldSpec("Task", "MSE_Call_Local_Presence_ID__c", "text", 255),
    CustomFieldSpec("Task", "MSE_Call_Recording__c", "url"),
    CustomFieldSpec("Task", "MSE_Campaign__c", "text", 255),
    CustomFieldSpec("Task", "MSE_Current_Campaign_Step__c", "text", 255),
    CustomFieldSpec("Task", "MSE_Campaign_Details_Link__c", "url"),
    CustomFieldSpec("Task", "MSE_Presentation_Viewed__c", "checkbox"),
    CustomFieldSpec("Task", "MSE_Clicked__c", "checkbox"),
    CustomFieldSpec("Task", "MSE_Replied__c", "checkbox"),
    CustomFieldSpec("Task", "MSE_Email_Status__c", "text", 255),
    CustomFieldSpec("Task", "MSE_Template__c", "text", 255),
    CustomFieldSpec("Task", "MSE_Template_Details__c", "url"),
    CustomFieldSpec("Task", "MSE_Details__c", "url"),
    CustomFieldSpec("Task", "MSE_Viewed__c", "checkbox"),
]
#: salesync's default Most Recent Activity roll-up fields (spec 1.10b; docs/engagement.md).
ROLLUP_FIELDS: list[CustomFieldSpec] = [
    spec
    for sobject in ("Lead", "Contact", "Account", "Opportunity")
    for spec in (
        CustomFieldSpec(sobject, "Salesync_Last_Sales_Activity__c", "text", 255),
        CustomFieldSpec(sobject, "Salesync_Last_Sales_Activity_Date__c", "datetime"),
        CustomFieldSpec(sobject, "Salesync_Last_Sales_Engagement__c", "text", 255),
        CustomFieldSpec(sobject, "Salesync_Last_Sales_Engagement_Date__c", "datetime"),
        CustomFieldSpec(sobject, "Salesync_Last_Replied__c", "datetime"),
    )
]
ACTIVITY_ID_FIELD = CustomFieldSpec(
    "Task",
    "Salesync_Activity_Id__c",
    "text",
    255,
    external_id=True,
    unique=True,
    label="Salesync Activity ID",
)
DEMO_TASK_TYPES = ["Call", "Email", "Meeting", "Other", "Reply"]


def username(local: str) -> str:
    return f"{local}@{DOMAIN}"


def apply_seed(org: Org, name: str) -> None:
    """Apply the seed called ``name`` to a fresh org."""
    builder = SEEDS.get(name)
    if builder is None:
        raise ValueError(f"unknown seed {name!r}; choose from {sorted(SEEDS)}")
    with org.lock:
        builder(org)
        org.seed_name = name
        org.journal.clear()


def seed_empty(org: Org) -> None:
    """One admin user, the default TaskStatus/TaskPriority tables and the `salesync` app."""
    org.add_user(
        ADMIN_USERNAME,
        first_name="Ada",
        last_name="Admin",
        email="admin@salesync.test",
        access=UserAccess(password=PASSWORD),
    )
    org.set_picklist_table("TaskStatus", DEFAULT_TASK_STATUSES)
    org.set_picklist_table("TaskPriority", DEFAULT_TASK_PRIORITIES)
    org.tokens.apps["salesync"] = ConnectedApp(
        "salesync",
        "salesync-secret",
        name="salesync",
        allow_any_localhost=True,
        run_as_username=ADMIN_USERNAME,
    )


def seed_demo(
    org: Org, task_types: list[str] | None = None, type_default: str | None = None
) -> None:
    """A populated org: users with different permissions, CRM data and a few hundred tasks."""
    seed_empty(org)
    org.tokens.apps["salesync-rotating"] = ConnectedApp(
        "salesync-rotating",
        "salesync-rotating-secret",
        name="salesync (rotating)",
        allow_any_localhost=True,
        rotate_refresh_tokens=True,
    )
    org.set_task_types(task_types or DEMO_TASK_TYPES, type_default)
    for spec in [*MSIA_TASK_FIELDS, ACTIVITY_ID_FIELD, *ROLLUP_FIELDS]:
        org.add_custom_field(spec)
    _demo_users(org)
    DemoData(org).build()
    # Demo orgs show each user's Email-to-Salesforce address on the User record, so
    # salesync can fetch it (docs/bcc.md: real orgs need an admin-made field for that).
    org.e2s.settings.expose_address_field = True
    org.publish_e2s_addresses()


def _demo_access() -> dict[str, UserAccess]:
    """Permissions of the demo users beyond full access (msia-rules CONN-5, 1.13, FIELDS-3)."""
    task_fields = [spec.name for spec in MSIA_TASK_FIELDS]
    no_access = ObjectAccess(read=False, create=False, edit=False, delete=False)
    return {
        "noapi": UserAccess(password=PASSWORD, api_enabled=False),
        "nolead": UserAccess(password=PASSWORD, objects={"Lead": no_access}),
        "readonly": UserAccess(
            password=PASSWORD, fields={f"Task.{name}": "read" for name in task_fields}
        ),
        "hidden": UserAccess(
            password=PASSWORD, fields={f"Task.{name}": "hidden" for name in task_fields}
        ),
    }


#: (login name, first name, last name) of the demo users.
DEMO_USERS = [
    ("rep1", "Rep", "Number1"),
    ("rep2", "Rep", "Number2"),
    ("rep3", "Rep", "Number3"),
    ("noapi", "Nora", "Noapi"),
    ("nolead", "Ned", "Nolead"),
    ("readonly", "Rory", "Readonly"),
    ("hidden", "Hilda", "Hidden"),
    ("integration", "Integration", "User"),
    ("inactive", "Ina", "Inactive"),
]


def _demo_users(org: Org) -> None:
    special = _demo_access()
    for local, first, last in DEMO_USERS:
        org.add_user(
            username(local),
            first_name=first,
            last_name=last,
            email=f"{local}@salesync.test",
            active=local != "inactive",
            access=special.get(local, UserAccess(password=PASSWORD)),
        )


_FIRST = [
    "Alex",
    "Blair",
    "Casey",
    "Dana",
    "Eli",
    "Frankie",
    "Gray",
    "Harper",
    "Indy",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Taylor",
]
_LAST = [
    "Abbott",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibsen",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
]
_COMPANY_A = [
    "Acme",
    "Blue",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orbit",
    "Pioneer",
    "Quartz",
    "River",
    "Summit",
    "Tidal",
]
_COMPANY_B = [
    "Labs",
    "Systems",
    "Foods",
    "Logistics",
    "Health",
    "Media",
    "Energy",
    "Capital",
    "Works",
    "Networks",
]


class DemoData:
    """Builds the demo's CRM data with a fixed random seed, so every demo org is identical."""

    ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES, TASKS = 200, 1000, 500, 100, 300

    def __init__(self, org: Org) -> None:
        self.org = org
        self.rng = random.Random(20240501)
        self.now = org.clock.now()
        self.reps = [org.user_id(username(f"rep{n}")) for n in (1, 2, 3)]
        self.objects = org.schema.objects
        self.accounts: list[str] = []
        self.contacts: list[tuple[str, str | None, str]] = []  # (id, account id, email)
        self.leads: list[str] = []
        self.opportunities: list[str] = []

    def build(self) -> None:
        self._accounts()
        self._contacts()
        self._leads()
        self._opportunities()
        self._tasks()

    def _create(self, sobject: str, fields: dict[str, Any], owner: str | None = None) -> str:
        created = self.now - timedelta(days=self.rng.uniform(1, 60))
        dml = self.org.dml(owner or self.rng.choice(self.reps), mode="system", now=created)
        return dml.create(self.objects[sobject], fields)

    def _person(self, index: int) -> tuple[str, str]:
        return _FIRST[index % len(_FIRST)], _LAST[(index * 7) % len(_LAST)]

    def _accounts(self) -> None:
        for index in range(self.ACCOUNTS):
            name = f"{_COMPANY_A[index % 20]} {_COMPANY_B[(index // 20) % 10]} {index // 200 + 1}"
            self.accounts.append(
                self._create(
                    "Account",
                    {
                        "Name": name,
                        "Website": f"https://account{index}.example.com",
                        "Industry": self.rng.choice(
                            ["Technology", "Retail", "Finance", "Healthcare"]
                        ),
                    },
                )
            )

    def _contacts(self) -> None:
        for index in range(self.CONTACTS):
            first, last = self._person(index)
            # Every 50th contact reuses an earlier address: duplicates for matching rules.
            email = (
                self.contacts[index - 25][2]
                if index % 50 == 49
                else f"{first}.{last}.{index}@customer{index % 97}.example.com".lower()
            )
            account = self.accounts[index % self.ACCOUNTS] if index % 20 else None
            contact_id = self._create(
                "Contact",
                {
                    "FirstName": first,
                    "LastName": last,
                    "Email": email,
                    "AccountId": account,
                    "Title": self.rng.choice(["CEO", "CTO", "VP Sales", "Buyer", "Engineer"]),
                },
            )
            self.contacts.append((contact_id, account, email))

    def _leads(self) -> None:
        for index in range(self.LEADS):
            first, last = self._person(index + 3)
            # Every 20th lead shares its address with a contact (Contact wins, DESIGN §3).
            email = (
                self.contacts[index * 2][2]
                if index % 20 == 0
                else f"{first}.{last}.lead{index}@prospect{index % 53}.example.com".lower()
            )
            lead_id = self._create(
                "Lead",
                {
                    "FirstName": first,
                    "LastName": last,
                    "Email": email,
                    "Company": f"{_COMPANY_A[index % 20]} Prospect {index}",
                },
            )
            if index % 10 == 5:
                self._mark_converted(lead_id, index)
            else:
                self.leads.append(lead_id)

    def _mark_converted(self, lead_id: str, index: int) -> None:
        contact_id, account_id, _ = self.contacts[(index * 3) % self.CONTACTS]
        dml = self.org.dml(mode="system", now=self.now - timedelta(days=1))
        dml.update(
            self.objects["Lead"],
            lead_id,
            {
                "IsConverted": True,
                "ConvertedContactId": contact_id,
                "ConvertedAccountId": account_id,
                "Status": "Closed - Converted",
                "ConvertedDate": dml.now.date().isoformat(),
            },
        )

    def _opportunities(self) -> None:
        stages = [
            "Prospecting",
            "Qualification",
            "Proposal/Price Quote",
            "Closed Won",
            "Closed Lost",
        ]
        for index in range(self.OPPORTUNITIES):
            account = self.accounts[(index * 2) % self.ACCOUNTS]
            opportunity_id = self._create(
                "Opportunity",
                {
                    "Name": f"Deal {index + 1}",
                    "AccountId": account,
                    "StageName": stages[index % len(stages)],
                    "Amount": 1000.0 * (index + 1),
                    "CloseDate": (self.now + timedelta(days=index % 90)).date().isoformat(),
                },
            )
            self.opportunities.append(opportunity_id)
            members = [c for c in self.contacts if c[1] == account][: 1 + index % 3]
            for position, (contact_id, _, _) in enumerate(members):
                self._create(
                    "OpportunityContactRole",
                    {
                        "OpportunityId": opportunity_id,
                        "ContactId": contact_id,
                        "Role": "Decision Maker" if position == 0 else "Influencer",
                        "IsPrimary": position == 0,
                    },
                )

    def _tasks(self) -> None:
        makers: list[Callable[[int], dict[str, Any]]] = [self._reminder, self._email, self._call]
        for index in range(self.TASKS):
            self._create("Task", makers[index % 3](index), owner=self.reps[index % 3])

    def _who_what(self, index: int) -> dict[str, Any]:
        if index % 4 == 0:
            return {"WhoId": self.leads[index % len(self.leads)]}
        contact_id, account_id, _ = self.contacts[(index * 7) % self.CONTACTS]
        return {"WhoId": contact_id, "WhatId": account_id}

    def _reminder(self, index: int) -> dict[str, Any]:
        due = (self.now + timedelta(days=index % 10 - 3)).date().isoformat()
        return {
            "Subject": f"Follow up #{index}",
            "TaskSubtype": "Task",
            "ActivityDate": due,
            "Status": self.rng.choice(["Not Started", "In Progress", "Completed"]),
            "Priority": self.rng.choice(["High", "Normal", "Low"]),
            **self._who_what(index),
        }

    def _email(self, index: int) -> dict[str, Any]:
        return {
            "Subject": f"Email: Intro #{index}",
            "TaskSubtype": "Email",
            "Type": "Email",
            "Status": "Completed",
            "Description": "Hello,\nquick intro.",
            "ActivityDate": (self.now - timedelta(days=index % 20)).date().isoformat(),
            **self._who_what(index),
        }

    def _call(self, index: int) -> dict[str, Any]:
        return {
            "Subject": f"Call #{index}",
            "TaskSubtype": "Call",
            "Type": "Call",
            "Status": "Completed",
            "CallType": "Outbound",
            "CallDurationInSeconds": 60 + index,
            **self._who_what(index),
        }


SEEDS: dict[str, Callable[[Org], None]] = {
    "empty": seed_empty,
    "demo": seed_demo,
    "demo-no-reply": lambda org: seed_demo(org, ["Call", "Email", "Meeting", "Other"]),
    "demo-type-default": lambda org: seed_demo(org, DEMO_TASK_TYPES, "Other"),
}
