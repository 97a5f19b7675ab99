"""Sync Settings: defaults, team defaults, locks and the team override (DESIGN §3, API-4)."""

from __future__ import annotations

import pytest

from salesync.domain.settings import (
    ChangeRefusal,
    DuplicateRule,
    FieldLock,
    ForceMode,
    LoggingMode,
    NoMatchRule,
    OpportunityMode,
    SettingOrigin,
    SyncSettings,
    TaskSyncMode,
    TeamPolicy,
    coerce_setting,
    effective_settings,
    logs_through_api,
    validate_change,
)


def test_product_defaults_follow_the_design() -> None:
    settings = SyncSettings()
    assert settings.logging_mode is LoggingMode.API
    assert (settings.log_emails, settings.log_replies, settings.log_calls) == (True, True, True)
    assert (settings.log_to_leads, settings.log_to_contacts) == (True, True)
    assert settings.opportunity_mode is OpportunityMode.OFF
    assert settings.duplicate_rule is DuplicateRule.MOST_ACTIVITY
    assert settings.no_match_rule is NoMatchRule.SKIP
    assert settings.task_sync is TaskSyncMode.OFF
    assert settings.bcc_address is None


def test_no_user_values_and_no_team_policy_give_product_defaults() -> None:
    effective = effective_settings({}, TeamPolicy())
    assert effective.settings == SyncSettings()
    assert effective.origin_of("duplicate_rule") is SettingOrigin.PRODUCT_DEFAULT


def test_team_defaults_apply_until_the_rep_sets_a_value() -> None:
    team = TeamPolicy(
        defaults=SyncSettings(opportunity_mode=OpportunityMode.ALL_OPEN, log_calls=False)
    )
    effective = effective_settings({"log_calls": True}, team)
    assert effective.settings.opportunity_mode is OpportunityMode.ALL_OPEN
    assert effective.origin_of("opportunity_mode") is SettingOrigin.TEAM_DEFAULT
    assert effective.settings.log_calls is True
    assert effective.origin_of("log_calls") is SettingOrigin.USER


@pytest.mark.parametrize(
    ("setting", "raw", "expected"),
    [
        ("logging_mode", "bcc", LoggingMode.BCC),
        ("opportunity_mode", "most_recent_open", OpportunityMode.MOST_RECENT_OPEN),
        ("duplicate_rule", DuplicateRule.ALL, DuplicateRule.ALL),
        ("no_match_rule", "create_lead", NoMatchRule.CREATE_LEAD),
        ("task_sync", "two_way", TaskSyncMode.TWO_WAY),
        ("log_replies", False, False),
        ("bcc_address", "  emailtosalesforce@x.example ", "emailtosalesforce@x.example"),
        ("bcc_address", "   ", None),
        ("bcc_address", None, None),
    ],
)
def test_coerce_setting_accepts_stored_forms(setting: str, raw: object, expected: object) -> None:
    assert coerce_setting(setting, raw) == expected


@pytest.mark.parametrize(
    ("setting", "raw"),
    [
        ("logging_mode", "both"),
        ("logging_mode", 1),
        ("log_emails", "yes"),
        ("log_emails", 1),
        ("bcc_address", 42),
        ("colour", "blue"),
    ],
)
def test_coerce_setting_refuses_bad_values(setting: str, raw: object) -> None:
    with pytest.raises(ValueError):
        coerce_setting(setting, raw)


def test_effective_settings_refuses_unknown_stored_options() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        effective_settings({"log_faxes": True}, TeamPolicy())


def test_a_lock_overrides_the_reps_own_value() -> None:
    team = TeamPolicy(
        defaults=SyncSettings(duplicate_rule=DuplicateRule.OLDEST),
        locks=(FieldLock("duplicate_rule", "Ada (admin)"),),
    )
    effective = effective_settings({"duplicate_rule": "all"}, team)
    assert effective.settings.duplicate_rule is DuplicateRule.OLDEST
    assert effective.origin_of("duplicate_rule") is SettingOrigin.LOCKED


@pytest.mark.parametrize(
    ("force_mode", "user_mode", "expected"),
    [
        (ForceMode.API_ONLY, "bcc", LoggingMode.API),
        (ForceMode.API_ONLY, "off", LoggingMode.API),
        (ForceMode.BCC_ONLY, "api", LoggingMode.BCC),
        (None, "bcc", LoggingMode.BCC),
    ],
)
def test_the_override_forces_one_logging_mode(
    force_mode: ForceMode | None, user_mode: str, expected: LoggingMode
) -> None:
    effective = effective_settings({"logging_mode": user_mode}, TeamPolicy(force_mode=force_mode))
    assert effective.settings.logging_mode is expected


