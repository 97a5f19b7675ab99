"""Email-to-Salesforce state of an org: the org's switches and each user's address and senders.

Salesforce gives every user a generated address and a list of "My Acceptable Email
Addresses"; the admin switches the feature on for the org (API-FACTS §4, msia-rules BCC-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Where the sandbox's Email-to-Salesforce addresses live: ``<org-host>.<E2S_DOMAIN>``.
E2S_DOMAIN = "sandbox.salesync.test"
#: Local part of every address; the user's id follows the ``+``.
E2S_LOCAL_PART = "emailtosalesforce"

#: Several leads/contacts match one address: log to all, the oldest, or the most active
#: (API-FACTS §4 "Several matching leads/contacts").
MatchMode = Literal["all", "oldest", "most_activity"]
MATCH_MODES: tuple[MatchMode, ...] = ("all", "oldest", "most_activity")


@dataclass
class E2sSettings:
    """The org-wide Email to Salesforce setup (Setup > Email Administration > Email to
    Salesforce)."""

    #: The admin's "Active" box; off means every address is refused.
    active: bool = True
    match_mode: MatchMode = "all"
    #: Also log on every open opportunity where a matched contact has a contact role.
    log_to_opportunities: bool = True
    #: "If no matching records are found, create a task and send it to My Unresolved Items".
    create_unresolved_tasks: bool = True
    #: The Task Type picklist's "Send Email Default"; None: "Email" when the picklist has it.
    send_email_default_type: str | None = None
    #: Keep each user's address in the User field ``E2S_ADDRESS_FIELD`` (how salesync can
    #: fetch it; real orgs have no such field unless an admin adds one).
    expose_address_field: bool = False


@dataclass
class E2sUser:
    """One user's "My Email to Salesforce" page."""

    user_id: str
    #: The generated address, fixed for the life of the org.
    address: str
    #: The user's own "Active" switch.
    active: bool = True
    #: "My Acceptable Email Addresses": only mail from these senders is processed.
    acceptable_senders: list[str] = field(default_factory=list)

    def accepts_sender(self, sender: str) -> bool:
        lowered = sender.strip().lower()
        return any(lowered == allowed.lower() for allowed in self.acceptable_senders)


@dataclass
class EmailToSalesforce:
    """The org's settings and its users' addresses, looked up by user id or by address."""

    org_host: str
    settings: E2sSettings = field(default_factory=E2sSettings)
    users: dict[str, E2sUser] = field(default_factory=dict)

    @classmethod
    def for_org(cls, org_id: str) -> EmailToSalesforce:
        return cls(org_host=f"org-{org_id.lower()}")

    @property
    def domain(self) -> str:
        return f"{self.org_host}.{E2S_DOMAIN}"

    def address_for(self, user_id: str) -> str:
        """The deterministic address of ``user_id``."""
        return f"{E2S_LOCAL_PART}+{user_id.lower()}@{self.domain}"

    def enrol(self, user_id: str, email: str) -> E2sUser:
        """Give a new user an address; their own email is the one acceptable sender."""
        entry = E2sUser(user_id, self.address_for(user_id), acceptable_senders=[email])
        self.users[user_id] = entry
        return entry

    def user(self, user_id: str) -> E2sUser:
        """The user's state; KeyError for an unknown user."""
        return self.users[user_id]

    def by_address(self, address: str) -> E2sUser | None:
        lowered = address.strip().lower()
        return next((u for u in self.users.values() if u.address.lower() == lowered), None)

    def owns(self, address: str) -> bool:
        """Whether ``address`` is in this org's Email-to-Salesforce domain."""
        return address.rsplit("@", 1)[-1].strip().lower() == self.domain
