"""Settings come from RATHAUS_* variables and refuse what cannot work."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from rathaus.settings import NotifySettings, Settings, SettingsError, SmtpSettings, TwilioSettings, variables

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s" * 40
PRODUCTION = {"RATHAUS_ENVIRONMENT": "production", "RATHAUS_SECRET_KEY": SECRET}
FILE_CHANNELS = {"RATHAUS_EMAIL_CHANNEL": "file", "RATHAUS_SMS_CHANNEL": "file"}
TWILIO = {
    "RATHAUS_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "RATHAUS_TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "RATHAUS_TWILIO_FROM": "+15005550006",
}


def refusal(environ: dict[str, str]) -> SettingsError:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    return refused.value


def test_defaults_run_on_sqlite_in_development(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    settings = Settings.from_env({})
    assert settings.is_sqlite and settings.environment == "development"
    assert len(settings.secret_key) >= 32
    assert Settings.from_env({}).secret_key == settings.secret_key  # stable across restarts
    assert not settings.uses_smtp and not settings.uses_twilio


def test_values_are_converted_to_their_fields() -> None:
    settings = Settings.from_env(
        {
            "RATHAUS_SECRET_KEY": SECRET,
            "RATHAUS_LOAD_DEMO": "no",
            "RATHAUS_DB_POOL_SIZE": "9",
            "RATHAUS_LOG_LEVEL": "warning",
            "RATHAUS_SMTP_HOST": "mail",
            "RATHAUS_SMTP_SECURITY": "TLS",
            "RATHAUS_SMTP_TIMEOUT": "2.5",
            "RATHAUS_MAIL_FROM": "Bürgeramt <termine@stadt.example>",
            "RATHAUS_NOTIFY_BATCH_SIZE": "50",
            "RATHAUS_NOTIFY_DIR": "/var/spool/rathaus",
            "RATHAUS_FEEDS_EXPORT_DIR": "/srv/www/feeds",
            **TWILIO,
        }
    )
    assert settings.load_demo is False and settings.pool_size == 9 and settings.log_level == "WARNING"
    assert settings.smtp == SmtpSettings(
        host="mail", security="tls", timeout=2.5, mail_from="Bürgeramt <termine@stadt.example>"
    )
    assert settings.smtp.submission_port == 465 and settings.uses_smtp
    assert settings.twilio.sender == "+15005550006" and settings.uses_twilio
    assert settings.notify == NotifySettings(batch_size=50, dir=Path("/var/spool/rathaus"))
    assert settings.feeds_export_dir == Path("/srv/www/feeds")


def test_an_empty_optional_value_means_unset() -> None:
    environ = {"RATHAUS_SECRET_KEY": SECRET, "RATHAUS_SMTP_PORT": "", "RATHAUS_FEEDS_EXPORT_DIR": ""}
    settings = Settings.from_env(environ)
    assert settings.smtp.port is None and settings.smtp.submission_port == 587
    assert settings.feeds_export_dir is None


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({**PRODUCTION, **FILE_CHANNELS, "RATHAUS_SECRET_KEY": "short"}, "RATHAUS_SECRET_KEY must be"),
        ({**PRODUCTION, **FILE_CHANNELS, "RATHAUS_SECRET_KEY": "changeme"}, "RATHAUS_SECRET_KEY must be"),
        ({"RATHAUS_DATABASE_URL": "mysql://x"}, "RATHAUS_DATABASE_URL must start with"),
        ({"RATHAUS_DB_POOL_SIZE": "many"}, "RATHAUS_DB_POOL_SIZE='many' is not a whole number"),
        ({"RATHAUS_DB_POOL_SIZE": "0"}, "RATHAUS_DB_POOL_SIZE=0 is less than 1"),
        ({"RATHAUS_ENVIRONMENT": "staging"}, "RATHAUS_ENVIRONMENT='staging' is not one of development, test, prod"),
        ({"RATHAUS_LOAD_DEMO": "maybe"}, "RATHAUS_LOAD_DEMO='maybe' is not a yes/no value"),
        ({"RATHAUS_LOG_LEVEL": "LOUD"}, "RATHAUS_LOG_LEVEL='LOUD' is not one of DEBUG, INFO"),
        ({"RATHAUS_PUBLIC_BASE_URL": "rathaus.example"}, "RATHAUS_PUBLIC_BASE_URL='rathaus.example' is not an http"),
        ({"RATHAUS_AVAILABILITY_CACHE_SECONDS": "-1"}, "RATHAUS_AVAILABILITY_CACHE_SECONDS=-1.0 is less than 0"),
        ({"RATHAUS_SMTP_PORT": "0"}, "RATHAUS_SMTP_PORT=0 is not between 1 and 65535"),
        ({"RATHAUS_SMTP_PORT": "65536"}, "RATHAUS_SMTP_PORT=65536 is not between 1 and 65535"),
        ({"RATHAUS_SMTP_PORT": "587.0"}, "RATHAUS_SMTP_PORT='587.0' is not a whole number"),
        ({"RATHAUS_SMTP_SECURITY": "ssl"}, "RATHAUS_SMTP_SECURITY='ssl' is not one of starttls, tls, none"),
        ({"RATHAUS_SMTP_TIMEOUT": "0"}, "RATHAUS_SMTP_TIMEOUT=0.0 must be more than 0"),
        ({"RATHAUS_SMTP_TIMEOUT": "nan"}, "RATHAUS_SMTP_TIMEOUT='nan' is not a number"),
        ({"RATHAUS_SMTP_CAFILE": "/nonexistent/ca.pem"}, "RATHAUS_SMTP_CAFILE='/nonexistent/ca.pem' is not a file"),
        ({"RATHAUS_SMTP_USERNAME": "amt"}, "RATHAUS_SMTP_USERNAME and RATHAUS_SMTP_PASSWORD must be set together"),
        ({"RATHAUS_MAIL_FROM": "Bürgeramt"}, "RATHAUS_MAIL_FROM='Bürgeramt' has no e-mail address"),
        ({**TWILIO, "RATHAUS_TWILIO_API_BASE": "api.example"}, "RATHAUS_TWILIO_API_BASE='api.example' is not an"),
        ({"RATHAUS_TWILIO_TIMEOUT": "-5"}, "RATHAUS_TWILIO_TIMEOUT=-5.0 must be more than 0"),
        ({"RATHAUS_NOTIFY_LANES": "0"}, "RATHAUS_NOTIFY_LANES=0 is less than 1"),
        ({"RATHAUS_NOTIFY_LEASE_SECONDS": "0"}, "RATHAUS_NOTIFY_LEASE_SECONDS=0.0 must be more than 0"),
    ],
)
def test_bad_settings_are_refused(environ: dict[str, str], says: str) -> None:
    assert says in str(refusal({"RATHAUS_SECRET_KEY": SECRET, **environ}))


def test_a_malformed_number_is_refused_with_the_variable_and_the_expected_kind() -> None:
    error = refusal({"RATHAUS_SECRET_KEY": SECRET, "RATHAUS_NOTIFY_BATCH_SIZE": "abc"})
    assert str(error) == "RATHAUS_NOTIFY_BATCH_SIZE='abc' is not a whole number"


def test_a_misspelt_variable_is_refused_with_the_name_it_probably_meant() -> None:
    error = refusal({"RATHAUS_SECRET_KEY": SECRET, "RATHAUS_SMTP_HOTS": "mail.example"})
    assert str(error) == "unknown setting RATHAUS_SMTP_HOTS; did you mean RATHAUS_SMTP_HOST?"
    assert "mail.example" not in str(refusal({"RATHAUS_SMTP_PASWORD": "mail.example"}))  # a value may be secret


def test_an_unknown_variable_without_a_close_name_is_refused() -> None:
    assert str(refusal({"RATHAUS_SECRET_KEY": SECRET, "RATHAUS_COLOUR": "blue"})) == (
        "unknown setting RATHAUS_COLOUR (README.md lists the settings)"
    )


def test_every_problem_is_reported_at_once() -> None:
    error = refusal(
        {
            **PRODUCTION,
            "RATHAUS_SECRET_KEY": "changeme",
            "RATHAUS_SMTP_HOTS": "mail.example",
            "RATHAUS_NOTIFY_BATCH_SIZE": "abc",
            "RATHAUS_SMTP_PORT": "99999",
        }
    )
    assert len(error.problems) == 6
    message = str(error)
    assert message.startswith("6 problems with the settings:\n- ")
    for part in (
        "RATHAUS_NOTIFY_BATCH_SIZE='abc' is not a whole number",
        "unknown setting RATHAUS_SMTP_HOTS; did you mean RATHAUS_SMTP_HOST?",
        "RATHAUS_SMTP_PORT=99999 is not between 1 and 65535",
        "RATHAUS_SECRET_KEY must be",
        "RATHAUS_EMAIL_CHANNEL=file",
        "RATHAUS_SMS_CHANNEL=file",
    ):
        assert part in message


def test_variables_of_the_test_suite_are_not_the_apps() -> None:
    settings = Settings.from_env(
        {"RATHAUS_SECRET_KEY": SECRET, "RATHAUS_TEST_PG_URL": "postgresql://x", "RATHAUS_TEST_REQUIRE_PG": "1"}
    )
    assert settings == Settings(secret_key=SECRET)


def test_production_without_smtp_is_refused_unless_the_file_channel_is_chosen() -> None:
    error = refusal({**PRODUCTION, **TWILIO})
    assert error.problems == [
        "RATHAUS_SMTP_HOST is not set, so e-mail would be written to files in RATHAUS_NOTIFY_DIR instead of being "
        "sent; set RATHAUS_SMTP_HOST, or set RATHAUS_EMAIL_CHANNEL=file if that is what you want"
    ]
    settings = Settings.from_env({**PRODUCTION, **TWILIO, "RATHAUS_EMAIL_CHANNEL": "file"})
    assert not settings.uses_smtp and settings.uses_twilio


def test_production_without_twilio_is_refused_unless_the_file_channel_is_chosen() -> None:
    smtp = {"RATHAUS_SMTP_HOST": "mail.example"}
    assert [p.split(" ")[0] for p in refusal({**PRODUCTION, **smtp}).problems] == ["RATHAUS_TWILIO_ACCOUNT_SID"]
    assert "RATHAUS_SMS_CHANNEL=file" in str(refusal({**PRODUCTION, **smtp}))
    settings = Settings.from_env({**PRODUCTION, **smtp, "RATHAUS_SMS_CHANNEL": "file"})
    assert settings.uses_smtp and not settings.uses_twilio


def test_production_with_both_providers_starts() -> None:
    settings = Settings.from_env({**PRODUCTION, **TWILIO, "RATHAUS_SMTP_HOST": "mail.example"})
    assert settings.uses_smtp and settings.uses_twilio


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"RATHAUS_EMAIL_CHANNEL": "smtp"}, "RATHAUS_EMAIL_CHANNEL=smtp needs RATHAUS_SMTP_HOST"),
        ({"RATHAUS_EMAIL_CHANNEL": "file", "RATHAUS_SMTP_HOST": "mail"}, "RATHAUS_EMAIL_CHANNEL=file and RATHAUS_SMTP"),
        ({"RATHAUS_SMS_CHANNEL": "twilio"}, "RATHAUS_SMS_CHANNEL=twilio needs RATHAUS_TWILIO_ACCOUNT_SID"),
        ({"RATHAUS_SMS_CHANNEL": "file", **TWILIO}, "RATHAUS_SMS_CHANNEL=file and RATHAUS_TWILIO_ACCOUNT_SID"),
        ({"RATHAUS_SMS_CHANNEL": "carrier-pigeon"}, "RATHAUS_SMS_CHANNEL='carrier-pigeon' is not one of auto, twilio"),
    ],
)
def test_a_channel_choice_that_contradicts_the_providers_is_refused(environ: dict[str, str], says: str) -> None:
    assert says in str(refusal({"RATHAUS_SECRET_KEY": SECRET, **environ}))


@pytest.mark.parametrize("environment", ["development", "test", "production"])
@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"RATHAUS_TWILIO_ACCOUNT_SID": "AC1"}, "RATHAUS_TWILIO_AUTH_TOKEN, RATHAUS_TWILIO_FROM or RATHAUS_TWILIO_M"),
        ({"RATHAUS_TWILIO_AUTH_TOKEN": "token"}, "RATHAUS_TWILIO_ACCOUNT_SID, RATHAUS_TWILIO_FROM or"),
        ({"RATHAUS_TWILIO_ACCOUNT_SID": "AC1", "RATHAUS_TWILIO_AUTH_TOKEN": "t"}, "RATHAUS_TWILIO_FROM or RATHAUS"),
        ({"RATHAUS_TWILIO_MESSAGING_SERVICE_SID": "MG1"}, "RATHAUS_TWILIO_ACCOUNT_SID, RATHAUS_TWILIO_AUTH_TOKEN"),
    ],
)
def test_twilio_partly_configured_is_refused_everywhere(environment: str, given: dict[str, str], missing: str) -> None:
    environ = {**PRODUCTION, "RATHAUS_ENVIRONMENT": environment, "RATHAUS_EMAIL_CHANNEL": "file", **given}
    assert f"Twilio is only partly configured; missing: {missing}" in str(refusal(environ))


def test_a_messaging_service_is_a_twilio_sender() -> None:
    sid, token = TWILIO["RATHAUS_TWILIO_ACCOUNT_SID"], TWILIO["RATHAUS_TWILIO_AUTH_TOKEN"]
    settings = Settings.from_env(
        {
            "RATHAUS_SECRET_KEY": SECRET,
            "RATHAUS_TWILIO_ACCOUNT_SID": sid,
            "RATHAUS_TWILIO_AUTH_TOKEN": token,
            "RATHAUS_TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
        }
    )
    assert settings.uses_twilio and settings.twilio.sender == ""


def test_settings_built_in_code_are_validated_and_replaceable() -> None:
    settings = Settings(secret_key=SECRET, smtp=SmtpSettings(host="mail")).validated()
    assert replace(settings, notify=replace(settings.notify, batch_size=7)).notify.batch_size == 7
    with pytest.raises(SettingsError, match="RATHAUS_NOTIFY_BATCH_SIZE=0 is less than 1"):
        Settings(secret_key=SECRET, notify=NotifySettings(batch_size=0)).validated()
    with pytest.raises(SettingsError, match="Twilio is only partly configured"):
        Settings(secret_key=SECRET, twilio=TwilioSettings(account_sid="AC1")).validated()
    with pytest.raises(SettingsError, match="RATHAUS_ENVIRONMENT='staging'"):
        Settings(secret_key=SECRET, environment="staging").validated()  # type: ignore[arg-type]


def test_secrets_stay_out_of_the_representation() -> None:
    settings = Settings.from_env(
        {
            "RATHAUS_DATABASE_URL": "postgresql+asyncpg://rathaus:db-password@db/rathaus",
            "RATHAUS_SECRET_KEY": SECRET,
            "RATHAUS_SMTP_HOST": "mail",
            "RATHAUS_SMTP_USERNAME": "amt",
            "RATHAUS_SMTP_PASSWORD": "smtp-password",
            **TWILIO,
        }
    )
    shown = repr(settings)
    for secret in ("db-password", SECRET, "smtp-password", TWILIO["RATHAUS_TWILIO_AUTH_TOKEN"]):
        assert secret not in shown


# --- the README and the code name the same variables ---------------------------------------------------

README = (ROOT / "README.md").read_text()
ROW = re.compile(r"^\| `(RATHAUS_[A-Z0-9_]+)` \| ([^|]*) \|", re.MULTILINE)
NAME = re.compile(r"RATHAUS_[A-Z0-9_]+")


def documented() -> dict[str, str]:
    """The README's table rows: variable name and its default column."""
    rows = ROW.findall(README)
    assert len(rows) == len(dict(rows)), "a variable has two rows"
    return dict(rows)


