"""Salesforce clients for stored connections: refreshing auth, stored tokens and limits.

Both the services (setup checks, people lookups, BCC) and the sync workers talk to Salesforce
as a connection's user; this module is what they share, so that services never import the
workers. :class:`ConnectionClients` keeps one Salesforce client per connection for the life of
a worker, all over one keep-alive HTTP/1.1 connection pool: consecutive batches, and the reps
of one org, reuse the open TCP and TLS sessions to the org's host. Every pool is built on one
TLS context, made once per process (building one loads the CA bundle, which costs
milliseconds of CPU each time).
"""

from __future__ import annotations

import dataclasses
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from sqlalchemy.orm import Session

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

#: Idle keep-alive connections a pool keeps: a worker logs up to 8 reps at once, mostly of
#: a few orgs, each rep with one request in flight.
KEEPALIVE_PER_CLIENT = 16
#: How long a kept client uses tokens it was given or read before reading the row again.
TOKEN_REUSE_SECONDS = 60.0


@cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context (certificate verification on, system CA bundle)."""
    return httpx.create_ssl_context()


def new_http_client() -> httpx.Client:
    """A keep-alive HTTP/1.1 client on the shared TLS context, keeping no cookies.

    The REST API authenticates every request by its bearer token and needs no cookie; a pool
    shared by several users' clients must not carry one user's cookies into another's
    requests, so the jar refuses them all.
    """
    return httpx.Client(
        timeout=DEFAULT_TIMEOUT,
        verify=tls_context(),
        limits=httpx.Limits(
            max_connections=KEEPALIVE_PER_CLIENT * 2,
            max_keepalive_connections=KEEPALIVE_PER_CLIENT,
        ),
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
    )


def client_for(
    runtime: Runtime,
    connection: SalesforceConnection,
    http: httpx.Client,
    *,
    tokens: StoredTokens | None = None,
    limits: StoredLimits | None = None,
    request_slots: threading.Semaphore | None = None,
) -> SalesforceClient:
    """A client acting as the connection's Salesforce user over ``http`` (not closed here)."""
    # Refresh against the host the connection was made with (a My Domain or test host).
    config = dataclasses.replace(
        oauth_config(runtime, connection.environment), login_url=connection.login_url
    )
    refresher = SerializedRefresher(runtime, connection.id, OAuthRefresher(config, http))
    auth = RefreshingAuth(tokens or StoredTokens(runtime, connection.id), refresher)
    return SalesforceClient(
        connection.instance_url,
        auth,
        api_version=runtime.settings.salesforce_api_version,
        http=http,
        limits_sink=limits or StoredLimits(runtime, connection.org_id),
        request_slots=request_slots,
    )


@dataclasses.dataclass(frozen=True)
class _Kept:
    hosts: tuple[str, str]
    client: SalesforceClient
    tokens: StoredTokens
    limits: StoredLimits


@contextmanager
def open_client(
    runtime: Runtime, connection: SalesforceConnection, *, http: httpx.Client | None = None
) -> Iterator[SalesforceClient]:
    """A client acting as the connection's Salesforce user, closed when the block ends.

    ``http`` lets several clients share one connection pool; otherwise one is made here.
    """
    owned = http is None
    pool = http if http is not None else new_http_client()
    try:
        yield client_for(runtime, connection, pool)
    finally:
        if owned:
            pool.close()


class ConnectionClients:
    """One client per connection, reused across batches until :meth:`close`, all over one
    keep-alive connection pool.

    Sharing the pool is what lets 200 reps of one org use a handful of open connections to
    its host instead of one TLS handshake per rep and batch; each client still sends its own
    user's token. A client is rebuilt when the connection's hosts change (a reconnect to
    another org or My Domain). Thread-safe: a worker logs several reps at once.

    With ``requests_per_org``, the clients of one org's connections share a limit: at most
    that many of their requests are at Salesforce at once, whatever the number of threads
    using them (each holds a slot only while its request is on the wire).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        http: httpx.Client | None = None,
        requests_per_org: int | None = None,
    ) -> None:
        self._runtime = runtime
        self._requests_per_org = requests_per_org
        self._org_slots: dict[str, threading.BoundedSemaphore] = {}
        #: A caller-supplied pool (tests) is used as it is and never closed here.
        self._owned = http is None
        self._lock = threading.Lock()
        self._clients: dict[int, _Kept] = {}
        # Built now, at start-up (it imports its transport), not in the first batch.
        self._http: httpx.Client | None = http if http is not None else new_http_client()

    def get(self, connection: SalesforceConnection) -> SalesforceClient:
        """The connection's client; ``connection`` is its row as just read, whose tokens the
        client uses for a while instead of reading the row again for every call."""
        hosts = (connection.instance_url, connection.login_url)
        with self._lock:
            known = self._clients.get(connection.id)
            if known is not None and known.hosts == hosts:
                known.tokens.keep(connection)
                return known.client
            tokens = StoredTokens(self._runtime, connection.id, reuse_seconds=TOKEN_REUSE_SECONDS)
            tokens.keep(connection)
            limits = StoredLimits(self._runtime, connection.org_id, held=True)
            if self._http is None:  # closed, and used again
                self._http = new_http_client()
            slots = None
            if self._requests_per_org is not None:
                slots = self._org_slots.setdefault(
                    connection.org_id, threading.BoundedSemaphore(self._requests_per_org)
                )
            client = client_for(
                self._runtime,
                connection,
                self._http,
                tokens=tokens,
                limits=limits,
                request_slots=slots,
            )
            self._clients[connection.id] = _Kept(hosts, client, tokens, limits)
            return client

    def flush(self, connection_id: int, session: Session | None = None) -> None:
        """Write the API calls the connection's client counted (call when its batch ends),
        in ``session``'s transaction when one is given."""
        with self._lock:
            known = self._clients.get(connection_id)
        if known is not None:
            known.limits.flush(session)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
            http, self._http = self._http, (None if self._owned else self._http)
        for kept in clients:
            kept.limits.flush()
        if self._owned and http is not None:
            http.close()
