"""The long operations of the command line: ``salesync people import`` and ``salesync
diagnostics retry``, with their progress bars and summaries."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from salesync.cli import app, csv_batches, parse_mapping_option
from salesync.errors import SalesyncError
from salesync.mail.testing import InMemoryMailer
from salesync.runtime import Runtime
from salesync.services import activities
from salesync.store import diagnostics as diagnostic_store
from salesync.store import outbox
from salesync.store.db import unit_of_work
from salesync.store.tables import OutboxItem, OutboxStatus, Person, User


@pytest.fixture
def env(runtime: Runtime, tmp_path: Path) -> dict[str, str]:
    """The environment that points the command line at the test's database."""
    settings = runtime.settings
    return {
        "SALESYNC_DATABASE_URL": settings.database_url,
        "SALESYNC_DATA_DIR": str(settings.data_dir),
        "SALESYNC_SECRET_KEY_FILE": str(settings.effective_secret_key_file),
        "COLUMNS": "120",
    }


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def _people(runtime: Runtime) -> dict[str, Person]:
    with runtime.sessions() as session:
        return {p.email or "": p for p in session.query(Person)}


def test_csv_batches_keep_the_header_and_the_row_numbers() -> None:
    content = 'Name;E-mail\r\nAda;ada@x.test\r\n\r\nBob;bob@x.test\r\n"Cy;\nD";cy@x.test\r\n'
    batches = csv_batches(content.encode(), 2)
    assert [(offset, filled) for offset, _, filled in batches] == [(0, 1), (2, 2)]
    assert batches[1][1].decode().splitlines()[0] == "Name;E-mail"
    assert '"Cy;\nD"' in batches[1][1].decode()


def test_mapping_option_takes_pairs_or_json() -> None:
    assert parse_mapping_option([]) is None
    assert parse_mapping_option(["E-mail = email", "Notes="]) == {"E-mail": "email", "Notes": ""}
    assert parse_mapping_option(['{"Mail": "email"}']) == {"Mail": "email"}
    with pytest.raises(SalesyncError, match="Column name=field"):
        parse_mapping_option(["just a column"])


def test_people_import_in_batches_reports_rows_as_the_file_numbers_them(
    runtime: Runtime, rep: User, env: dict[str, str], tmp_path: Path
) -> None:
    lines = ["First,E-mail Address,SFDC Contact"]
    lines += [f"Person {n},p{n}@acme.test," for n in range(450)]
    lines[402] = "Broken,not-an-email,"  # row 403 as a spreadsheet counts it
    lines[430] = "Bad id,p429@acme.test,00Q000000000001"
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = _run(
        env,
        "people",
        "import",
        str(csv_file),
        "--user",
        rep.email,
        "--mapping",
        "First=first_name",
        "--mapping",
        "E-mail Address=email",
        "--mapping",
        "SFDC Contact=sf_contact_id",
    )

    assert result.exit_code == 0, result.output
    assert "450 rows: 448 created, 0 updated, 2 rejected" in result.output
    assert "row 403: E-mail Address: 'not-an-email' is not a valid email address" in result.output
    assert "row 431: SFDC Contact:" in result.output
    assert "Importing people" in result.output
    stored = _people(runtime)
    assert len(stored) == 448
    assert stored["p449@acme.test"].first_name == "Person 449"
    assert stored["p0@acme.test"].owner_id == rep.id


def test_people_import_with_a_bad_mapping_writes_nothing(
    runtime: Runtime, rep: User, env: dict[str, str], tmp_path: Path
) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("Name,Mail\nAda,ada@acme.test\n", encoding="utf-8")
    result = _run(env, "people", "import", str(csv_file), "--user", rep.email)
    assert isinstance(result.exception, SalesyncError)
    assert "no column is mapped to email" in result.exception.message
    assert _people(runtime) == {}


def _unmatched(runtime: Runtime, user: User, to: str) -> int:
    draft = activities.EmailDraft(
        to=[activities.RecipientRef(email=to)], subject="Hello", body_text="Hi"
    )
    email_id = activities.send_email(runtime, user, draft, InMemoryMailer())
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        item = session.query(OutboxItem).filter_by(subject_type="email", subject_id=email_id).one()
        outbox.mark_failed(item, now=now, code="NO_MATCHING_RECORD", message="no match")
        diagnostic_store.record(
            session,
            team_id=user.team_id,
            user_id=user.id,
            item_type="email",
            item_id=email_id,
            outbox_id=item.id,
            code="NO_MATCHING_RECORD",
            category="unmatched",
            message="no match",
            now=now,
        )
    return email_id


def _statuses(runtime: Runtime, email_ids: list[int]) -> set[OutboxStatus]:
    with runtime.sessions() as session:
        rows = session.query(OutboxItem).filter(OutboxItem.subject_id.in_(email_ids))
        return {row.status for row in rows if row.subject_type == "email"}


def test_diagnostics_retry_of_a_group_requeues_and_follows_the_items(
    runtime: Runtime, rep: User, env: dict[str, str]
) -> None:
    ids = [_unmatched(runtime, rep, f"p{n}@acme.test") for n in range(2)]

    result = _run(
        env,
        "diagnostics",
        "retry",
        "--user",
        rep.email,
        "--code",
        "no_matching_record",
        "--wait",
        "1",
    )

    assert result.exit_code == 0, result.output
    assert "retried 2 items in 1 groups; 2 queued again" in result.output
    # No worker runs in this test: the items wait, and the command says who logs them.
    assert "0 logged, 0 failed again, 2 still waiting" in result.output
    assert "salesync worker" in result.output
    assert _statuses(runtime, ids) == {OutboxStatus.PENDING}


def test_diagnostics_retry_needs_a_choice_and_tells_when_nothing_matches(
    runtime: Runtime, rep: User, env: dict[str, str]
) -> None:
    refused = _run(env, "diagnostics", "retry", "--user", rep.email)
    assert isinstance(refused.exception, SalesyncError)
    assert "--all, or --code CODE" in refused.exception.message
    nothing = _run(env, "diagnostics", "retry", "--user", rep.email, "--all")
    assert nothing.exit_code == 0
    assert "Nothing to retry" in nothing.output
