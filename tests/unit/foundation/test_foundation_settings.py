"""Settings, secret key file and secret box."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from salesync.errors import ConfigurationError
from salesync.runtime import load_settings
from salesync.settings import load_secret_key
from salesync.store.crypto import SecretBox


def test_defaults_use_sqlite_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SALESYNC_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'salesync.db'}"
    assert settings.effective_secret_key_file == tmp_path / "secret.key"


def test_bare_postgresql_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESYNC_DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().effective_database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SALESYNC_SMTP_PORT", "not-a-port", "SALESYNC_SMTP_PORT"),
        ("SALESYNC_SMTP_PORT", "70000", "SALESYNC_SMTP_PORT"),
        ("SALESYNC_DATABASE_URL", "mysql://x", "SALESYNC_DATABASE_URL"),
        ("SALESYNC_SALESFORCE_CLIENT_SECRET", "changeme", "placeholder"),
        ("SALESYNC_SALESFORCE_LOGIN_URL", "not a url", "SALESYNC_SALESFORCE_LOGIN_URL"),
        ("SALESYNC_POLL_INTERVAL_SECONDS", "0", "SALESYNC_POLL_INTERVAL_SECONDS"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert expected in info.value.message
    assert variable in info.value.message


def test_secret_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "secret.key"
    first = load_secret_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(path) == first
    assert len(first) >= 32


def test_short_secret_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("short\n")
    with pytest.raises(ValueError, match="fewer than 32"):
        load_secret_key(path)


def test_secret_box_round_trips_and_hides_plaintext() -> None:
    box = SecretBox(b"k" * 40)
    ciphertext = box.encrypt("00Dxx!refresh-token-value")
    assert "refresh-token-value" not in ciphertext
    assert box.decrypt(ciphertext) == "00Dxx!refresh-token-value"
    assert "k" * 10 not in repr(box)


def test_secret_box_refuses_another_key() -> None:
    ciphertext = SecretBox(b"a" * 40).encrypt("token")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox(b"b" * 40).decrypt(ciphertext)
