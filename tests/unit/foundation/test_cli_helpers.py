"""Pure helpers behind the command line's messages: misspelt variables, worker progress."""

from __future__ import annotations

from salesync.settings import misspelt_variables
from salesync.store.tables import OutboxStatus
from salesync.worker_progress import progress_line


def _counts(**values: int) -> dict[OutboxStatus, int]:
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(name): value for name, value in values.items()})
    return counts


def test_known_and_foreign_variables_are_not_warned_about() -> None:
    environ = {
        "SALESYNC_SMTP_PORT": "25",
        "SALESYNC_NEW_USER_PASSWORD": "x",
        "SALESYNC_TEST_POSTGRES_URL": "x",
        "PATH": "/bin",
        "SALESYNC": "x",
    }
    assert misspelt_variables(environ) == []


def test_a_typo_names_the_closest_setting() -> None:
    assert misspelt_variables({"SALESYNC_SMTP_PROT": "25"}) == [
        "SALESYNC_SMTP_PROT is not a salesync setting and is ignored; "
        "did you mean SALESYNC_SMTP_PORT?"
    ]


def test_a_name_close_to_nothing_gets_no_guess() -> None:
    assert misspelt_variables({"SALESYNC_ZZZZZZZZZZ": "1"}) == [
        "SALESYNC_ZZZZZZZZZZ is not a salesync setting and is ignored"
    ]


def test_progress_is_silent_while_the_queue_stands_still() -> None:
    assert progress_line(_counts(done=3), _counts(done=3)) is None


def test_progress_counts_what_moved_since_the_last_look() -> None:
    before = _counts(done=3, failed=1, pending=5)
    after = _counts(done=6, failed=2, pending=1, in_flight=1, paused=2)
    assert progress_line(before, after) == (
        "3 sent to Salesforce, 1 failed (see Diagnostics), 2 waiting, "
        "2 paused until their owner reconnects"
    )
