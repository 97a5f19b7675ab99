"""Record matching rules (MATCH-1..3, MATCH-10, API-8, DESIGN §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain import ids
from salesync.domain.activity_kinds import ActivityKind
from salesync.domain.matching import (
    MAX_TARGETS,
    CandidateRecord,
    CreateLead,
    LogTarget,
    Matched,
    OpportunityRole,
    Recipient,
    Unmatched,
    UnmatchedCode,
    emails_to_look_up,
    lead_ids_to_look_up,
    match_activity,
)
from salesync.domain.object_access import AccessRefused, access_refused
from salesync.domain.settings import (
    DuplicateRule,
    LoggingMode,
    NoMatchRule,
    OpportunityMode,
    SyncSettings,
)

EMAIL = ActivityKind.EMAIL
CALL = ActivityKind.CALL
REPLY = ActivityKind.REPLY
DEFAULTS = SyncSettings()


def sfid(prefix: str, n: int) -> str:
    return ids.to_18(f"{prefix}5g{n:010d}")


def day(n: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=n)


def lead(
    n: int, email: str = "pat@example.com", created: int = 0, tasks: int = 0
) -> CandidateRecord:
    return CandidateRecord(sfid("00Q", n), "Lead", email, day(created), tasks)


def contact(
    n: int, email: str = "pat@example.com", created: int = 0, tasks: int = 0
) -> CandidateRecord:
    return CandidateRecord(sfid("003", n), "Contact", email, day(created), tasks)


def converted(n: int, contact_n: int | None, email: str = "pat@example.com") -> CandidateRecord:
    contact_id = sfid("003", contact_n) if contact_n is not None else None
    return CandidateRecord(sfid("00Q", n), "Lead", email, day(0), 0, True, contact_id)


def role(opp: int, contact_n: int, modified: int, closed: bool = False) -> OpportunityRole:
    return OpportunityRole(sfid("006", opp), sfid("003", contact_n), closed, day(modified))


def who_ids(result: object) -> list[str | None]:
    assert isinstance(result, Matched)
    return [target.who_id for target in result.targets]


def what_ids(result: object) -> list[str | None]:
    assert isinstance(result, Matched)
    return [target.what_id for target in result.targets]


def test_stored_contact_id_wins_without_any_lookup() -> None:
    recipient = Recipient(email="pat@example.com", contact_id=sfid("003", 1)[:15])
    result = match_activity(EMAIL, recipient, [contact(2)], [], DEFAULTS)
    assert who_ids(result) == [sfid("003", 1)]


def test_stored_contact_wins_over_stored_lead() -> None:
    recipient = Recipient(contact_id=sfid("003", 1), lead_id=sfid("00Q", 1))
    assert who_ids(match_activity(EMAIL, recipient, [], [], DEFAULTS)) == [sfid("003", 1)]


def test_stored_lead_id_is_used() -> None:
    recipient = Recipient(email="pat@example.com", lead_id=sfid("00Q", 7))
    assert who_ids(match_activity(EMAIL, recipient, [contact(2)], [], DEFAULTS)) == [sfid("00Q", 7)]


def test_stored_converted_lead_resolves_to_its_contact() -> None:
    recipient = Recipient(lead_id=sfid("00Q", 7))
    result = match_activity(CALL, recipient, [converted(7, 8)], [], DEFAULTS)
    assert who_ids(result) == [sfid("003", 8)]
    assert isinstance(result, Matched)
    assert "converted lead" in result.targets[0].reason


def test_malformed_stored_ids_are_ignored_and_email_is_used() -> None:
    recipient = Recipient(email="pat@example.com", contact_id="garbage", lead_id="")
    assert who_ids(match_activity(EMAIL, recipient, [lead(3)], [], DEFAULTS)) == [sfid("00Q", 3)]


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ([lead(1)], [sfid("00Q", 1)]),
        ([lead(1), contact(2)], [sfid("003", 2)]),  # Contact wins over Lead
        ([lead(1, email="PAT@Example.com")], [sfid("00Q", 1)]),  # case-insensitive
        ([lead(1, email="other@example.com"), contact(2)], [sfid("003", 2)]),
        ([converted(1, 5)], [sfid("003", 5)]),  # MATCH-10
        ([converted(1, 5), contact(5, tasks=9)], [sfid("003", 5)]),
    ],
)
def test_email_lookup(candidates: list[CandidateRecord], expected: list[str]) -> None:
    result = match_activity(EMAIL, Recipient(email=" Pat@Example.com "), candidates, [], DEFAULTS)
    assert who_ids(result) == expected


@pytest.mark.parametrize(
    ("rule", "candidates", "expected"),
    [
        (
            DuplicateRule.MOST_ACTIVITY,
            [contact(1, tasks=2), contact(2, tasks=5), contact(3, tasks=1)],
            [2],
        ),
        (
            DuplicateRule.MOST_ACTIVITY,
            [contact(1, created=5, tasks=3), contact(2, created=1, tasks=3)],
            [2],
        ),
        (DuplicateRule.OLDEST, [contact(1, created=5, tasks=9), contact(2, created=1)], [2]),
        (DuplicateRule.OLDEST, [contact(2, created=1), contact(1, created=1)], [1]),  # tie: by id
        (
            DuplicateRule.ALL,
            [contact(1, created=5), contact(2, created=1), contact(3, created=3)],
            [2, 3, 1],
        ),
    ],
)
def test_duplicate_rules(
    rule: DuplicateRule, candidates: list[CandidateRecord], expected: list[int]
) -> None:
    settings = SyncSettings(duplicate_rule=rule)
    result = match_activity(EMAIL, Recipient(email="pat@example.com"), candidates, [], settings)
    assert who_ids(result) == [sfid("003", n) for n in expected]


def test_duplicate_rule_applies_among_leads_when_no_contact_matches() -> None:
    candidates = [lead(1, tasks=1), lead(2, tasks=4)]
    assert who_ids(
        match_activity(EMAIL, Recipient(email="pat@example.com"), candidates, [], DEFAULTS)
    ) == [sfid("00Q", 2)]


def test_all_duplicates_are_capped_at_50() -> None:
    candidates = [contact(n, created=n) for n in range(60)]
    settings = SyncSettings(duplicate_rule=DuplicateRule.ALL)
    result = match_activity(EMAIL, Recipient(email="pat@example.com"), candidates, [], settings)
    assert who_ids(result) == [sfid("003", n) for n in range(MAX_TARGETS)]


@pytest.mark.parametrize(
    ("settings", "candidates", "expected"),
    [
        (SyncSettings(log_to_contacts=False), [lead(1), contact(2)], [sfid("00Q", 1)]),
        (SyncSettings(log_to_leads=False), [lead(1), contact(2)], [sfid("003", 2)]),
    ],
)
def test_object_switches_filter_before_contact_wins(
    settings: SyncSettings, candidates: list[CandidateRecord], expected: list[str]
) -> None:
    result = match_activity(EMAIL, Recipient(email="pat@example.com"), candidates, [], settings)
    assert who_ids(result) == expected


@pytest.mark.parametrize(
    ("settings", "candidates", "code"),
    [
        (SyncSettings(log_to_leads=False), [lead(1)], UnmatchedCode.LEADS_DISABLED),
        (SyncSettings(log_to_contacts=False), [contact(1)], UnmatchedCode.CONTACTS_DISABLED),
        (SyncSettings(log_to_contacts=False), [converted(1, 4)], UnmatchedCode.CONTACTS_DISABLED),
        (DEFAULTS, [converted(1, None)], UnmatchedCode.CONVERTED_LEAD_WITHOUT_CONTACT),
    ],
)
def test_matches_that_cannot_be_logged(
    settings: SyncSettings, candidates: list[CandidateRecord], code: UnmatchedCode
) -> None:
    result = match_activity(EMAIL, Recipient(email="pat@example.com"), candidates, [], settings)
    assert isinstance(result, Unmatched)
    assert result.code is code
    assert result.reason_text


def test_stored_contact_with_contacts_off_is_not_logged_elsewhere() -> None:
    recipient = Recipient(email="pat@example.com", contact_id=sfid("003", 1))
    result = match_activity(EMAIL, recipient, [lead(2)], [], SyncSettings(log_to_contacts=False))
    assert isinstance(result, Unmatched) and result.code is UnmatchedCode.CONTACTS_DISABLED


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (NoMatchRule.SKIP, Unmatched),
        (NoMatchRule.CREATE_LEAD, CreateLead),
        (NoMatchRule.LOG_UNASSIGNED, Matched),
    ],
)
def test_no_match_rules(rule: NoMatchRule, expected: type) -> None:
    settings = SyncSettings(no_match_rule=rule)
    result = match_activity(
        EMAIL, Recipient(email="New@Example.com"), [contact(1, email="x@y.z")], [], settings
    )
    assert isinstance(result, expected)


def test_skip_reports_no_matching_record() -> None:
    result = match_activity(EMAIL, Recipient(email="new@example.com"), [], [], DEFAULTS)
    assert result == Unmatched(
        UnmatchedCode.NO_MATCHING_RECORD,
        "No Lead or Contact in Salesforce has the address new@example.com.",
    )


def test_create_lead_carries_the_normalised_address() -> None:
    settings = SyncSettings(no_match_rule=NoMatchRule.CREATE_LEAD)
    result = match_activity(REPLY, Recipient(email=" New@Example.com"), [], [], settings)
    assert isinstance(result, CreateLead) and result.email == "new@example.com"


def test_create_lead_is_refused_when_leads_are_off() -> None:
    settings = SyncSettings(no_match_rule=NoMatchRule.CREATE_LEAD, log_to_leads=False)
    result = match_activity(EMAIL, Recipient(email="new@example.com"), [], [], settings)
    assert isinstance(result, Unmatched) and result.code is UnmatchedCode.LEADS_DISABLED


def test_log_unassigned_has_no_who_and_no_what() -> None:
    settings = SyncSettings(no_match_rule=NoMatchRule.LOG_UNASSIGNED)
    result = match_activity(EMAIL, Recipient(email="new@example.com"), [], [], settings)
    assert isinstance(result, Matched)
    assert [(t.who_id, t.what_id) for t in result.targets] == [(None, None)]


def test_email_without_address_or_id() -> None:
    result = match_activity(
        EMAIL, Recipient(email="  "), [], [], SyncSettings(no_match_rule=NoMatchRule.CREATE_LEAD)
    )
    assert isinstance(result, Unmatched) and result.code is UnmatchedCode.NO_EMAIL_ADDRESS


def test_calls_never_fall_back_to_email() -> None:
    settings = SyncSettings(no_match_rule=NoMatchRule.LOG_UNASSIGNED)
    result = match_activity(CALL, Recipient(email="pat@example.com"), [contact(1)], [], settings)
    assert isinstance(result, Unmatched) and result.code is UnmatchedCode.NO_SALESFORCE_ID


def test_calls_log_to_the_stored_id() -> None:
    result = match_activity(CALL, Recipient(lead_id=sfid("00Q", 4)), [], [], DEFAULTS)
    assert who_ids(result) == [sfid("00Q", 4)]


@pytest.mark.parametrize(
    ("kind", "settings", "code"),
    [
        (EMAIL, SyncSettings(logging_mode=LoggingMode.OFF), UnmatchedCode.LOGGING_OFF),
        (CALL, SyncSettings(logging_mode=LoggingMode.OFF), UnmatchedCode.LOGGING_OFF),
        (EMAIL, SyncSettings(logging_mode=LoggingMode.BCC), UnmatchedCode.BCC_MODE),
        (REPLY, SyncSettings(logging_mode=LoggingMode.BCC), UnmatchedCode.BCC_MODE),
        (EMAIL, SyncSettings(log_emails=False), UnmatchedCode.EMAIL_LOGGING_OFF),
        (REPLY, SyncSettings(log_emails=False), UnmatchedCode.EMAIL_LOGGING_OFF),
        (REPLY, SyncSettings(log_replies=False), UnmatchedCode.REPLY_LOGGING_OFF),
        (CALL, SyncSettings(log_calls=False), UnmatchedCode.CALL_LOGGING_OFF),
    ],
)
def test_switched_off_logging(
    kind: ActivityKind, settings: SyncSettings, code: UnmatchedCode
) -> None:
    recipient = Recipient(email="pat@example.com", contact_id=sfid("003", 1))
    result = match_activity(kind, recipient, [], [], settings)
    assert isinstance(result, Unmatched) and result.code is code


def test_calls_still_log_through_the_api_in_bcc_mode() -> None:
    settings = SyncSettings(logging_mode=LoggingMode.BCC)
    result = match_activity(CALL, Recipient(contact_id=sfid("003", 1)), [], [], settings)
    assert who_ids(result) == [sfid("003", 1)]


ROLES = [
    role(1, 1, modified=3),
    role(2, 1, modified=9),
    role(3, 1, modified=20, closed=True),
    role(4, 2, 30),
]


@pytest.mark.parametrize(
    ("mode", "expected_what"),
    [
        (OpportunityMode.OFF, [None]),
        (OpportunityMode.MOST_RECENT_OPEN, [sfid("006", 2)]),
        (OpportunityMode.ALL_OPEN, [sfid("006", 2), sfid("006", 1)]),
    ],
)
def test_opportunity_modes(mode: OpportunityMode, expected_what: list[str | None]) -> None:
    settings = SyncSettings(opportunity_mode=mode)
    result = match_activity(EMAIL, Recipient(contact_id=sfid("003", 1)), [], ROLES, settings)
    assert what_ids(result) == expected_what
    assert set(who_ids(result)) == {sfid("003", 1)}


def test_contact_without_open_roles_gets_a_plain_task() -> None:
    settings = SyncSettings(opportunity_mode=OpportunityMode.ALL_OPEN)
    result = match_activity(EMAIL, Recipient(contact_id=sfid("003", 9)), [], ROLES, settings)
    assert what_ids(result) == [None]


def test_two_roles_on_one_opportunity_give_one_task() -> None:
    roles = [role(1, 1, 3), role(1, 1, 4)]
    settings = SyncSettings(opportunity_mode=OpportunityMode.ALL_OPEN)
    result = match_activity(EMAIL, Recipient(contact_id=sfid("003", 1)), [], roles, settings)
    assert what_ids(result) == [sfid("006", 1)]


def test_leads_never_get_an_opportunity() -> None:
    settings = SyncSettings(opportunity_mode=OpportunityMode.ALL_OPEN)
    result = match_activity(EMAIL, Recipient(lead_id=sfid("00Q", 1)), [], ROLES, settings)
    assert isinstance(result, Matched)
    assert result.targets == (LogTarget(sfid("00Q", 1), None, "stored Salesforce lead id"),)


def test_opportunity_targets_are_capped_too() -> None:
    roles = [role(n, 1, n) for n in range(70)]
    settings = SyncSettings(opportunity_mode=OpportunityMode.ALL_OPEN)
    result = match_activity(EMAIL, Recipient(contact_id=sfid("003", 1)), [], roles, settings)
    assert isinstance(result, Matched) and len(result.targets) == MAX_TARGETS


def test_candidates_need_aware_datetimes() -> None:
    with pytest.raises(ValueError):
        CandidateRecord(sfid("003", 1), "Contact", "a@b.c", dt.datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("recipients", "expected"),
    [
        (
            [Recipient(email="B@x.com"), Recipient(email="a@x.com"), Recipient(email="b@x.com ")],
            ("a@x.com", "b@x.com"),
        ),
        ([Recipient(email="c@x.com", contact_id=sfid("003", 1))], ()),
        ([Recipient(email="c@x.com", lead_id=sfid("00Q", 1))], ("c@x.com",)),
        ([Recipient(email="c@x.com", contact_id="bad")], ("c@x.com",)),
        ([Recipient(email=None), Recipient(email="  ")], ()),
    ],
)
def test_emails_to_look_up(recipients: list[Recipient], expected: tuple[str, ...]) -> None:
    assert emails_to_look_up(recipients) == expected


def person(n: int, is_contact: bool, created: int, tasks: int) -> CandidateRecord:
    make = contact if is_contact else lead
    return make(n, created=created, tasks=tasks)


people = st.lists(
    st.builds(person, st.integers(0, 80), st.booleans(), st.integers(0, 30), st.integers(0, 5)),
    max_size=70,
)


@given(people, st.sampled_from(list(DuplicateRule)), st.sampled_from(list(NoMatchRule)))
def test_every_email_gets_a_decision_within_bounds(
    candidates: list[CandidateRecord], rule: DuplicateRule, no_match: NoMatchRule
) -> None:
    settings = SyncSettings(duplicate_rule=rule, no_match_rule=no_match)
    result = match_activity(EMAIL, Recipient(email="pat@example.com"), candidates, [], settings)
    if not candidates:
        assert not isinstance(result, Matched) or result.targets[0].who_id is None
        return
    assert isinstance(result, Matched)
    targets = [t.who_id for t in result.targets]
    assert 1 <= len(targets) <= MAX_TARGETS and len(set(targets)) == len(targets)
    has_contact = any(c.sobject == "Contact" for c in candidates)
    assert all(ids.object_type(t or "") == ("Contact" if has_contact else "Lead") for t in targets)
    if rule is not DuplicateRule.ALL:
        assert len(targets) == 1


def test_lead_ids_to_look_up() -> None:
    recipients = [
        Recipient(lead_id=sfid("00Q", 2)[:15]),
        Recipient(lead_id=sfid("00Q", 1)),
        Recipient(lead_id=sfid("00Q", 1).lower()),
        Recipient(lead_id=sfid("00Q", 3), contact_id=sfid("003", 3)),
        Recipient(lead_id="junk"),
        Recipient(email="a@x.com"),
    ]
    assert lead_ids_to_look_up(recipients) == (sfid("00Q", 1), sfid("00Q", 2))


def test_converted_lead_found_by_id_resolves_even_with_another_address() -> None:
    recipient = Recipient(email="old@example.com", lead_id=sfid("00Q", 7))
    candidates = [converted(7, 8, email="new@example.com")]
    assert who_ids(match_activity(EMAIL, recipient, candidates, [], DEFAULTS)) == [sfid("003", 8)]


# --- lookups Salesforce refused (object permissions) ---------------------------------------

PAT = Recipient(email="pat@example.com")
LEADS_REFUSED = {"Lead": "INVALID_TYPE: sObject type 'Lead' is not supported."}
CONTACTS_REFUSED = {"Contact": "INVALID_TYPE: sObject type 'Contact' is not supported."}


def test_unreadable_leads_and_no_contact_is_an_access_problem_not_no_match() -> None:
    result = match_activity(EMAIL, PAT, [], [], DEFAULTS, LEADS_REFUSED)
    assert isinstance(result, AccessRefused)
    assert (result.sobject, result.code) == ("Lead", "LEAD_ACCESS_REFUSED")
    assert "INVALID_TYPE" in result.reason_text
    assert "grant Read on Leads" in result.fix and "Log to Leads" in result.fix


def test_unreadable_leads_never_create_a_lead() -> None:
    settings = SyncSettings(no_match_rule=NoMatchRule.CREATE_LEAD)
    assert isinstance(match_activity(EMAIL, PAT, [], [], settings, LEADS_REFUSED), AccessRefused)


def test_a_contact_found_wins_even_when_leads_are_unreadable() -> None:
    result = match_activity(EMAIL, PAT, [contact(1)], [], DEFAULTS, LEADS_REFUSED)
    assert who_ids(result) == [sfid("003", 1)]


def test_unreadable_contacts_refuse_even_when_a_lead_matches() -> None:
    result = match_activity(EMAIL, PAT, [lead(1)], [], DEFAULTS, CONTACTS_REFUSED)
    assert isinstance(result, AccessRefused)
    assert result.code == "CONTACT_ACCESS_REFUSED"


def test_refused_objects_the_rep_does_not_log_to_do_not_matter() -> None:
    settings = SyncSettings(log_to_leads=False)
    result = match_activity(EMAIL, PAT, [], [], settings, LEADS_REFUSED)
    assert isinstance(result, Unmatched) and result.code is UnmatchedCode.NO_MATCHING_RECORD
    settings = SyncSettings(log_to_contacts=False)
    result = match_activity(EMAIL, PAT, [lead(1)], [], settings, CONTACTS_REFUSED)
    assert who_ids(result) == [sfid("00Q", 1)]


def test_a_stored_contact_id_needs_no_lookup_so_refusals_do_not_matter() -> None:
    recipient = Recipient(email="pat@example.com", contact_id=sfid("003", 9))
    refused = {**LEADS_REFUSED, **CONTACTS_REFUSED}
    assert who_ids(match_activity(EMAIL, recipient, [], [], DEFAULTS, refused)) == [sfid("003", 9)]


@pytest.mark.parametrize(
    ("sobject", "code", "words"),
    [
        ("Lead", "LEAD_ACCESS_REFUSED", "Log to Leads"),
        ("Contact", "CONTACT_ACCESS_REFUSED", "Log to Contacts"),
        ("Opportunity", "OPPORTUNITY_ACCESS_REFUSED", "Opportunities to 'off'"),
        ("OpportunityContactRole", "OPPORTUNITY_ACCESS_REFUSED", "Read on Opportunities"),
    ],
)
def test_every_access_refusal_names_the_object_and_the_fix(
    sobject: str, code: str, words: str
) -> None:
    refusal = access_refused(sobject, "X: y")
    assert refusal.code == code
    assert words in refusal.fix
    assert refusal.reason_text.endswith("Salesforce said: X: y")
