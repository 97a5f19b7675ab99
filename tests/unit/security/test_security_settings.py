"""The security and operations settings refuse bad values with the variable's name."""

from __future__ import annotations

import pytest

from salesync.errors import ConfigurationError
from salesync.runtime import load_settings


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"allowed_outbound_hosts": "smtp.example.com, not a host"}, "ALLOWED_OUTBOUND_HOSTS"),
        ({"allowed_outbound_hosts": "smtp.example.com:99999"}, "ALLOWED_OUTBOUND_HOSTS"),
        ({"log_format": "xml"}, "LOG_FORMAT"),
        ({"max_request_bytes": 10}, "MAX_REQUEST_BYTES"),
        ({"sign_in_max_failures_per_account": 0}, "SIGN_IN_MAX_FAILURES_PER_ACCOUNT"),
        ({"session_idle_minutes": 0}, "SESSION_IDLE_MINUTES"),
    ],
)
def test_a_bad_value_names_its_variable(overrides: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**overrides)
    assert f"SALESYNC_{variable}" in caught.value.message


def test_the_defaults() -> None:
    settings = load_settings()
    assert settings.allowed_outbound_hosts == ""
    assert settings.log_format == "text"
    assert settings.metrics_token.get_secret_value() == ""
    assert settings.max_request_bytes == 6 * 1024 * 1024
    assert (settings.session_idle_minutes, settings.session_max_hours) == (480, 168)