def test_every_variable_has_one_row_in_the_readme_and_every_row_is_a_variable() -> None:
    assert set(documented()) == set(variables())


def test_every_variable_the_readme_mentions_is_known() -> None:
    mentioned = {name for name in NAME.findall(README) if not name.startswith("RATHAUS_TEST_")}
    assert mentioned - {"RATHAUS_SMTP_HOTS"} <= set(variables())  # the example of a typo


@pytest.mark.parametrize("name", sorted(documented()))
def test_the_documented_default_is_the_codes(name: str) -> None:
    """A default written as `value` parses to the field's default; "unset" means an empty or absent value."""
    column = documented()[name].strip()
    variable = variables()[name]
    default = variable.value(Settings())
    if column.startswith("unset"):
        assert default in {"", None}
        return
    written = re.match(r"`([^`]*)`", column)
    assert written, f"{name}: the default column starts neither with `value` nor with 'unset'"
    parsed = Settings.from_env({"RATHAUS_SECRET_KEY": SECRET, name: written.group(1)})
    assert variable.value(parsed) == default


def test_the_variables_set_in_the_repository_are_known() -> None:
    """Benchmarks, CI and test fixtures set only variables the app knows (or the test suite's own)."""
    deliberate = {ROOT / "tests" / "test_settings.py", ROOT / "tests" / "test_serve.py"}
    files = [ROOT / ".ci" / "run", ROOT / "Makefile", ROOT / "pyproject.toml"]
    files += [p for folder in ("rathaus", "tests", "bench") for p in (ROOT / folder).rglob("*.py")]
    found = {
        (name, str(path.relative_to(ROOT)))
        for path in files
        if path.exists() and path not in deliberate
        for name in NAME.findall(path.read_text())
        if not name.startswith("RATHAUS_TEST_")
    }
    assert {(name, path) for name, path in found if name not in variables()} == set()


