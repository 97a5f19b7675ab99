"""Reading and saving Sync Settings: team defaults, locks and override, and each rep's own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesync.domain import settings as rules
from salesync.domain.subject_template import DEFAULT_TEMPLATE, validate_template
from salesync.domain.wording import tr
from salesync.errors import InvalidInput, PermissionDenied
from salesync.store import accounts
from salesync.store import sync_settings as store
from salesync.store.tables import Role, SyncSettings, Team, User

#: Kept inside the admin's range so a runaway loop cannot spend the whole org allocation.
MIN_BUDGET_SHARE, MAX_BUDGET_SHARE = 1, 100


def _stored_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready form of coerced values (enums become their string values)."""
    return {name: getattr(value, "value", value) for name, value in values.items()}


def team_policy(session: Session, team: Team) -> rules.TeamPolicy:
    return _policy(store.settings_row(session, team.id, None), team)


def _policy(row: SyncSettings | None, team: Team) -> rules.TeamPolicy:
    return _policy_of((row.values, row.locks) if row else None, team)


def _policy_of(stored: store.Stored | None, team: Team) -> rules.TeamPolicy:
    values, stored_locks = stored if stored else ({}, {})
    defaults = rules.effective_settings(values, rules.TeamPolicy()).settings
    locks = tuple(
        rules.FieldLock(setting=name, locked_by=str(by))
        for name, by in sorted(stored_locks.items())
    )
    force = rules.ForceMode(team.force_mode) if team.force_mode else None
    return rules.TeamPolicy(defaults=defaults, locks=locks, force_mode=force)


def user_values(session: Session, user: User) -> dict[str, Any]:
    row = store.settings_row(session, user.team_id, user.id)
    return dict(row.values) if row else {}


def effective_for(session: Session, user: User) -> rules.EffectiveSettings:
    """The settings that apply to ``user``: the team's defaults, locks and override, and the
    user's own values (one statement)."""
    return effective_for_users(session, [user])[user.id]


def effective_for_users(
    session: Session, users: Sequence[User]
) -> dict[int, rules.EffectiveSettings]:
    """:func:`effective_for` of several users (of any teams), read in one statement."""
    # A user's own row counts under their current team only, as the team's locks do.
    rows = store.rows_of_teams_and_users(
        session, sorted({u.team_id for u in users}), [u.id for u in users]
    )
    team_rows = {row.team_id: row for row in rows if row.user_id is None}
    user_rows = {row.user_id: row for row in rows if row.user_id is not None}
    effective = {}
    for user in users:
        user_row = user_rows.get(user.id)
        values = dict(user_row.values) if user_row and user_row.team_id == user.team_id else {}
        effective[user.id] = rules.effective_settings(
            values, _policy(team_rows.get(user.team_id), user.team)
        )
    return effective


def effective_as_stored(session: Session, user: User) -> rules.EffectiveSettings:
    """:func:`effective_for` read straight from the database (no rows loaded: every sent
    email reads it), for a session that has not changed the team's or the user's settings."""
    team_stored, user_stored = store.team_and_user_stored(session, user.team_id, user.id)
    values = dict(user_stored[0]) if user_stored else {}
    return rules.effective_settings(values, _policy_of(team_stored, user.team))


def save_my_settings(
    session: Session, user: User, changes: Mapping[str, Any], *, now: datetime
) -> rules.EffectiveSettings:
    """Save a rep's own options; a locked or invalid option refuses the whole change."""
    policy = team_policy(session, user.team)
    current = user_values(session, user)
    refusals = rules.validate_change(current, changes, policy)
    if refusals:
        first = refusals[0]
        raise InvalidInput("; ".join(r.reason for r in refusals), field=first.setting)
    row = store.settings_row_for_update(session, user.team_id, user.id, now=now)
    coerced = {name: rules.coerce_setting(name, value) for name, value in changes.items()}
    row.values = {**row.values, **_stored_values(coerced)}
    row.updated_at = now
    row.updated_by_id = user.id
    return rules.effective_settings(row.values, policy)


def save_team_settings(
    session: Session,
    admin: User,
    *,
    defaults: Mapping[str, Any],
    locked: set[str] | None = None,
    now: datetime,
) -> rules.TeamPolicy:
    """Admin: set team defaults and which options are locked for every rep."""
    _require_admin(admin)
    try:
        coerced = {name: rules.coerce_setting(name, value) for name, value in defaults.items()}
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    row = store.settings_row_for_update(session, admin.team_id, None, now=now)
    row.values = {**row.values, **_stored_values(coerced)}
    if locked is not None:
        unknown = locked - set(rules.SETTING_NAMES)
        if unknown:
            raise InvalidInput(
                tr("unknown settings cannot be locked: {value}", value=sorted(unknown))
            )
        kept = {name: by for name, by in row.locks.items() if name in locked}
        row.locks = {**{name: admin.name for name in locked}, **kept}
    row.updated_at = now
    row.updated_by_id = admin.id
    policy = team_policy(session, admin.team)
    rules.effective_settings({}, policy)  # proves the stored values still form valid settings
    return policy


def set_override(session: Session, admin: User, force_mode: str | None) -> rules.TeamPolicy:
    """Admin: "Override all Salesforce sync settings for my team" (API-4): API-only, BCC-only."""
    _require_admin(admin)
    if force_mode is not None and force_mode not in {m.value for m in rules.ForceMode}:
        raise InvalidInput(
            tr("unknown override {force_mode}", force_mode=repr(force_mode)), field="force_mode"
        )
    admin.team.force_mode = force_mode
    return team_policy(session, admin.team)


def save_admin_options(
    session: Session,
    admin: User,
    *,
    subject_template: str | None = None,
    api_budget_share: int | None = None,
    now: datetime,
) -> Team:
    """Admin: the Activity Detail template (API-6) and the API budget share (DESIGN §3)."""
    _require_admin(admin)
    team = admin.team
    if subject_template is not None:
        unknown = validate_template(subject_template)
        if unknown:
            raise InvalidInput(
                "unknown dynamic fields: " + ", ".join(unknown), field="subject_template"
            )
        team.subject_template = None if subject_template == DEFAULT_TEMPLATE else subject_template
    if api_budget_share is not None:
        if not MIN_BUDGET_SHARE <= api_budget_share <= MAX_BUDGET_SHARE:
            raise InvalidInput(
                tr("the API budget share is a percentage from 1 to 100"), field="api_budget_share"
            )
        team.api_budget_share = api_budget_share
    return team


def subject_template_of(team: Team) -> str:
    return team.subject_template or DEFAULT_TEMPLATE


def _require_admin(user: User) -> None:
    if user.role is not Role.ADMIN:
        raise PermissionDenied(tr("only an admin can change team settings"))


def team_members_settings(session: Session, admin: User) -> dict[int, rules.EffectiveSettings]:
    """Admin overview: every team member's effective settings."""
    _require_admin(admin)
    policy = team_policy(session, admin.team)
    rows = {row.user_id: row.values for row in store.user_rows(session, admin.team_id)}
    return {
        member.id: rules.effective_settings(rows.get(member.id, {}), policy)
        for member in accounts.team_users(session, admin.team_id)
    }
