"""Salesforce clients for stored connections; they live in :mod:`salesync.salesforce_access`.

Kept so that workers importing ``open_client`` from here keep working.
"""

from __future__ import annotations

from salesync.salesforce_access import ConnectionClients, open_client

__all__ = ["ConnectionClients", "open_client"]
