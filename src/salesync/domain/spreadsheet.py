"""CSV files from spreadsheets: reading an imported file, and cells of CSV exports that a
spreadsheet will not run as formulas (CSV injection)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from salesync.domain.wording import tr
from salesync.errors import InvalidInput

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


# -- reading an imported file ----------------------------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    """An imported file: its column names and the rows that hold something."""

    header: list[str]
    #: (row number as a spreadsheet shows it, the header being row 1; cells) of each row.
    records: list[tuple[int, list[str]]]


def decode(content: bytes, *, max_bytes: int) -> str:
    """The file as text: UTF-8, with or without a byte order mark (Excel writes one)."""
    if len(content) > max_bytes:
        raise InvalidInput(
            tr("is larger than {value} MB", value=max_bytes // (1024 * 1024)), field="file"
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(tr("is not UTF-8 text; save the CSV as UTF-8"), field="file") from None


def delimiter(text: str) -> str:
    """Comma unless the header line holds more semicolons or tabs (spreadsheet exports)."""
    first_line = text.split("\n", 1)[0]
    return max([",", ";", "\t"], key=first_line.count)


def read_csv(content: bytes, *, max_bytes: int, max_rows: int) -> CsvTable:
    """Read an uploaded CSV file; raises InvalidInput (field ``file``) when it is unusable:
    too large, not UTF-8, not CSV, without a header line or with more than ``max_rows`` rows.
    Blank rows are skipped but keep their place in the row numbers."""
    text = decode(content, max_bytes=max_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(
            tr("is not valid CSV near line {line}: {reason}", line=reader.line_num, reason=exc),
            field="file",
        ) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InvalidInput(tr("is empty: the first line must name the columns"), field="file")
    records = [
        (number, cells)
        for number, cells in enumerate(rows[1:], start=2)
        if any(c.strip() for c in cells)
    ]
    if len(records) > max_rows:
        raise InvalidInput(
            tr("has more than {max_import_rows} rows; split it", max_import_rows=max_rows),
            field="file",
        )
    return CsvTable([cell.strip() for cell in rows[0]], records)


def column_key(name: str) -> str:
    """Letters and digits only: "E-mail", "First Name" and "SF Lead ID" match field names."""
    return "".join(char for char in name.lower() if char.isalnum())


def cell(cells: list[str], position: int) -> str:
    """The stripped cell at ``position``; a short row's missing cells are empty."""
    return cells[position].strip() if position < len(cells) else ""
