"""Bulk API 2.0 query jobs (API-FACTS §9): job state, CSV results and locators.

A job is created ``UploadComplete``, moves to ``InProgress`` and then ``JobComplete`` once
``ready_at`` has passed on the sandbox clock (``processing_seconds`` after creation, set on
the control plane; 0 completes it at the first look). The query runs then, as the job's
creator; results are served in pages of ``maxRecords`` rows behind an opaque locator.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

#: API-FACTS §9.1: the delimiter and line-ending enums and their characters.
DELIMITERS = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
OPERATIONS = ("query", "queryAll")
TERMINAL = ("JobComplete", "Failed", "Aborted")
#: API-FACTS §9.4: terminal jobs are deleted after 7 days.
RESULTS_LIFESPAN = timedelta(days=7)
#: Rows per results page when the client gives no maxRecords.
DEFAULT_MAX_RECORDS = 50_000


@dataclass
class BulkQueryJob:
    id: str
    operation: str
    object: str
    query: str
    created_by: str
    created_at: datetime
    api_version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    state: str = "UploadComplete"
    ready_at: datetime | None = None
    finished_at: datetime | None = None
    error_message: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)

    def info(self, format_datetime: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": format_datetime(self.created_at),
            "systemModstamp": format_datetime(self.finished_at or self.created_at),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.rows),
            "retries": 0,
            "totalProcessingTime": 0,
            "isPkChunkingSupported": True,
        }
        if self.error_message is not None:
            body["errorMessage"] = self.error_message
        return body

    def page(self, offset: int, max_records: int) -> tuple[bytes, int, str]:
        """CSV bytes of rows ``offset..offset+max_records``, the row count, the next locator
        (``"null"`` on the last page)."""
        rows = self.rows[offset : offset + max_records]
        out = io.StringIO()
        delimiter = DELIMITERS[self.column_delimiter]
        ending = LINE_ENDINGS[self.line_ending]
        writer = csv.writer(out, delimiter=delimiter, lineterminator=ending, quoting=csv.QUOTE_ALL)
        writer.writerow(self.columns)
        for row in rows:
            # A null is an empty field (not quoted); every value is quoted.
            out.write(delimiter.join(_quoted(v) for v in row) + ending)
        end = offset + len(rows)
        locator = encode_locator(end) if end < len(self.rows) else "null"
        return out.getvalue().encode(), len(rows), locator


def _quoted(value: str | None) -> str:
    if value is None:
        return ""
    return '"' + value.replace('"', '""') + '"'


def encode_locator(offset: int) -> str:
    """Opaque like Salesforce's (v49.0+: ``MTAwMDA``): base64 of the offset."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def flatten(record: dict[str, Any], columns: list[str]) -> list[str | None]:
    """A SOQL wire record as CSV values: dotted relationship columns, nulls as None."""
    values: list[str | None] = []
    for column in columns:
        value: Any = record
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            values.append(None)
        elif isinstance(value, bool):
            values.append("true" if value else "false")
        else:
            values.append(str(value))
    return values


@dataclass
class BulkJobBook:
    """The org's query jobs (not persisted) and their processing delay."""

    jobs: dict[str, BulkQueryJob] = field(default_factory=dict)
    processing_seconds: float = 0.0
    #: Jobs created so far (Bulk API 2.0 query jobs per 24 h are capped: DailyBulkV2QueryJobs).
    created: int = 0

    def add(self, job: BulkQueryJob) -> None:
        job.ready_at = job.created_at + timedelta(seconds=self.processing_seconds)
        self.jobs[job.id] = job
        self.created += 1

    def expire(self, now: datetime) -> None:
        for job_id in [
            j.id
            for j in self.jobs.values()
            if j.finished_at is not None and now - j.finished_at > RESULTS_LIFESPAN
        ]:
            del self.jobs[job_id]
