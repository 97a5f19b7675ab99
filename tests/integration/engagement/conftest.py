"""Fixtures of the engagement tests: the web app's (served over HTTP) and the sandbox's."""

from __future__ import annotations

from tests.integration.web.web_support import admin, app, rep, runtime, server

__all__ = ["admin", "app", "rep", "runtime", "server"]
