"""The Dovecot fixture for the mailbox sync tests."""

from __future__ import annotations

from tests.fixtures_imap import dovecot

__all__ = ["dovecot"]
