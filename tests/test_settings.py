"""Safe defaults for local use; production refuses to start on a missing or weak secret."""

from __future__ import annotations

import pytest

from models.settings import DEVELOPMENT_PERSONAL_DATA_KEY, DEVELOPMENT_SECRET, Settings


def test_development_gets_a_local_secret_and_the_embedded_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WANJIA_ENV", "WANJIA_SECRET_KEY", "WANJIA_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.secret_key == DEVELOPMENT_SECRET
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_production_without_a_secret_is_a_start_up_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANJIA_SECRET_KEY", raising=False)
    monkeypatch.setenv("WANJIA_ENV", "production")
    with pytest.raises(ValueError, match="WANJIA_SECRET_KEY"):
        Settings()


@pytest.mark.parametrize("published", ["short", DEVELOPMENT_SECRET], ids=["short", "development"])
def test_production_with_a_weak_secret_is_a_start_up_error(monkeypatch: pytest.MonkeyPatch, published: str) -> None:
    monkeypatch.setenv("WANJIA_ENV", "production")
    monkeypatch.setenv("WANJIA_SECRET_KEY", published)
    with pytest.raises(ValueError, match="32 characters, and not the development one"):
        Settings()


def test_production_without_a_personal_data_key_is_a_start_up_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANJIA_ENV", "production")
    monkeypatch.setenv("WANJIA_SECRET_KEY", "a-production-secret-that-is-long-enough-0123")
    monkeypatch.delenv("WANJIA_PERSONAL_DATA_KEY", raising=False)
    with pytest.raises(ValueError, match="WANJIA_PERSONAL_DATA_KEY"):
        Settings()
    monkeypatch.setenv("WANJIA_PERSONAL_DATA_KEY", "a-personal-data-key-that-is-long-enough-0123")
    assert Settings().personal_data_key is not None


@pytest.mark.parametrize("published", ["short", DEVELOPMENT_PERSONAL_DATA_KEY], ids=["short", "development"])
def test_production_with_a_weak_personal_data_key_is_a_start_up_error(
    monkeypatch: pytest.MonkeyPatch, published: str
) -> None:
    monkeypatch.setenv("WANJIA_ENV", "production")
    monkeypatch.setenv("WANJIA_SECRET_KEY", "a-production-secret-that-is-long-enough-0123")
    monkeypatch.setenv("WANJIA_PERSONAL_DATA_KEY", published)
    with pytest.raises(ValueError, match="32 characters, and not the development one"):
        Settings()
