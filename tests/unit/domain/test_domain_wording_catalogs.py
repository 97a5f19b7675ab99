"""The texts Python code marks with tr()/trn() read in every language the catalogs have."""

from __future__ import annotations

import pytest

from salesync.domain import error_catalog, object_access
from salesync.domain.own_codes import own_code
from salesync.domain.wording import Translatable, tr, trn
from salesync.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from salesync.i18n import translate
from salesync.salesforce.discovery import CheckLevel, SetupCheck
from salesync.store.diagnostics import message_detail, shown_message
from salesync.store.tables import DiagnosticEntry

LANGUAGES = ("ja", "zh-Hant", "de")


def test_a_text_with_values_is_translated_and_filled() -> None:
    text = tr("Salesforce refused the {object} lookup: {reason}", object="Lead", reason="nope")
    assert text == "Salesforce refused the Lead lookup: nope"
    assert translate(text, "ja") == "Salesforce が Lead の検索を拒否しました: nope"
    assert translate(text, "de") == "Salesforce hat die Suche in Lead abgelehnt: nope"
    assert translate(text, "zh-Hant") == "Salesforce 拒絕了 Lead 查詢：nope"


def test_a_plural_picks_the_form_of_each_language() -> None:
    one = trn(
        "Checked your org again: {count} problem.",
        "Checked your org again: {count} problems.",
        1,
    )
    many = trn(
        "Checked your org again: {count} problem.",
        "Checked your org again: {count} problems.",
        4,
    )
    assert (one, many) == (
        "Checked your org again: 1 problem.",
        "Checked your org again: 4 problems.",
    )
    assert translate(one, "de") == "Ihre Org wurde erneut geprüft: 1 Problem."
    assert translate(many, "de") == "Ihre Org wurde erneut geprüft: 4 Probleme."
    assert translate(many, "ja") == "組織を再確認しました: 問題 4 件。"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_entry_reads_in_the_language(language: str) -> None:
    for code in sorted(error_catalog.known_codes()):
        entry = error_catalog.lookup(code)
        for text in (entry.message, entry.cause, entry.fix):
            assert isinstance(text, Translatable), (code, text)
            assert translate(text, language) != str(text), (code, language, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_code_still_names_itself_in_the_language(language: str) -> None:
    entry = error_catalog.lookup("brand_new_code")
    assert entry.message == "Salesforce reported BRAND_NEW_CODE."
    shown = translate(entry.message, language)
    assert "BRAND_NEW_CODE" in shown and shown != entry.message


def test_own_codes_and_access_problems_are_translated() -> None:
    own = own_code("NOT_CONNECTED")
    assert own is not None
    assert translate(own.fix, "ja").startswith("設定 > マイアカウント > Salesforce > 接続")
    refused = object_access.access_refused("Lead", "INSUFFICIENT_ACCESS")
    assert refused.reason_text.endswith("Salesforce said: INSUFFICIENT_ACCESS")
    assert translate(refused.reason_text, "de").endswith("Salesforce meldete: INSUFFICIENT_ACCESS")


def test_a_stored_entry_keeps_what_translates_its_message() -> None:
    message = tr("Your mailbox cannot be read: {reason}", reason="LOGIN failed")
    entry = DiagnosticEntry(message=str(message), detail=message_detail(message, {"a": 1}))
    shown = shown_message(entry)
    assert shown == "Your mailbox cannot be read: LOGIN failed"
    assert translate(shown, "ja") == "メールボックスを読み取れません: LOGIN failed"
    # A message from elsewhere (Salesforce's own words) is shown as it was stored.
    plain = DiagnosticEntry(message="FIELD_X: bad", detail=message_detail("FIELD_X: bad"))
    assert shown_message(plain) == "FIELD_X: bad" and not isinstance(
        shown_message(plain), Translatable
    )


def test_a_setup_check_keeps_its_wording_through_json() -> None:
    check = SetupCheck(
        key="external_id",
        level=CheckLevel.OK,
        text=tr("{field} makes logging idempotent.", field="Sync_Id__c"),
    )
    stored = check.model_dump(mode="json")
    assert stored["text"] == "Sync_Id__c makes logging idempotent."
    again = Translatable.from_json(stored["text_i18n"])
    assert translate(again, "de") == "Sync_Id__c macht das Protokollieren idempotent."


@pytest.mark.parametrize(
    ("error", "english"),
    [
        (NotFound(), "Not found."),
        (PermissionDenied(), "You are not allowed to do this."),
        (InvalidInput(), "The input is invalid; nothing was changed."),
        (Conflict(), "The request conflicts with the current state."),
    ],
)
def test_default_error_messages_are_marked(error: Exception, english: str) -> None:
    message = error.message  # type: ignore[attr-defined]
    assert message == english
    assert isinstance(message, Translatable)
    assert translate(message, "ja") != english
