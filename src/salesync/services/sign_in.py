"""Signing in and out: throttled password checks, server-side sessions, password changes.

A browser session is a random token held by the browser; the database keeps only its SHA-256
with the user and times, so signing out, changing a password, deactivating a user or "sign
out everywhere" end sessions at once. Refused sign-ins are counted per account and per client
address, and a try over the limit is refused before any password hash is computed.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from salesync.domain.sign_in_rules import (
    SessionLifetime,
    ThrottleRule,
    session_is_live,
    session_needs_touch,
    throttled_for,
    wait_seconds,
)
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, NotFound, PermissionDenied
from salesync.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Argon2Hasher
from salesync.runtime import Runtime
from salesync.settings import Settings
from salesync.store import accounts as accounts_store
from salesync.store import web_sessions
from salesync.store.db import unit_of_work
from salesync.store.tables import Role, User, WebSession

audit = logging.getLogger("salesync.audit")

#: Longest account name kept for throttling (an email address is at most 320 characters).
_ACCOUNT_KEY_LENGTH = 320


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_key(email: str) -> str:
    return email.strip().lower()[:_ACCOUNT_KEY_LENGTH]


def lifetime(settings: Settings) -> SessionLifetime:
    return SessionLifetime(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )


def throttle_rules(settings: Settings) -> tuple[ThrottleRule, ThrottleRule]:
    window = timedelta(seconds=settings.sign_in_window_seconds)
    return (
        ThrottleRule(settings.sign_in_max_failures_per_account, window),
        ThrottleRule(settings.sign_in_max_failures_per_address, window),
    )


@dataclass(frozen=True)
class SignInOutcome:
    """Exactly one of: the user signed in; refused; throttled for ``retry_after_seconds``."""

    user: User | None = None
    retry_after_seconds: int = 0

    @property
    def throttled(self) -> bool:
        return self.retry_after_seconds > 0


@functools.cache
def _stand_in_hash() -> str:
    """A real Argon2 hash to check against when the email is unknown (any hasher reads it)."""
    return Argon2Hasher().hash("no user has this password")


def _throttle_wait(runtime: Runtime, account: str, address: str, attempt_id: int) -> int:
    now = runtime.clock.now()
    by_account, by_address = throttle_rules(runtime.settings)
    longest = max(by_account.window, by_address.window)
    with unit_of_work(runtime.sessions) as session:
        account_failures, address_failures = web_sessions.failures_since(
            session,
            account=account,
            client_address=address,
            since=now - longest,
            other_than=attempt_id,
        )
    wait = max(
        throttled_for(account_failures, by_account, now),
        throttled_for(address_failures, by_address, now),
    )
    return wait_seconds(wait) if wait > timedelta(0) else 0


def sign_in(runtime: Runtime, email: str, password: str, client_address: str) -> SignInOutcome:
    """Check the password unless the account or address is throttled; audit every outcome.

    The attempt is written down (as refused) *before* the throttle counts the others, so of
    many simultaneous tries no more than the limit get to hash a password, however they
    interleave: each try's count sees every try written before it.
    """
    account = account_key(email)
    address = client_address[:64]
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        attempt_id = web_sessions.add_attempt(
            session, account=account, client_address=address, at=now
        )
    retry_after = _throttle_wait(runtime, account, address, attempt_id)
    if retry_after:
        with unit_of_work(runtime.sessions) as session:
            # A throttled try is not counted: it must not stretch the wait it was refused by.
            web_sessions.delete_attempt(session, attempt_id)
        audit.warning(
            "sign-in throttled",
            extra={
                "action": "sign_in_throttled",
                "account": account,
                "client": address,
                "retry_after_seconds": retry_after,
            },
        )
        return SignInOutcome(retry_after_seconds=retry_after)
    hasher = runtime.password_hasher
    with unit_of_work(runtime.sessions) as session:
        user = accounts_store.user_by_email(session, account) if account else None
        stored = user.password_hash if user is not None and user.is_active else None
        if user is not None:
            _ = user.team
    if len(password) > MAX_PASSWORD_LENGTH:
        good = False  # never hash megabytes; no real password is this long
    elif stored is None:
        hasher.verify(_stand_in_hash(), password)  # an unknown email takes as long
        good = False
    else:
        good = hasher.verify(stored, password)
    window = max(rule.window for rule in throttle_rules(runtime.settings))
    with unit_of_work(runtime.sessions) as session:
        if good:
            web_sessions.delete_attempt(session, attempt_id)
            web_sessions.forget_failures(session, account=account, before=now - window)
        else:
            web_sessions.forget_failures(session, before=now - window)
    if not good:
        audit.warning(
            "sign-in refused",
            extra={"action": "sign_in_refused", "account": account, "client": address},
        )
        return SignInOutcome()
    audit.info("signed in", extra={"action": "signed_in", "account": account, "client": address})
    return SignInOutcome(user=user)


def start_session(runtime: Runtime, user_id: int, client_address: str) -> str:
    """A new session for the user; returns its token (the browser's copy is the only one)."""
    token = secrets.token_urlsafe(32)
    now = runtime.clock.now()
    limits = lifetime(runtime.settings)
    with unit_of_work(runtime.sessions) as session:
        # Sessions nobody came back to would stay forever: sweep them at each sign-in.
        web_sessions.delete_expired(
            session, idle_before=now - limits.idle, started_before=now - limits.absolute
        )
        session.add(
            WebSession(
                user_id=user_id,
                token_sha256=_sha256(token),
                created_at=now,
                last_seen_at=now,
                client_address=client_address[:64],
            )
        )
    return token


def session_user(runtime: Runtime, token: str) -> User | None:
    """The active user of a live session, or None (an expired session is deleted)."""
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        row = web_sessions.session_by_hash(session, _sha256(token))
        if row is None:
            return None
        if not session_is_live(row.created_at, row.last_seen_at, lifetime(runtime.settings), now):
            session.delete(row)
            return None
        user = accounts_store.user_by_id(session, row.user_id)
        if user is None or not user.is_active:
            session.delete(row)
            return None
        if session_needs_touch(row.last_seen_at, now):
            row.last_seen_at = now
        _ = user.team
        return user


def end_session(runtime: Runtime, token: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        web_sessions.delete_session(session, _sha256(token))


def end_all_sessions(runtime: Runtime, user_id: int, *, keep_token: str | None = None) -> int:
    """Sign the user out everywhere (but the session ``keep_token``); returns how many ended."""
    keep = _sha256(keep_token) if keep_token is not None else None
    with unit_of_work(runtime.sessions) as session:
        ended = web_sessions.delete_user_sessions(session, user_id, keep_sha256=keep)
    audit.info(
        "sessions ended", extra={"action": "sessions_ended", "user_id": user_id, "count": ended}
    )
    return ended


def check_new_password(password: str, *, field: str = "new_password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            tr(
                "the password needs at least {min_password_length} characters",
                min_password_length=MIN_PASSWORD_LENGTH,
            ),
            field=field,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            tr(
                "the password can have at most {max_password_length} characters",
                max_password_length=MAX_PASSWORD_LENGTH,
            ),
            field=field,
        )


def change_password(
    runtime: Runtime, user: User, current: str, new: str, *, keep_token: str | None
) -> None:
    """The user changes their own password; every other session of theirs ends."""
    check_new_password(new)
    hasher = runtime.password_hasher
    with unit_of_work(runtime.sessions) as session:
        row = accounts_store.user_by_id(session, user.id)
        if row is None:
            raise NotFound(tr("your account no longer exists"))
        stored = row.password_hash
    if len(current) > MAX_PASSWORD_LENGTH or not hasher.verify(stored, current):
        raise InvalidInput(tr("is not your current password"), field="current_password")
    new_hash = hasher.hash(new)
    with unit_of_work(runtime.sessions) as session:
        row = accounts_store.user_by_id(session, user.id)
        assert row is not None
        row.password_hash = new_hash
        keep = _sha256(keep_token) if keep_token is not None else None
        web_sessions.delete_user_sessions(session, user.id, keep_sha256=keep)
    audit.info("password changed", extra={"action": "password_changed", "user_id": user.id})


def reset_password(runtime: Runtime, actor: User | None, email: str, new: str) -> User:
    """An admin (or the command line, ``actor`` None) sets a user's password; their sessions end."""
    if actor is not None and actor.role != Role.ADMIN:
        raise PermissionDenied(tr("only admins can reset passwords"))
    check_new_password(new, field="password")
    new_hash = runtime.password_hasher.hash(new)
    with unit_of_work(runtime.sessions) as session:
        user = accounts_store.user_by_email(session, email.strip())
        if user is None or (actor is not None and user.team_id != actor.team_id):
            raise NotFound(tr("no user has the email {value}", value=email.strip()))
        user.password_hash = new_hash
        web_sessions.delete_user_sessions(session, user.id)
    who = "command line" if actor is None else f"user {actor.id}"
    audit.info(
        "password reset",
        extra={"action": "password_reset", "user_id": user.id, "by": who},
    )
    return user
