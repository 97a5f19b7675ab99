"""Sync Settings persistence: team defaults, locks, override and a rep's own values."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from salesync.domain.settings import LoggingMode, OpportunityMode, SettingOrigin
from salesync.errors import InvalidInput, PermissionDenied
from salesync.services import accounts
from salesync.services import sync_settings as service
from salesync.store.db import unit_of_work
from salesync.store.tables import Role, Team, User
from tests.support import FakeClock


@pytest.fixture
def team(sessions: sessionmaker[Session], clock: FakeClock) -> tuple[int, int]:
    with unit_of_work(sessions) as session:
        admin = accounts.add_user(
            session,
            accounts.NewUser("admin@example.com", "Alice Admin", "long enough", Role.ADMIN),
            now=clock.now(),
        )
        rep = accounts.add_user(
            session, accounts.NewUser("rep@example.com", "Rob Rep", "long enough"), now=clock.now()
        )
        return admin.id, rep.id


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    assert user is not None
    return user


def test_rep_values_persist_and_team_defaults_apply(
    sessions: sessionmaker[Session], clock: FakeClock, team: tuple[int, int]
) -> None:
    admin_id, rep_id = team
    with unit_of_work(sessions) as session:
        service.save_team_settings(
            session,
            _user(session, admin_id),
            defaults={"opportunity_mode": "all_open"},
            now=clock.now(),
        )
        service.save_my_settings(
            session, _user(session, rep_id), {"log_calls": False}, now=clock.now()
        )
    with sessions() as session:
        effective = service.effective_for(session, _user(session, rep_id))
    assert effective.settings.log_calls is False
    assert effective.settings.opportunity_mode is OpportunityMode.ALL_OPEN
    assert effective.origin_of("opportunity_mode") is SettingOrigin.TEAM_DEFAULT
    assert effective.origin_of("log_calls") is SettingOrigin.USER


def test_locked_option_refuses_the_rep_and_names_who_locked_it(
    sessions: sessionmaker[Session], clock: FakeClock, team: tuple[int, int]
) -> None:
    admin_id, rep_id = team
    with unit_of_work(sessions) as session:
        service.save_team_settings(
            session,
            _user(session, admin_id),
            defaults={"log_to_leads": False},
            locked={"log_to_leads"},
            now=clock.now(),
        )
    with pytest.raises(InvalidInput) as info, unit_of_work(sessions) as session:
        service.save_my_settings(
            session, _user(session, rep_id), {"log_to_leads": True}, now=clock.now()
        )
    assert info.value.field == "log_to_leads"
    assert "Alice Admin" in info.value.message
    with sessions() as session:
        assert service.user_values(session, _user(session, rep_id)) == {}


def test_override_forces_the_mode_and_only_admins_may_set_it(
    sessions: sessionmaker[Session], clock: FakeClock, team: tuple[int, int]
) -> None:
    admin_id, rep_id = team
    with pytest.raises(PermissionDenied), unit_of_work(sessions) as session:
        service.set_override(session, _user(session, rep_id), "bcc_only")
    with unit_of_work(sessions) as session:
        service.set_override(session, _user(session, admin_id), "api_only")
    with sessions() as session:
        effective = service.effective_for(session, _user(session, rep_id))
    assert effective.settings.logging_mode is LoggingMode.API
    assert effective.origin_of("logging_mode") is SettingOrigin.FORCED


def test_admin_options_validate_template_and_budget(
    sessions: sessionmaker[Session], clock: FakeClock, team: tuple[int, int]
) -> None:
    admin_id, _ = team
    with pytest.raises(InvalidInput) as info, unit_of_work(sessions) as session:
        service.save_admin_options(
            session, _user(session, admin_id), subject_template="{{nope}} x", now=clock.now()
        )
    assert info.value.field == "subject_template"
    with pytest.raises(InvalidInput), unit_of_work(sessions) as session:
        service.save_admin_options(
            session, _user(session, admin_id), api_budget_share=0, now=clock.now()
        )
    with unit_of_work(sessions) as session:
        team_row = service.save_admin_options(
            session,
            _user(session, admin_id),
            subject_template="[salesync] {{Activity_Type}}",
            api_budget_share=25,
            now=clock.now(),
        )
        assert service.subject_template_of(team_row) == "[salesync] {{Activity_Type}}"
        assert team_row.api_budget_share == 25


def _lock_leads_and_stop_calls(
    session: Session, clock: FakeClock, admin_id: int, rep_id: int
) -> None:
    """The admin logs opportunities and locks Leads off; the rep stops logging calls."""
    service.save_team_settings(
        session,
        _user(session, admin_id),
        defaults={"opportunity_mode": "all_open", "log_to_leads": False},
        locked={"log_to_leads"},
        now=clock.now(),
    )
    service.save_my_settings(session, _user(session, rep_id), {"log_calls": False}, now=clock.now())


def test_the_settings_a_send_reads_straight_from_the_database_are_effective_for(
    sessions: sessionmaker[Session], clock: FakeClock, team: tuple[int, int]
) -> None:
    """``effective_as_stored`` (the send's read, no rows loaded) answers as ``effective_for``:
    with no rows, then with team defaults, a lock, the override and the rep's own values."""
    admin_id, rep_id = team

    def both() -> tuple[object, object]:
        with sessions() as session:
            rep = _user(session, rep_id)
            return service.effective_as_stored(session, rep), service.effective_for(session, rep)

    as_stored, effective = both()
    assert as_stored == effective
    with unit_of_work(sessions) as session:
        _lock_leads_and_stop_calls(session, clock, admin_id, rep_id)
    as_stored, effective = both()
    assert as_stored == effective
    with unit_of_work(sessions) as session:
        service.set_override(session, _user(session, admin_id), "api_only")
    as_stored, effective = both()
    assert as_stored == effective


def test_the_settings_of_several_users_read_together_are_each_ones_own(
    sessions: sessionmaker[Session], clock: FakeClock, team: tuple[int, int]
) -> None:
    """What a claim of several reps reads in one statement equals what each reads alone:
    team defaults and locks of each one's own team, and each one's own values."""
    admin_id, rep_id = team
    with unit_of_work(sessions) as session:
        other_team = Team(name="Other", created_at=clock.now())
        session.add(other_team)
        session.flush()
        other_admin = accounts.add_user(
            session,
            accounts.NewUser("boss@example.com", "Bea Boss", "long enough", Role.ADMIN),
            now=clock.now(),
            team_id=other_team.id,
        )
        other_rep = accounts.add_user(
            session,
            accounts.NewUser("seller@example.com", "Sam Seller", "long enough"),
            now=clock.now(),
            team_id=other_team.id,
        )
        _lock_leads_and_stop_calls(session, clock, admin_id, rep_id)
        service.save_team_settings(
            session, other_admin, defaults={"log_emails": False}, now=clock.now()
        )
        service.save_my_settings(session, other_rep, {"log_replies": False}, now=clock.now())
        ids = [admin_id, rep_id, other_admin.id, other_rep.id]
    with sessions() as session:
        users = [_user(session, user_id) for user_id in ids]
        together = service.effective_for_users(session, users)
        alone = {user.id: service.effective_for(session, user) for user in users}
    assert together == alone
    assert together[rep_id].settings.log_calls is False
    assert together[rep_id].settings.log_to_leads is False
    assert together[other_rep.id].settings.log_to_leads is True
    assert together[other_rep.id].settings.log_emails is False
    assert together[other_rep.id].settings.log_replies is False
    assert together[other_admin.id].settings.log_replies is True
