"""A Salesforce-compatible org served over HTTP, for demos and integration tests.

Entry points: ``salesync.sandbox.org.Org`` (the org), ``salesync.sandbox.app.create_sandbox_app``
(its ASGI app) and ``salesync.sandbox.run.run_sandbox`` (serve it with uvicorn).
"""

from __future__ import annotations
