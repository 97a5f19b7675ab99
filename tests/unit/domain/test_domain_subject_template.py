"""Activity Detail Customization template rules (API-6, API-7, TASK-5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain.subject_template import (
    DEFAULT_TEMPLATE,
    SUBJECT_MAX_LENGTH,
    render_subject,
    reply_subject,
    strip_reply_prefixes,
    uses_activity_subject,
    validate_template,
)

EMAIL_VALUES = {"activity_type": "Email", "activity_subject": "Pricing for Q3"}


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        (DEFAULT_TEMPLATE, EMAIL_VALUES, "Email: Pricing for Q3"),
        (
            "[Sales Insight Actions] - {{Activity_type}}",
            EMAIL_VALUES,
            "[Sales Insight Actions] - Email",
        ),
        ("{{ACTIVITY_SUBJECT}}", EMAIL_VALUES, "Pricing for Q3"),
        ("{{ activity_subject }}", EMAIL_VALUES, "Pricing for Q3"),
        ("{{activity_type}} {{call_outcome}}", {"activity_type": "Call"}, "Call"),
        ("{{call_outcome}}|{{call_reason}}", {"call_outcome": None, "call_reason": ""}, "|"),
        (
            "{{sales_campaign_name}} day {{sales_campaign_day}} step {{sales_campaign_step}}",
            {"sales_campaign_name": "Q3", "sales_campaign_day": "2", "sales_campaign_step": "4"},
            "Q3 day 2 step 4",
        ),
        (
            "{{activity_subject}}",
            {"Activity_Subject": "keys match any case"},
            "keys match any case",
        ),
        ("{{actvity_type}}: x", EMAIL_VALUES, "{{actvity_type}}: x"),  # typo stays visible
        (
            "Line one\nline two\r\n{{activity_subject}}",
            EMAIL_VALUES,
            "Line one line two Pricing for Q3",
        ),
        (DEFAULT_TEMPLATE, {"activity_type": "Email", "activity_subject": "a\r\nb"}, "Email: a b"),
        ("no fields at all", {}, "no fields at all"),
    ],
)
def test_render_subject(template: str, values: dict[str, str | None], expected: str) -> None:
    assert render_subject(template, values) == expected


def test_render_subject_cuts_to_255_characters() -> None:
    long_subject = "x" * 300
    rendered = render_subject(
        DEFAULT_TEMPLATE, {"activity_type": "Email", "activity_subject": long_subject}
    )
    assert len(rendered) == SUBJECT_MAX_LENGTH
    assert rendered.startswith("Email: xxx")


@pytest.mark.parametrize(
    ("template", "unknown"),
    [
        (DEFAULT_TEMPLATE, ()),
        ("{{Activity_Type}} {{CALL_REASON}}", ()),
        ("{{activity_typ}} {{foo}} {{FOO}}", ("activity_typ", "foo")),
        ("{single} {{}} plain", ()),
    ],
)
def test_validate_template_lists_unknown_fields(template: str, unknown: tuple[str, ...]) -> None:
    assert validate_template(template) == unknown


@pytest.mark.parametrize(
    ("template", "uses"),
    [
        (DEFAULT_TEMPLATE, True),
        ("{{Activity_Subject}}", True),
        ("[SIA] - {{activity_type}}", False),
        ("activity_subject", False),
    ],
)
def test_uses_activity_subject(template: str, uses: bool) -> None:
    assert uses_activity_subject(template) is uses


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Pricing for Q3", "Reply: Pricing for Q3"),
        ("two\nlines", "Reply: two lines"),
        (None, "Reply:"),
    ],
)
def test_reply_subject(subject: str | None, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_reply_subject_is_cut_to_255() -> None:
    assert len(reply_subject("y" * 400)) == SUBJECT_MAX_LENGTH


@given(
    st.text(),
    st.dictionaries(
        st.sampled_from(["activity_type", "activity_subject", "call_reason"]), st.text()
    ),
)
def test_rendered_subjects_are_one_line_and_fit(template: str, values: dict[str, str]) -> None:
    rendered = render_subject(template, values)
    assert len(rendered) <= SUBJECT_MAX_LENGTH
    assert "\n" not in rendered and "\r" not in rendered


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Intro", "Intro"),
        ("RE: Intro", "Intro"),
        ("re:Intro", "Intro"),
        ("AW: Intro", "Intro"),
        ("SV: Intro", "Intro"),
        ("Vs: Intro", "Intro"),
        ("Antw: Intro", "Intro"),
        ("回复: Intro", "Intro"),
        ("回复：Intro", "Intro"),
        ("返信: Intro", "Intro"),
        ("Re[2]: Intro", "Intro"),
        ("Re (3): Intro", "Intro"),
        ("Re: AW: RE: Intro", "Intro"),
        ("  Re:   Intro  ", "Intro"),
        ("Intro", "Intro"),
        ("Regarding: pricing", "Regarding: pricing"),
        ("Fwd: Intro", "Fwd: Intro"),
        ("Recap: Intro", "Recap: Intro"),
        ("Intro Re: later", "Intro Re: later"),
        ("Re:", ""),
        ("", ""),
    ],
)
def test_strip_reply_prefixes(subject: str, expected: str) -> None:
    assert strip_reply_prefixes(subject) == expected


@pytest.mark.parametrize("marker", ["Re:", "RE:", "AW:", "SV:", "回复:", "返信:"])
def test_reply_subject_never_repeats_a_reply_marker(marker: str) -> None:
    assert reply_subject(f"{marker} Intro") == "Reply: Intro"


@given(st.text(max_size=60))
def test_stripping_is_idempotent(subject: str) -> None:
    once = strip_reply_prefixes(subject)
    assert strip_reply_prefixes(once) == once
