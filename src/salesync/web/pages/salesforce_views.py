"""What the Salesforce settings pages show: option labels and choices, and per-option views."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from salesync.domain.settings import LoggingMode, SettingOrigin, TeamPolicy
from salesync.domain.wording import tr

#: The checkbox that turns API logging on or off; it stands for ``logging_mode`` (REPLY-2).
API_LOGGING_FIELD = "api_logging"


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One option of the Salesforce API card, as the page labels it (DESIGN §3, API-3)."""

    name: str
    label: str
    hint: str = ""
    #: (value, label) pairs of a choice; empty for a checkbox.
    choices: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class OptionGroup:
    """A fieldset of the card, named after the rule groups of API-3 (b)."""

    title: str
    options: tuple[OptionSpec, ...]


API_LOGGING = OptionSpec(
    "logging_mode",
    tr("Log email activity to Salesforce through the API"),
    tr("API and BCC logging are exclusive: turning this on stops BCC logging."),
)
API_CARD: tuple[OptionGroup, ...] = (
    OptionGroup(
        tr("What gets logged"),
        (
            OptionSpec(
                "log_emails", tr("Log emails"), tr("Each sales email becomes a completed Task.")
            ),
            # REPLY-2: the Log Replies box shows only once API logging is on.
            OptionSpec(
                "log_replies", tr("Log replies"), tr("Replies log as “Reply: <email subject>”.")
            ),
            OptionSpec(
                "log_calls", tr("Log calls"), tr("Calls match on the person's Salesforce ID only.")
            ),
        ),
    ),
    OptionGroup(
        tr("Leads and Contacts"),
        (
            OptionSpec("log_to_leads", tr("Log to Leads")),
            OptionSpec(
                "log_to_contacts",
                tr("Log to Contacts"),
                tr("When a Contact and a Lead share an address, the Contact wins."),
            ),
        ),
    ),
    OptionGroup(
        tr("Opportunities"),
        (
            OptionSpec(
                "opportunity_mode",
                tr("Opportunities"),
                tr("Only opportunities where the person is a contact role."),  # API-8
                (
                    ("off", tr("Do not log to opportunities")),
                    ("most_recent_open", tr("The most recent open opportunity")),
                    ("all_open", tr("All open opportunities")),
                ),
            ),
        ),
    ),
    OptionGroup(
        tr("When there is a duplicate record"),
        (
            OptionSpec(
                "duplicate_rule",
                tr("Several records match one address"),
                choices=(
                    ("most_activity", tr("The record with the most activity")),
                    ("oldest", tr("The oldest record")),
                    ("all", tr("All matching records (up to 50)")),
                ),
            ),
        ),
    ),
    OptionGroup(
        tr("If no matching records are found"),
        (
            OptionSpec(
                "no_match_rule",
                tr("No Lead or Contact matches"),
                choices=(
                    (
                        "skip",
                        tr("Skip it: shown on Diagnostics, logged once a Salesforce ID is added"),
                    ),
                    ("create_lead", tr("Create a Lead and log to it")),
                    ("log_unassigned", tr("Log it without a Lead or Contact")),
                ),
            ),
        ),
    ),
    OptionGroup(
        tr("Most Recent Activity"),
        (
            # API-3 (d): roll-ups can be switched off per object for a user.
            OptionSpec(
                "rollup_leads",
                tr("Update Most Recent Activity on Leads"),
                tr("Last activity by sales, last engagement and last reply, on the record."),
            ),
            OptionSpec("rollup_contacts", tr("Update Most Recent Activity on Contacts")),
            OptionSpec("rollup_accounts", tr("Update Most Recent Activity on Accounts")),
            OptionSpec("rollup_opportunities", tr("Update Most Recent Activity on Opportunities")),
        ),
    ),
)
#: Every option the Salesforce API card saves, logging mode first.
API_CARD_NAMES = ("logging_mode", *(o.name for g in API_CARD for o in g.options))

TASK_SYNC = OptionSpec(
    "task_sync",
    tr("Sync Tasks/Reminders to Salesforce Tasks"),
    choices=(
        ("off", tr("Do not sync to Salesforce tasks")),
        ("two_way", tr("Two-way sync")),
    ),
)

OVERRIDE_CHOICES = (
    ("", tr("No override: each rep chooses")),
    ("bcc_only", tr("Only allow logging via Email to Salesforce (BCC)")),
    ("api_only", tr("Only allow logging via the Salesforce API")),
)

