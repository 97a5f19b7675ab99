"""Sync Settings: per-user options, team defaults, admin locks and the team override."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping


class LoggingMode(enum.StrEnum):
    """How emails reach Salesforce; API and BCC are exclusive (DESIGN §3, BCC-4)."""

    API = "api"
    BCC = "bcc"
    OFF = "off"


class OpportunityMode(enum.StrEnum):
    """Which open opportunities get a Task besides the contact (API-8, DESIGN §3)."""

    OFF = "off"
    MOST_RECENT_OPEN = "most_recent_open"
    ALL_OPEN = "all_open"


class DuplicateRule(enum.StrEnum):
    """Which records to log to when several match one address (MATCH-4, DESIGN §3)."""

    MOST_ACTIVITY = "most_activity"
    OLDEST = "oldest"
    ALL = "all"


class NoMatchRule(enum.StrEnum):
    """What to do when no Lead or Contact matches (MATCH-4, DESIGN §3)."""

    SKIP = "skip"
    CREATE_LEAD = "create_lead"
    LOG_UNASSIGNED = "log_unassigned"


class TaskSyncMode(enum.StrEnum):
    """Reminder task sync option (TASK-1); off by default."""

    OFF = "off"
    TWO_WAY = "two_way"


class ForceMode(enum.StrEnum):
    """The admin's team override: only API or only BCC logging (API-4, BCC-4)."""

    API_ONLY = "api_only"
    BCC_ONLY = "bcc_only"


class SettingOrigin(enum.StrEnum):
    """Where an effective value came from, so the settings page can say why."""

    PRODUCT_DEFAULT = "product_default"
    TEAM_DEFAULT = "team_default"
    USER = "user"
    LOCKED = "locked"
    FORCED = "forced"


@dataclasses.dataclass(frozen=True)
class SyncSettings:
    """Every Sync Settings option with its product default (DESIGN §3)."""

    #: API logging is the default once connected.
    logging_mode: LoggingMode = LoggingMode.API
    log_emails: bool = True
    #: Shown only with API logging (REPLY-2).
    log_replies: bool = True
    log_calls: bool = True
    log_to_leads: bool = True
    log_to_contacts: bool = True
    opportunity_mode: OpportunityMode = OpportunityMode.OFF
    duplicate_rule: DuplicateRule = DuplicateRule.MOST_ACTIVITY
    no_match_rule: NoMatchRule = NoMatchRule.SKIP
    task_sync: TaskSyncMode = TaskSyncMode.OFF
    #: The rep's Email-to-Salesforce address, needed for BCC logging (BCC-2).
    bcc_address: str | None = None
    #: Most Recent Activity roll-ups, per object (API-3 d); written only where the org has
    #: the fields and the rep may edit them (docs/engagement.md).
    rollup_leads: bool = True
    rollup_contacts: bool = True
    rollup_accounts: bool = True
    rollup_opportunities: bool = True


#: Option names, in declaration order.
SETTING_NAMES = tuple(field.name for field in dataclasses.fields(SyncSettings))
#: Options of the Salesforce API card that an API-only override sets team-wide (API-4).
API_CARD_SETTINGS = frozenset(
    {
        "log_emails",
        "log_replies",
        "log_calls",
        "log_to_leads",
        "log_to_contacts",
        "opportunity_mode",
        "duplicate_rule",
        "no_match_rule",
        "rollup_leads",
        "rollup_contacts",
        "rollup_accounts",
        "rollup_opportunities",
    }
)
_ENUM_TYPES: dict[str, type[enum.StrEnum]] = {
    "logging_mode": LoggingMode,
    "opportunity_mode": OpportunityMode,
    "duplicate_rule": DuplicateRule,
    "no_match_rule": NoMatchRule,
    "task_sync": TaskSyncMode,
}
_BOOL_SETTINGS = frozenset(
    {
        "log_emails",
        "log_replies",
        "log_calls",
        "log_to_leads",
        "log_to_contacts",
        "rollup_leads",
        "rollup_contacts",
        "rollup_accounts",
        "rollup_opportunities",
    }
)
#: Roll-up switch of each object (API-3 d).
ROLLUP_SWITCHES = {
    "Lead": "rollup_leads",
    "Contact": "rollup_contacts",
    "Account": "rollup_accounts",
    "Opportunity": "rollup_opportunities",
}


@dataclasses.dataclass(frozen=True)
class FieldLock:
    """An admin locked one option for the whole team."""

    setting: str
    #: Who locked it (an admin's display name or id), shown to reps.
    locked_by: str


@dataclasses.dataclass(frozen=True)
class TeamPolicy:
    """What an admin set for the team: defaults, locks and the override (API-4)."""

    defaults: SyncSettings = SyncSettings()
    locks: tuple[FieldLock, ...] = ()
    force_mode: ForceMode | None = None

    def lock_for(self, setting: str) -> FieldLock | None:
        """The lock on ``setting``, if an admin locked it."""
        return next((lock for lock in self.locks if lock.setting == setting), None)


@dataclasses.dataclass(frozen=True)
class EffectiveSettings:
    """The options that apply to one rep, and where each value came from."""

    settings: SyncSettings
    origins: tuple[tuple[str, SettingOrigin], ...]

    def origin_of(self, setting: str) -> SettingOrigin:
        """Where the effective value of ``setting`` came from."""
        return dict(self.origins)[setting]


@dataclasses.dataclass(frozen=True)
class ChangeRefusal:
    """One requested change that may not be saved, with a reason a rep can read."""

    setting: str
    reason: str


