"""A real IMAP server for tests: Debian's Dovecot, started as the current user in a temp dir.

See ``salesync.mailbox.local_dovecot``. A machine without Dovecot fails these tests with the
command that installs it: they are never skipped.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesync.mailbox.local_dovecot import INSTALL_HINT, Dovecot, installed, make_dovecot

__all__ = ["Dovecot", "dovecot"]


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    # Straight under /tmp: Dovecot's own users must reach the files (pytest's temp folders
    # are private to us when we are root), and its unix socket paths have a length limit.
    if not installed():
        pytest.fail(INSTALL_HINT, pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="salesync-dovecot-"))
    try:
        server = make_dovecot(root)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
