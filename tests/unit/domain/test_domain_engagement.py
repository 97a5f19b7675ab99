"""Pure rules of email templates, tracking tokens, machine opens, engagement fields and the
opt-out schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain import (
    engagement_fields,
    machine_opens,
    merge_fields,
    opt_out_schedule,
    tracking_body,
    tracking_tokens,
)
from salesync.domain.tracking_tokens import TrackingToken

KEY = b"k" * 32
SENT = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)

# --- merge fields ------------------------------------------------------------------------------

VALUES = merge_fields.MergeValues(
    first_name="Dana",
    last_name="Diaz",
    email="dana@example.com",
    company="Acme",
    sender_name="Rep Number1",
    sender_email="rep1@salesync.test",
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {{first_name}}", "Hi Dana"),
        ("Hi {{ First_Name }}", "Hi Dana"),
        ("{{full_name}} at {{company}}", "Dana Diaz at Acme"),
        ("{{title|there}}", "there"),
        ("{{company|there}}", "Acme"),
        ("From {{sender_first_name}} <{{sender_email}}>", "From Rep <rep1@salesync.test>"),
        ("no fields {single braces}", "no fields {single braces}"),
        ("{{title}}.", "."),
    ],
)
def test_merge_fields_render(template: str, expected: str) -> None:
    assert merge_fields.render(template, VALUES) == expected


def test_an_unknown_merge_field_is_refused_with_its_name() -> None:
    with pytest.raises(merge_fields.UnknownMergeFields) as raised:
        merge_fields.render("Hi {{first_name}} from {{favourite_color}} and {{x}}", VALUES)
    assert raised.value.names == ("favourite_color", "x")
    assert "favourite_color" in str(raised.value)


def test_unknown_fields_lists_each_once() -> None:
    assert merge_fields.unknown_fields("{{a}} {{a}}", "{{b}} {{first_name}}") == ("a", "b")
    assert merge_fields.unknown_fields("{{ __class__ }}") == ("__class__",)


@given(st.text())
def test_text_without_fields_is_unchanged(text: str) -> None:
    if "{{" not in text:
        assert merge_fields.render(text, VALUES) == text


# --- tokens ------------------------------------------------------------------------------------


@given(
    st.sampled_from(["o", "c", "u"]),
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
)
def test_a_signed_token_verifies_to_itself(purpose: str, email_id: int, item: int) -> None:
    token = TrackingToken(purpose, email_id, item)
    assert tracking_tokens.verify(tracking_tokens.sign(token, KEY), KEY) == token


def test_an_altered_token_or_another_key_is_refused() -> None:
    signed = tracking_tokens.sign(TrackingToken("c", 41, 0), KEY)
    altered = signed.replace("c41.", "c42.", 1)
    assert tracking_tokens.verify(altered, KEY) is None
    assert tracking_tokens.verify(signed, b"x" * 32) is None
    assert tracking_tokens.verify(signed[:-1], KEY) is None
    for junk in ("", ".", "c1.0", "c1.0.", "o" * 200, "https://evil.example/"):
        assert tracking_tokens.verify(junk, KEY) is None


@given(st.text(max_size=120))
def test_random_text_is_never_a_token(text: str) -> None:
    assert tracking_tokens.verify(text, KEY) is None


# --- tracked bodies ----------------------------------------------------------------------------


def test_links_are_rewritten_and_the_pixel_added() -> None:
    text = "See https://acme.example/pricing, and https://acme.example/pricing again.\n<b>x</b>"
    body = tracking_body.tracked_body(text, lambda i: f"https://t/c/{i}", "https://t/o.gif")
    assert body.links == ("https://acme.example/pricing",)
    assert body.text == "See https://t/c/0, and https://t/c/0 again.\n<b>x</b>"
    assert '<a href="https://t/c/0">https://acme.example/pricing</a>' in body.html
    assert "&lt;b&gt;x&lt;/b&gt;" in body.html
    assert '<img src="https://t/o.gif"' in body.html


def test_find_links_leaves_trailing_punctuation_out() -> None:
    assert tracking_body.find_links("(https://a.example/x). http://b.example/y?q=1!") == (
        "https://a.example/x",
        "http://b.example/y?q=1",
    )


# --- machines ----------------------------------------------------------------------------------

HUMAN_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari"
LATER = SENT + dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("kind", "agent", "ip", "at", "machine"),
    [
        ("open", HUMAN_AGENT, "198.51.100.7", LATER, None),
        ("click", HUMAN_AGENT, "198.51.100.7", LATER, None),
        (
            "open",
            "Mozilla/5.0 (via ggpht.com GoogleImageProxy)",
            "66.249.1.1",
            LATER,
            "privacy_proxy",
        ),
        ("open", "Mozilla/5.0", "17.58.1.2", LATER, "privacy_proxy"),
        ("open", "YahooMailProxy; https://help.yahoo.com", "1.2.3.4", LATER, "privacy_proxy"),
        ("click", "Mozilla/5.0 Barracuda", "1.2.3.4", LATER, "link_scanner"),
        ("click", HUMAN_AGENT, "40.107.22.1", LATER, "link_scanner"),
        ("click", "python-requests/2.31", "1.2.3.4", LATER, "link_scanner"),
        ("click", HUMAN_AGENT, "198.51.100.7", SENT + dt.timedelta(seconds=3), "link_scanner"),
        ("open", HUMAN_AGENT, "198.51.100.7", SENT + dt.timedelta(seconds=1), "privacy_proxy"),
        ("click", "", "198.51.100.7", LATER, "link_scanner"),
        ("open", HUMAN_AGENT, "not an ip", LATER, None),
    ],
)
def test_machine_classification(
    kind: str, agent: str, ip: str, at: dt.datetime, machine: str | None
) -> None:
    verdict = machine_opens.classify(kind, agent, ip, at, SENT)
    assert verdict.machine == machine
    assert (verdict.reason is None) == (machine is None)


# --- engagement fields -------------------------------------------------------------------------


def test_task_values_follow_the_engagement() -> None:
    state = engagement_fields.EngagementState("Pricing", SENT)
    assert engagement_fields.task_values(state) == {
        "viewed": False,
        "clicked": False,
        "replied": False,
        "email_status": "sent",
    }
    opened = engagement_fields.EngagementState(
        "Pricing", SENT, opens=2, last_open_at=LATER, email_url="https://s/activity#email-1"
    )
    assert engagement_fields.task_values(opened)["email_status"] == "opened"
    assert engagement_fields.task_values(opened)["email_url"] == "https://s/activity#email-1"
    clicked = engagement_fields.EngagementState("P", SENT, opens=1, clicks=1, last_click_at=LATER)
    assert engagement_fields.task_values(clicked)["clicked"] is True
    assert engagement_fields.email_status(clicked) == "clicked"
    replied = engagement_fields.EngagementState("P", SENT, replied_at=LATER)
    assert engagement_fields.email_status(replied) == "replied"


def test_rollup_values_name_the_latest_engagement() -> None:
    state = engagement_fields.EngagementState(
        "Pricing",
        SENT,
        opens=1,
        last_open_at=SENT + dt.timedelta(hours=1),
        clicks=1,
        last_click_at=SENT + dt.timedelta(hours=2),
    )
    values = engagement_fields.rollup_values(state)
    assert values["last_sales_activity"] == "Email: Pricing"
    assert values["last_sales_activity_date"] == "2026-12-01T16:00:00.000+0000"
    assert values["last_sales_engagement"] == "Clicked: Pricing"
    assert values["last_sales_engagement_date"] == "2026-12-01T18:00:00.000+0000"
    assert "last_replied" not in values
    sent_only = engagement_fields.rollup_values(engagement_fields.EngagementState("x", SENT))
    assert set(sent_only) == {"last_sales_activity", "last_sales_activity_date"}


def test_newer_rollup_keeps_the_later_value_of_each_date() -> None:
    early = {"last_sales_activity": "Email: a", "last_sales_activity_date": "2026-01-01T00:00:00"}
    late = {"last_sales_activity": "Email: b", "last_sales_activity_date": "2026-02-01T00:00:00"}
    assert engagement_fields.newer_rollup(early, late)["last_sales_activity"] == "Email: b"
    assert engagement_fields.newer_rollup(late, early)["last_sales_activity"] == "Email: b"
    assert engagement_fields.newer_rollup({}, early) == early


def test_fingerprint_is_stable_and_sensitive() -> None:
    a = engagement_fields.fingerprint({"x": 1, "y": True})
    assert a == engagement_fields.fingerprint({"y": True, "x": 1})
    assert a != engagement_fields.fingerprint({"x": 1, "y": False})


def test_rollup_map_checked_against_the_org() -> None:
    good = {
        name: ("datetime" if key.endswith(("date", "replied")) else "string", True)
        for key, name in engagement_fields.DEFAULT_ROLLUP_FIELDS.items()
    }
    described = {sobject: dict(good) for sobject in engagement_fields.ROLLUP_OBJECTS}
    defaults = dict(engagement_fields.DEFAULT_ROLLUP_FIELDS)
    assert engagement_fields.check_rollup_map(defaults, described) == {}
    described["Lead"].pop("Salesync_Last_Replied__c")
    described["Contact"]["Salesync_Last_Replied__c"] = ("string", True)
    described["Account"]["Salesync_Last_Replied__c"] = ("datetime", False)
    problems = engagement_fields.check_rollup_map({**defaults, "nonsense": "X__c"}, described)
    assert problems == {
        "nonsense": "nonsense is not a roll-up salesync writes",
        "Lead.last_replied": "Lead has no field Salesync_Last_Replied__c",
        "Contact.last_replied": (
            "Contact.Salesync_Last_Replied__c is a string field; last_replied needs datetime"
        ),
        "Account.last_replied": "Account.Salesync_Last_Replied__c is not editable",
    }


# --- opt-out schedule --------------------------------------------------------------------------

LA = "America/Los_Angeles"


def test_the_daily_pull_is_due_after_eight_pm_pacific() -> None:
    before = dt.datetime(2026, 12, 2, 3, 59, tzinfo=dt.UTC)  # 19:59 PST on Dec 1
    after = dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)  # 20:00 PST
    last = dt.datetime(2026, 12, 1, 4, 30, tzinfo=dt.UTC)  # the previous evening's pull
    assert not opt_out_schedule.pull_due(before, last, "20:00", LA)
    assert opt_out_schedule.pull_due(after, last, "20:00", LA)
    assert not opt_out_schedule.pull_due(after, after, "20:00", LA)
    assert opt_out_schedule.pull_due(before, None, "20:00", LA)


def test_the_slot_follows_daylight_saving_time() -> None:
    summer = dt.datetime(2026, 7, 2, 12, 0, tzinfo=dt.UTC)
    assert opt_out_schedule.latest_slot(summer, "20:00", LA) == dt.datetime(
        2026, 7, 2, 3, 0, tzinfo=dt.UTC
    )


@pytest.mark.parametrize("text", ["24:00", "8pm", "20:0", ""])
def test_bad_pull_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        opt_out_schedule.parse_pull_time(text)


def test_a_bad_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        opt_out_schedule.check_zone("Mars/Olympus")