def coerce_setting(setting: str, value: object) -> object:
    """Return ``value`` as the type of ``setting`` (strings become enums).

    Raises ValueError for an unknown option or a value of the wrong kind.
    """
    if setting not in SETTING_NAMES:
        raise ValueError(f"unknown setting: {setting!r}")
    if setting in _ENUM_TYPES:
        if not isinstance(value, str):
            raise ValueError(f"{setting} cannot be {value!r}")
        try:
            return _ENUM_TYPES[setting](value)
        except ValueError as exc:
            raise ValueError(f"{setting} cannot be {value!r}") from exc
    if setting in _BOOL_SETTINGS:
        if not isinstance(value, bool):
            raise ValueError(f"{setting} must be true or false, not {value!r}")
        return value
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{setting} must be text, not {value!r}")
    return (value.strip() or None) if isinstance(value, str) else None


def effective_settings(user_values: Mapping[str, object], team: TeamPolicy) -> EffectiveSettings:
    """Apply team defaults, then the rep's own values, then locks, then the override.

    ``user_values`` holds only the options the rep has set. Raises ValueError on an
    unknown option or a bad value. An override forces the logging mode (``off`` is not
    allowed under it) and, for API-only, every Salesforce API card option (API-4).
    """
    values: dict[str, object] = {}
    origins: dict[str, SettingOrigin] = {}
    product = SyncSettings()
    for name in SETTING_NAMES:
        team_value = getattr(team.defaults, name)
        values[name] = team_value
        same = team_value == getattr(product, name)
        origins[name] = SettingOrigin.PRODUCT_DEFAULT if same else SettingOrigin.TEAM_DEFAULT
    for name, raw in user_values.items():
        values[name] = coerce_setting(name, raw)
        origins[name] = SettingOrigin.USER
    for name in SETTING_NAMES:
        if _is_held_by_team(name, team):
            values[name] = getattr(team.defaults, name)
            origins[name] = _held_origin(name, team)
    if team.force_mode is not None:
        values["logging_mode"] = _forced_logging_mode(team.force_mode)
        origins["logging_mode"] = SettingOrigin.FORCED
    settings = SyncSettings(**values)  # type: ignore[arg-type]
    return EffectiveSettings(settings, tuple((name, origins[name]) for name in SETTING_NAMES))


def validate_change(
    user_values: Mapping[str, object], changes: Mapping[str, object], team: TeamPolicy
) -> tuple[ChangeRefusal, ...]:
    """Check a rep's requested ``changes``; an empty result means they may be saved.

    Resubmitting the current effective value of a locked option is not a change. Refuses
    unknown options, bad values, locked options, a logging mode against the override, and
    BCC logging without an Email-to-Salesforce address (BCC-2).
    """
    current = effective_settings(user_values, team).settings
    refusals: list[ChangeRefusal] = []
    coerced: dict[str, object] = {}
    for name, raw in changes.items():
        try:
            coerced[name] = coerce_setting(name, raw)
        except ValueError as exc:
            refusals.append(ChangeRefusal(name, str(exc)))
            continue
        if coerced[name] != getattr(current, name):
            refusal = _refuse_held(name, team)
            if refusal is not None:
                refusals.append(refusal)
    if not refusals and {"logging_mode", "bcc_address"} & changes.keys():
        refusals.extend(_refuse_incomplete_bcc({**user_values, **coerced}, team))
    return tuple(refusals)


def _is_held_by_team(name: str, team: TeamPolicy) -> bool:
    forced_card = team.force_mode is ForceMode.API_ONLY and name in API_CARD_SETTINGS
    return team.lock_for(name) is not None or forced_card


def _held_origin(name: str, team: TeamPolicy) -> SettingOrigin:
    return SettingOrigin.LOCKED if team.lock_for(name) is not None else SettingOrigin.FORCED


def _forced_logging_mode(force_mode: ForceMode) -> LoggingMode:
    return LoggingMode.API if force_mode is ForceMode.API_ONLY else LoggingMode.BCC


def _refuse_held(name: str, team: TeamPolicy) -> ChangeRefusal | None:
    lock = team.lock_for(name)
    if lock is not None:
        return ChangeRefusal(name, f"{name} is locked for your team by {lock.locked_by}.")
    if team.force_mode is not None and name == "logging_mode":
        allowed = _forced_logging_mode(team.force_mode)
        return ChangeRefusal(name, f"Your admin allows only {allowed.value.upper()} logging.")
    if team.force_mode is ForceMode.API_ONLY and name in API_CARD_SETTINGS:
        return ChangeRefusal(name, f"{name} is set team-wide by your admin's API-only override.")
    return None


def _refuse_incomplete_bcc(
    user_values: Mapping[str, object], team: TeamPolicy
) -> tuple[ChangeRefusal, ...]:
    settings = effective_settings(user_values, team).settings
    if settings.logging_mode is LoggingMode.BCC and settings.bcc_address is None:
        reason = "BCC logging needs your Email to Salesforce address (My Settings > Email)."
        return (ChangeRefusal("bcc_address", reason),)
    return ()


def logs_through_api(settings: SyncSettings, kind: str) -> bool:
    """Whether an activity of ``kind`` ("email", "reply", "call") is logged through the API.

    Emails and replies only in API mode. A call has no email to BCC, so in BCC mode it is
    logged through the API too, as long as Log calls is on; only "off" stops it.
    """
    if settings.logging_mode is LoggingMode.OFF:
        return False
    if kind == "call":
        return settings.log_calls
    if settings.logging_mode is not LoggingMode.API:
        return False
    if kind == "reply":
        return settings.log_emails and settings.log_replies
    return settings.log_emails
