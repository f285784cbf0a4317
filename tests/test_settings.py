"""Settings come from RATHAUS_* variables and refuse what cannot work."""

import pytest

from rathaus.settings import Settings, SettingsError


def test_defaults_run_on_sqlite_in_development(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    settings = Settings.from_env({})
    assert settings.is_sqlite and settings.environment == "development"
    assert len(settings.secret_key) >= 32
    assert Settings.from_env({}).secret_key == settings.secret_key  # stable across restarts


def test_values_are_converted_and_unknown_names_kept() -> None:
    settings = Settings.from_env(
        {
            "RATHAUS_SECRET_KEY": "s" * 40,
            "RATHAUS_LOAD_DEMO": "no",
            "RATHAUS_DB_POOL_SIZE": "9",
            "RATHAUS_SMTP_HOST": "mail",
        }
    )
    assert settings.load_demo is False and settings.db_pool_size == 9 and settings.get("smtp_host") == "mail"


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"RATHAUS_ENVIRONMENT": "production"}, "RATHAUS_SECRET_KEY"),
        ({"RATHAUS_ENVIRONMENT": "production", "RATHAUS_SECRET_KEY": "changeme"}, "RATHAUS_SECRET_KEY"),
        ({"RATHAUS_DATABASE_URL": "mysql://x", "RATHAUS_SECRET_KEY": "s" * 40}, "RATHAUS_DATABASE_URL"),
        ({"RATHAUS_DB_POOL_SIZE": "many", "RATHAUS_SECRET_KEY": "s" * 40}, "RATHAUS_DB_POOL_SIZE"),
        ({"RATHAUS_ENVIRONMENT": "staging", "RATHAUS_SECRET_KEY": "s" * 40}, "RATHAUS_ENVIRONMENT"),
    ],
)
def test_bad_settings_are_refused(environ: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(environ)
