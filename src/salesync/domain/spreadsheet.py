"""Cells of CSV exports that a spreadsheet will not run as formulas (CSV injection)."""

from __future__ import annotations

#: A spreadsheet treats a cell starting with one of these as a formula (tab and carriage
#: return too: some programs strip them and then see the next character).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text that would start a formula gets a leading apostrophe; other values pass as they are.

    Numbers stay numbers: only text can carry a formula an attacker wrote (a Salesforce error
    message, a person's name).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[object]) -> list[object]:
    return [safe_cell(value) for value in values]
