"""Fixtures of the web app tests."""

from __future__ import annotations

from tests.integration.web.web_support import admin, app, other_team, rep, runtime, server

__all__ = ["admin", "app", "other_team", "rep", "runtime", "server"]
