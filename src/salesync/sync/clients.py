"""Builds a SalesforceClient for a stored connection: refreshing auth, stored tokens and limits."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from salesync.runtime import Runtime
from salesync.salesforce.auth import OAuthRefresher, RefreshingAuth
from salesync.salesforce.client import DEFAULT_TIMEOUT, SalesforceClient
from salesync.services.connections import (
    SerializedRefresher,
    StoredLimits,
    StoredTokens,
    oauth_config,
)
from salesync.store.tables import SalesforceConnection


@contextmanager
def open_client(
    runtime: Runtime, connection: SalesforceConnection, *, http: httpx.Client | None = None
) -> Iterator[SalesforceClient]:
    """A client acting as the connection's Salesforce user, closed when the block ends.

    ``http`` lets several clients share one connection pool; otherwise one is made here.
    """
    # Refresh against the host the connection was made with (a My Domain or test host).
    config = dataclasses.replace(
        oauth_config(runtime, connection.environment), login_url=connection.login_url
    )
    owned = http is None
    pool = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
    refresher = SerializedRefresher(runtime, connection.id, OAuthRefresher(config, pool))
    auth = RefreshingAuth(StoredTokens(runtime, connection.id), refresher)
    client = SalesforceClient(
        connection.instance_url,
        auth,
        api_version=runtime.settings.salesforce_api_version,
        http=pool,
        limits_sink=StoredLimits(runtime, connection.org_id),
    )
    try:
        yield client
    finally:
        if owned:
            pool.close()