def test_a_complete_production_configuration_parses(tmp_path: Path) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_text("")
    environ = {
        "RATHAUS_DATABASE_URL": "postgresql+asyncpg://rathaus:pw@db/rathaus",
        "RATHAUS_SECRET_KEY": SECRET,
        "RATHAUS_ENVIRONMENT": "production",
        "RATHAUS_PUBLIC_BASE_URL": "https://termine.stadt.example",
        "RATHAUS_LOAD_DEMO": "false",
        "RATHAUS_AVAILABILITY_CACHE_SECONDS": "0.5",
        "RATHAUS_STAFF_TOKEN_HOURS": "8",
        "RATHAUS_STAFF_TOKEN_CACHE_SECONDS": "2.5",
        "RATHAUS_PERSONAL_DATA_RETENTION_DAYS": "14",
        "RATHAUS_DB_POOL_SIZE": "10",
        "RATHAUS_DB_POOL_TIMEOUT_SECONDS": "5",
        "RATHAUS_SCHEDULER": "off",
        "RATHAUS_SHUTDOWN_GRACE_SECONDS": "25",
        "RATHAUS_FEEDS_EXPORT_DIR": "/srv/feeds",
        "RATHAUS_METRICS_TOKEN": "m" * 32,
        "RATHAUS_BOOKING_RATE_LIMIT_PER_MINUTE": "0",
        "RATHAUS_WISH_RATE_LIMIT_PER_MINUTE": "5",
        "RATHAUS_AVAILABILITY_RATE_LIMIT_PER_MINUTE": "600",
        "RATHAUS_LOOKUP_RATE_LIMIT_PER_MINUTE": "30",
        "RATHAUS_RATE_LIMIT_SYNC_SECONDS": "2",
        "RATHAUS_ALTCHA": "off",
        "RATHAUS_ALTCHA_DIFFICULTY": "200000",
        "RATHAUS_ALTCHA_EXPIRY_MINUTES": "10",
        "RATHAUS_BOOKING_MAX_CHANGES": "1",
        "RATHAUS_LOG_LEVEL": "DEBUG",
        "RATHAUS_LANGUAGES": "de,en",
        "RATHAUS_LOCALE_DIRS": "/etc/rathaus/locale",
        "RATHAUS_EMAIL_CHANNEL": "smtp",
        "RATHAUS_SMS_CHANNEL": "twilio",
        "RATHAUS_SMTP_HOST": "mail.stadt.example",
        "RATHAUS_SMTP_PORT": "2525",
        "RATHAUS_SMTP_SECURITY": "none",
        "RATHAUS_SMTP_USERNAME": "termine",
        "RATHAUS_SMTP_PASSWORD": "pw",
        "RATHAUS_SMTP_TIMEOUT": "30",
        "RATHAUS_SMTP_CAFILE": str(cafile),
        "RATHAUS_MAIL_FROM": "Bürgeramt <termine@stadt.example>",
        "RATHAUS_SMTP_DOMAIN": "stadt.example",
        **TWILIO,
        "RATHAUS_TWILIO_MESSAGING_SERVICE_SID": "MG" + "3" * 32,
        "RATHAUS_TWILIO_API_BASE": "https://api.dublin.ie1.twilio.com",
        "RATHAUS_TWILIO_TIMEOUT": "10",
        "RATHAUS_NOTIFY_DIR": "/var/spool/rathaus",
        "RATHAUS_NOTIFY_BATCH_SIZE": "200",
        "RATHAUS_NOTIFY_CONCURRENCY": "8",
        "RATHAUS_NOTIFY_LANES": "3",
        "RATHAUS_NOTIFY_LEASE_SECONDS": "60",
        "RATHAUS_NOTIFY_IDLE_SECONDS": "5",
        "RATHAUS_STAFF_SESSION_HOURS": "10",
        "RATHAUS_STAFF_SESSION_IDLE_MINUTES": "30",
        "RATHAUS_EMBED_ORIGINS": "https://www.stadt.example",
        "RATHAUS_WAITLIST_PER_PERSON": "1",
        "RATHAUS_WAITLIST_OFFER_EMAIL_HOURS": "48",
        "RATHAUS_WAITLIST_OFFER_SMS_HOURS": "3",
        "RATHAUS_WAITLIST_MESSAGES_PER_DAY": "3",
        "RATHAUS_WAITLIST_MESSAGES_TOTAL": "5",
        "RATHAUS_WAITLIST_ORDER": "lottery",
        "RATHAUS_WAITLIST_COOLDOWN_MINUTES": "15",
        "RATHAUS_WAITLIST_DAYS_BEYOND_WINDOW": "14",
        "RATHAUS_VIDEO_URL_TEMPLATE": "https://meet.stadt.example/{room}",
    }
    assert set(environ) == set(variables())
    settings = Settings.from_env(environ)
    for name, raw in environ.items():
        assert variables()[name].value(settings) != variables()[name].value(Settings()), f"{name}={raw} was not read"


@pytest.mark.parametrize(
    "template",
    [
        "https://meet.stadt.example/room",
        "https://meet.stadt.example/{room}/{room}",
        "meet.stadt.example/{room}",
        "https://meet.stadt.example/{room}?x={other}",
    ],
)
def test_a_video_url_template_needs_one_room_in_an_http_url(template: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"RATHAUS_VIDEO_URL_TEMPLATE": template})
    assert "RATHAUS_VIDEO_URL_TEMPLATE" in str(refused.value)


def test_the_pool_keeps_five_connections_on_sqlite_and_fifteen_on_postgresql_unless_told() -> None:
    def pool(database_url: str) -> int:
        return Settings.from_env({"RATHAUS_SECRET_KEY": SECRET, "RATHAUS_DATABASE_URL": database_url}).pool_size

    assert pool("sqlite+aiosqlite:///rathaus.db") == 5
    assert pool("postgresql+asyncpg://rathaus@db/rathaus") == 15
