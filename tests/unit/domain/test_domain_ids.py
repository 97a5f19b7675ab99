"""Salesforce id rules: 15/18-character forms, checksum, key prefixes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesync.domain import ids

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
id15s = st.text(alphabet=ALNUM, min_size=15, max_size=15)


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("a0BA0000000L2ZC", "a0BA0000000L2ZCMA0"),  # API-FACTS §2.13 test vector
        ("000000000000000", "000000000000000AAA"),
        ("AAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAA555"),
        ("00Q5g000001abcD", "00Q5g000001abcDEAQ"),
    ],
)
def test_to_18_appends_the_case_checksum(id15: str, id18: str) -> None:
    assert ids.to_18(id15) == id18


@pytest.mark.parametrize("bad", ["", "a0BA0000000L2Z", "a0BA0000000L2ZCM", "a0BA0000000L2Z!"])
def test_to_18_refuses_anything_but_15_alphanumerics(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.to_18(bad)


@pytest.mark.parametrize(
    "given_id",
    [
        "a0BA0000000L2ZC",
        "a0BA0000000L2ZCMA0",
        "a0ba0000000l2zcma0",
        "A0BA0000000L2ZCMA0",
        "a0BA0000000L2ZCma0",
        "  a0BA0000000L2ZCMA0 ",
    ],
)
def test_normalize_gives_the_canonical_18_char_id(given_id: str) -> None:
    assert ids.normalize(given_id) == "a0BA0000000L2ZCMA0"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "a0BA0000000L2Z",  # 14
        "a0BA0000000L2ZCM",  # 16
        "a0BA0000000L2ZCMA",  # 17
        "a0BA0000000L2ZCMA0X",  # 19
        "a0BA0000000L2ZCMA1",  # checksum says the 11th char is not a capital
        "a0BA0000000L2ZCM99",  # 9 is outside the checksum alphabet
        "a0BA0000000L2Z-MA0",
        "00T5g00000ABCDÉ",
    ],
)
def test_normalize_refuses_malformed_ids(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.normalize(bad)
    assert not ids.is_valid_id(bad)


@pytest.mark.parametrize("value", [None, 15, b"a0BA0000000L2ZC"])
def test_is_valid_id_is_false_for_non_strings(value: object) -> None:
    assert not ids.is_valid_id(value)


@pytest.mark.parametrize(
    ("record_id", "sobject"),
    [
        ("00T5g00000ABCDE", "Task"),
        ("0035g00000ABCDE", "Contact"),
        ("00Q5g00000ABCDE", "Lead"),
        ("0015g00000ABCDE", "Account"),
        ("0065g00000ABCDE", "Opportunity"),
        ("0055g00000ABCDE", "User"),
        ("00k5g00000ABCDE", "OpportunityContactRole"),
        ("00K5g00000ABCDE", None),  # key prefixes are case-sensitive
        ("a0BA0000000L2ZC", None),
    ],
)
def test_object_type_reads_the_key_prefix(record_id: str, sobject: str | None) -> None:
    assert ids.object_type(record_id) == sobject


def test_object_type_uses_the_case_restored_prefix_of_an_18_char_id() -> None:
    lower_cased = ids.to_18("00k5g00000ABCDE").lower()
    assert ids.object_type(lower_cased) == "OpportunityContactRole"


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("a0BA0000000L2ZC", "a0BA0000000L2ZCMA0", True),
        ("a0ba0000000l2zcma0", "a0BA0000000L2ZC", True),
        ("a0BA0000000L2ZC", "a0bA0000000L2ZC", False),  # 15-char ids are case-sensitive
        ("a0BA0000000L2ZC", None, False),
        (None, None, False),
        ("not-an-id", "not-an-id", False),
    ],
)
def test_same_id(first: str | None, second: str | None, same: bool) -> None:
    assert ids.same_id(first, second) is same


@given(id15s)
def test_an_18_char_id_survives_any_change_of_case(id15: str) -> None:
    id18 = ids.to_18(id15)
    assert ids.normalize(id18.lower()) == id18
    assert ids.normalize(id18.upper()) == id18
    assert ids.normalize(id18) == id18
    assert ids.same_id(id15, id18.swapcase())


@given(id15s, id15s)
def test_distinct_15_char_ids_have_distinct_18_char_forms(first: str, second: str) -> None:
    assert (ids.to_18(first) == ids.to_18(second)) is (first == second)
