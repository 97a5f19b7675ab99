"""``python -m salesync`` runs the command line."""

from __future__ import annotations

from salesync.cli import main

main()
