"""The people service's pure rules: Salesforce id checks, field cleaning, column mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.errors import InvalidInput
from salesync.services.people import (
    SF_ID_PREFIXES,
    clean_salesforce_id,
    clean_values,
    default_mapping,
    resolve_mapping,
)

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize(
    ("field", "given_id", "expected"),
    [
        ("sf_contact_id", "003000000000001", "003000000000001AAA"),
        ("sf_contact_id", "003000000000001aaa", "003000000000001AAA"),
        ("sf_lead_id", "00Q000000000001", "00Q000000000001EAA"),
        ("sf_lead_id", "00q000000000001eaa", "00Q000000000001EAA"),
        ("sf_account_id", " 001000000000001 ", "001000000000001AAA"),
        ("sf_opportunity_id", "", None),
    ],
)
def test_ids_are_given_their_18_character_form(
    field: str, given_id: str, expected: str | None
) -> None:
    assert clean_salesforce_id(field, given_id) == expected


@pytest.mark.parametrize(
    ("field", "given_id", "words"),
    [
        ("sf_lead_id", "003000000000001", "is a Contact id; a Lead id starts with 00Q"),
        ("sf_contact_id", "00T000000000001", "is a Task id"),
        ("sf_account_id", "a0BA0000000L2ZC", "key prefix a0B"),
        ("sf_contact_id", "003000000000001AAB", "last 3 characters do not match"),
        ("sf_contact_id", "00300000000001", "15 or 18 letters and digits"),
        ("sf_contact_id", "003 00000000001", "15 or 18 letters and digits"),
        ("sf_contact_id", "003ÄÖÜ000000001", "15 or 18 letters and digits"),
        # A 15-character id is case-sensitive: "00q" is not the Lead prefix.
        ("sf_lead_id", "00q000000000001", "key prefix 00q"),
    ],
)
def test_bad_ids_are_refused_with_the_reason(field: str, given_id: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        clean_salesforce_id(field, given_id)


@given(st.sampled_from(sorted(SF_ID_PREFIXES)), st.text(ALPHANUMERIC, min_size=12, max_size=12))
def test_any_15_character_id_round_trips_through_both_forms(field: str, tail: str) -> None:
    id15 = SF_ID_PREFIXES[field] + tail
    id18 = clean_salesforce_id(field, id15)
    assert id18 is not None and id18[:15] == id15 and len(id18) == 18
    assert clean_salesforce_id(field, id18.upper()) == id18
    assert clean_salesforce_id(field, id18.lower()) == id18


def test_clean_values_strips_text_and_collects_every_problem() -> None:
    cleaned, problems = clean_values(
        {"first_name": "  Ada ", "email": "", "phone": "x" * 60, "sf_lead_id": "bad", "age": "3"}
    )
    assert cleaned == {"first_name": "Ada", "email": None}
    assert [p.field for p in problems] == ["phone", "sf_lead_id", "age"]


def test_default_mapping_matches_column_names_loosely() -> None:
    header = ["E-Mail", "First Name", "SF Contact ID", "sf_account_id", "Notes"]
    assert default_mapping(header) == {
        "E-Mail": "email",
        "First Name": "first_name",
        "SF Contact ID": "sf_contact_id",
        "sf_account_id": "sf_account_id",
    }


def test_resolve_mapping_gives_positions_and_ignores_unmapped_columns() -> None:
    header = ["Notes", "EMAIL", "Contact"]
    mapping = {"email": "email", "Contact": "sf_contact_id", "Notes": ""}
    assert resolve_mapping(header, mapping) == {"email": 1, "sf_contact_id": 2}


def test_resolve_mapping_names_every_problem() -> None:
    with pytest.raises(InvalidInput) as info:
        resolve_mapping(["A", "B"], {"A": "shoe_size", "C": "email"})
    assert info.value.field == "mapping"
    assert "shoe_size" in info.value.message
    assert "no column 'C'" in info.value.message
    assert "no column is mapped to email" in info.value.message