def test_api_only_override_sets_the_api_card_team_wide() -> None:
    team = TeamPolicy(defaults=SyncSettings(log_to_leads=False), force_mode=ForceMode.API_ONLY)
    effective = effective_settings({"log_to_leads": True, "task_sync": "two_way"}, team)
    assert effective.settings.log_to_leads is False
    assert effective.origin_of("log_to_leads") is SettingOrigin.FORCED
    assert effective.settings.task_sync is TaskSyncMode.TWO_WAY  # not on the API card


def test_bcc_only_override_leaves_the_api_card_to_the_rep() -> None:
    team = TeamPolicy(force_mode=ForceMode.BCC_ONLY)
    effective = effective_settings({"log_to_leads": False}, team)
    assert effective.settings.log_to_leads is False
    assert effective.origin_of("logging_mode") is SettingOrigin.FORCED


def test_validate_change_accepts_free_options() -> None:
    assert validate_change({}, {"log_calls": False, "duplicate_rule": "all"}, TeamPolicy()) == ()


def test_validate_change_refuses_a_locked_option_and_names_who_locked_it() -> None:
    team = TeamPolicy(locks=(FieldLock("log_replies", "Ada"),))
    refusals = validate_change({}, {"log_replies": False}, team)
    assert refusals == (
        ChangeRefusal("log_replies", "log_replies is locked for your team by Ada."),
    )


def test_resubmitting_the_locked_value_is_not_a_change() -> None:
    team = TeamPolicy(locks=(FieldLock("log_replies", "Ada"),))
    assert validate_change({}, {"log_replies": True}, team) == ()


@pytest.mark.parametrize(
    ("team", "changes", "refused"),
    [
        (TeamPolicy(force_mode=ForceMode.API_ONLY), {"logging_mode": "bcc"}, "logging_mode"),
        (TeamPolicy(force_mode=ForceMode.API_ONLY), {"logging_mode": "off"}, "logging_mode"),
        (TeamPolicy(force_mode=ForceMode.BCC_ONLY), {"logging_mode": "api"}, "logging_mode"),
        (
            TeamPolicy(force_mode=ForceMode.API_ONLY),
            {"no_match_rule": "create_lead"},
            "no_match_rule",
        ),
        (TeamPolicy(), {"logging_mode": "bcc"}, "bcc_address"),
        (TeamPolicy(), {"log_emails": "maybe"}, "log_emails"),
        (TeamPolicy(), {"favourite": 1}, "favourite"),
    ],
)
def test_validate_change_refusals(
    team: TeamPolicy, changes: dict[str, object], refused: str
) -> None:
    refusals = validate_change({}, changes, team)
    assert [refusal.setting for refusal in refusals] == [refused]
    assert refusals[0].reason


def test_bcc_with_an_address_is_accepted() -> None:
    changes = {"logging_mode": "bcc", "bcc_address": "e2s@example.com"}
    assert validate_change({}, changes, TeamPolicy()) == ()


def test_bcc_address_already_stored_is_enough() -> None:
    stored = {"bcc_address": "e2s@example.com"}
    assert validate_change(stored, {"logging_mode": "bcc"}, TeamPolicy()) == ()


def test_values_are_immutable() -> None:
    settings = SyncSettings()
    with pytest.raises(AttributeError):
        settings.log_calls = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mode", "changes", "kind", "expected"),
    [
        (LoggingMode.API, {}, "email", True),
        (LoggingMode.API, {}, "reply", True),
        (LoggingMode.API, {}, "call", True),
        (LoggingMode.API, {"log_replies": False}, "reply", False),
        (LoggingMode.API, {"log_emails": False}, "reply", False),
        (LoggingMode.API, {"log_calls": False}, "call", False),
        (LoggingMode.BCC, {}, "email", False),
        (LoggingMode.BCC, {}, "reply", False),
        (LoggingMode.BCC, {}, "call", True),  # a call has no email to BCC
        (LoggingMode.BCC, {"log_calls": False}, "call", False),
        (LoggingMode.OFF, {}, "call", False),
        (LoggingMode.OFF, {}, "email", False),
    ],
)
def test_logs_through_api(
    mode: LoggingMode, changes: dict[str, bool], kind: str, expected: bool
) -> None:
    settings = SyncSettings(logging_mode=mode, **changes)
    assert logs_through_api(settings, kind) is expected