#: Dynamic fields of the Activity Detail template in the order the chips show them (API-6).
TEMPLATE_FIELDS = (
    "activity_type",
    "activity_subject",
    "sales_campaign_name",
    "sales_campaign_day",
    "sales_campaign_step",
    "call_outcome",
    "call_reason",
)
#: Sample activities the live preview renders, so admins see what Salesforce will get.
PREVIEW_SAMPLES: tuple[tuple[str, Mapping[str, str]], ...] = (
    (
        tr("Email"),
        {
            "activity_type": "Email",
            "activity_subject": "Quick question about your Q3 rollout",
            "sales_campaign_name": "Q3 Outbound",
            "sales_campaign_day": "3",
            "sales_campaign_step": "2",
        },
    ),
    (
        tr("Call"),
        {
            "activity_type": "Call",
            "activity_subject": "Follow up on pricing",
            "call_outcome": "Connected",
            "call_reason": "Follow-up",
        },
    ),
)


@dataclasses.dataclass(frozen=True)
class OptionView:
    """One option as a page shows it: its value, where it came from and who holds it."""

    spec: OptionSpec
    value: Any
    origin: str = SettingOrigin.USER.value
    #: Why the rep cannot change it ("Locked by Ada Admin"); empty when they can.
    held_note: str = ""
    #: The admin page: who locked this option for the team ("" when it is not locked).
    locked_by: str = ""
    error: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def held(self) -> bool:
        return bool(self.held_note)


def held_note(name: str, origin: str, locked_by: Mapping[str, str], force_mode: str | None) -> str:
    """The reason a rep may not change ``name``, or "" when they may."""
    if origin == SettingOrigin.LOCKED.value:
        if name in locked_by:
            return tr("Locked by {name}", name=locked_by[name])
        return tr("Locked by your admin")
    if origin == SettingOrigin.FORCED.value:
        if force_mode == "bcc_only":
            return tr("Set by your admin's BCC-only override")
        return tr("Set by your admin's API-only override")
    return ""


def _all_specs() -> dict[str, OptionSpec]:
    specs = {o.name: o for g in API_CARD for o in g.options}
    return {API_LOGGING.name: API_LOGGING, TASK_SYNC.name: TASK_SYNC, **specs}


SPECS = _all_specs()


def my_options(
    values: Mapping[str, Any],
    origins: Mapping[str, str],
    locked_by: Mapping[str, str],
    force_mode: str | None,
    errors: Mapping[str, str],
) -> dict[str, OptionView]:
    """The rep's options (their effective values) keyed by name."""
    return {
        name: OptionView(
            spec,
            values[name],
            origins[name],
            held_note(name, origins[name], locked_by, force_mode),
            error=errors.get(name, ""),
        )
        for name, spec in SPECS.items()
    }


def team_options(policy: TeamPolicy, errors: Mapping[str, str]) -> dict[str, OptionView]:
    """The team defaults and locks, keyed by name (the admin's page)."""
    views = {}
    for name, spec in SPECS.items():
        value = getattr(policy.defaults, name)
        lock = policy.lock_for(name)
        views[name] = OptionView(
            spec,
            getattr(value, "value", value),
            locked_by=lock.locked_by if lock else "",
            error=errors.get(name, ""),
        )
    return views


def submitted_api_card(
    form: FormData, current: Mapping[str, Any], editable: set[str]
) -> dict[str, Any]:
    """The API card's options whose submitted value differs from ``current``.

    Unchanged options are left out, so an option that follows the team default keeps
    following it. Only ``editable`` options are read: a disabled field is never submitted.
    """
    wanted: dict[str, Any] = {}
    if "logging_mode" in editable:
        wanted["logging_mode"] = _logging_mode(API_LOGGING_FIELD in form, current["logging_mode"])
    for group in API_CARD:
        for option in group.options:
            if option.name not in editable:
                continue
            if option.choices:
                wanted[option.name] = str(form.get(option.name, current[option.name]))
            else:
                wanted[option.name] = option.name in form
    return {name: value for name, value in wanted.items() if value != current[name]}


def _logging_mode(api_checked: bool, current: str) -> str:
    """The checkbox turns API logging on, or off from API; it leaves BCC as it is."""
    if api_checked:
        return LoggingMode.API.value
    return LoggingMode.OFF.value if current == LoggingMode.API.value else current


def submitted_locks(form: FormData, names: tuple[str, ...]) -> set[str]:
    """The options of a card whose "Lock for the team" box is ticked."""
    return {name for name in names if f"lock_{name}" in form}
