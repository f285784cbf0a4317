"""One settings object, read from RATHAUS_* environment variables and validated at start-up.

Every variable is a typed field; its name is RATHAUS_ plus the field name (RATHAUS_LOG_LEVEL), for a field of a
group RATHAUS_ plus group and field name (`smtp.host`: RATHAUS_SMTP_HOST), unless the field names it itself.
Variables starting with RATHAUS_TEST_ belong to the test suite and are not read here.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import secrets
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

PREFIX = "RATHAUS_"
TEST_PREFIX = "RATHAUS_TEST_"
_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret"}
_T = TypeVar("_T")


class SettingsError(ValueError):
    """RATHAUS_* variables that are unknown, malformed or do not fit together; `problems` names each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            super().__init__(f"{len(problems)} problems with the settings:\n" + "\n".join(f"- {p}" for p in problems))


def _setting(
    default: _T,
    *,
    env: str | None = None,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    secret: bool = False,
) -> _T:
    """A field with its range (`low`/`high` inclusive, `above` exclusive); a secret is never shown."""
    metadata = {"env": env, "low": low, "high": high, "above": above, "secret": secret}
    return field(default=default, repr=not secret, metadata=metadata)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """E-mail through an SMTP server; setting `host` turns it on."""

    host: str = ""
    # None: 587, or 465 with implicit TLS.
    port: int | None = _setting(None, low=1, high=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password: str = _setting("", secret=True)
    timeout: float = _setting(20.0, above=0)
    cafile: Path | None = None
    mail_from: str = _setting("rathaus <noreply@localhost>", env="RATHAUS_MAIL_FROM")
    domain: str = ""

    @property
    def submission_port(self) -> int:
        """The configured port, or the standard one for the security mode."""
        return self.port or (465 if self.security == "tls" else 587)


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    """SMS through Twilio; setting the account SID turns it on."""

    account_sid: str = ""
    auth_token: str = _setting("", secret=True)
    sender: str = _setting("", env="RATHAUS_TWILIO_FROM")
    messaging_service_sid: str = ""
    # A regional edge or, in tests, a local fake of the Messages API.
    api_base: str = ""
    timeout: float = _setting(15.0, above=0)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """The dispatcher's tuning and the folder of the development file channel."""

    dir: Path = Path("outbox-messages")
    batch_size: int = _setting(100, low=1)
    concurrency: int = _setting(16, low=1)
    lanes: int = _setting(2, low=1)
    # Short, because a running dispatcher renews it (every quarter lease): a dead one's rows wait this long.
    lease_seconds: float = _setting(10.0, above=0)
    idle_seconds: float = _setting(15.0, above=0)


@dataclass(frozen=True, slots=True)
class WaitlistSettings:
    """The waiting list: who may wish for how much, how long an offer holds a slot, how often we write."""

    # Active wishes plus appointments ahead one person (the same e-mail address or mobile number) may hold per
    # service, across all offices.
    per_person: int = _setting(2, low=1)
    # How long an offer holds its slot, by the channel it was sent on (shorter when the slot is nearer).
    offer_email_hours: float = _setting(24.0, above=0)
    offer_sms_hours: float = _setting(2.0, above=0)
    # Offers one wish may receive within 24 hours, and in all.
    messages_per_day: int = _setting(2, low=1)
    messages_total: int = _setting(10, low=1)
    # How a release's wishes are ordered unless an office chose otherwise.
    order: Literal["fifo", "lottery"] = "fifo"
    # Minutes a freed slot (a cancellation, a hold given back) stays out of open booking while the waiting list
    # may take it, so that watching for cancellations gains nothing; 0 opens it at once when no wish takes it.
    cooldown_minutes: int = _setting(30, low=0)
    # Days a wish may reach beyond the booking window: the days released later go to the wishes waiting for them.
    days_beyond_window: int = _setting(28, low=0)


_GROUPS = {"smtp": SmtpSettings, "twilio": TwilioSettings, "notify": NotifySettings, "waitlist": WaitlistSettings}


@dataclass(frozen=True, slots=True)
class Settings:
    # Secret: it may carry the database password.
    database_url: str = _setting("sqlite+aiosqlite:///rathaus.db", secret=True)
    secret_key: str = _setting("", secret=True)
    environment: Literal["development", "test", "production"] = "development"
    public_base_url: str = "http://127.0.0.1:8000"
    load_demo: bool = True
    availability_cache_seconds: float = _setting(1.0, low=0)
    staff_token_hours: int = _setting(12, low=1)
    # How long an instance trusts a bearer token it checked; a change made on another instance (sign-out, disabled
    # account) is refused here after this long at most. 0: checked on every request.
    staff_token_cache_seconds: float = _setting(5.0, low=0)
    # Staff browser sessions: signed out after this many hours, or after this many minutes without a request.
    staff_session_hours: int = _setting(12, low=1)
    staff_session_idle_minutes: int = _setting(60, low=1)
    personal_data_retention_days: int = _setting(30, low=0)
    # None: 5 on SQLite (readers; writers queue for one connection of their own), 15 on PostgreSQL.
    db_pool_size: int | None = _setting(None, low=1)
    # How long a request waits for a free connection before it is answered 503; None: 60 s on SQLite (where
    # writers queue for one connection), 30 s on PostgreSQL.
    db_pool_timeout_seconds: float | None = _setting(None, above=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    scheduler: bool = True
    # On SIGTERM: how long running requests, then the dispatcher's sends on the wire, may take to finish.
    shutdown_grace_seconds: int = _setting(10, low=0)
    # Requests one client (IP address) may make per minute, by kind, counted across all instances (each
    # instance shares its counts through the database every `rate_limit_sync_seconds`); 0 switches a limit off.
    # Bookings and moves (the API, the booking and itinerary forms, the barrier report form):
    booking_rate_limit_per_minute: int = _setting(20, low=0)
    # Registered wishes (API and form):
    wish_rate_limit_per_minute: int = _setting(10, low=0)
    # Free times (the availability API and the pages that show them):
    availability_rate_limit_per_minute: int = _setting(240, low=0)
    # Looking up a booking, wish, offer or itinerary by its code or token (API and pages):
    lookup_rate_limit_per_minute: int = _setting(60, low=0)
    # 0: each instance counts on its own (one instance, or tests that share counts by hand).
    rate_limit_sync_seconds: float = _setting(1.0, low=0)
    # A proof of work (ALTCHA) before a booking or a wish is accepted, from the forms and the API alike.
    altcha: bool = True
    # How hard the proof is: the solver tries on average half this many hashes (50,000: well under a second in
    # a phone's browser, a cost for a bot that books by the thousand).
    altcha_difficulty: int = _setting(50_000, low=1, high=10_000_000)
    # How long a challenge may be solved and used (a form left open longer fetches a new one).
    altcha_expiry_minutes: int = _setting(30, low=1, high=1440)
    # Times a citizen may move one booking (the UK's driving tests allow 2: moving for sport blocks slots).
    booking_max_changes: int = _setting(2, low=0)
    feeds_export_dir: Path | None = None
    # When set, /metrics answers only requests with `Authorization: Bearer <token>`.
    metrics_token: str = _setting("", secret=True)
    # Offered languages, comma-separated (empty: every language with a catalogue); German must be among them.
    languages: str = ""
    # Catalogue directories searched before the packaged ones, os.pathsep-separated.
    locale_dirs: str = ""
    # Sites (origins, comma-separated) that may show the opening-hours snippet in a frame; empty: any site.
    embed_origins: str = ""
    # The city's own video meetings (Jitsi, BigBlueButton, …): an http(s) URL with {room}, e.g.
    # https://meet.stadt.example/{room}; each video appointment gets a random room. Empty: no video appointments.
    video_url_template: str = ""
    # "auto": the provider when it is configured, else the file channel (refused in production, where the
    # file channel would keep citizens' messages on disk instead of sending them).
    email_channel: Literal["auto", "smtp", "file"] = "auto"
    sms_channel: Literal["auto", "twilio", "file"] = "auto"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    waitlist: WaitlistSettings = field(default_factory=WaitlistSettings)

    @property
    def is_production(self) -> bool:
        """True when running for real; placeholder secrets are refused then."""
        return self.environment == "production"

    @property
    def embed_origin_list(self) -> list[str]:
        """The origins of RATHAUS_EMBED_ORIGINS."""
        return [origin.strip().rstrip("/") for origin in self.embed_origins.split(",") if origin.strip()]

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def pool_size(self) -> int:
        """The database connections each instance keeps open, and the most it opens."""
        return self.db_pool_size or (5 if self.is_sqlite else 15)

    @property
    def uses_smtp(self) -> bool:
        """True when e-mail goes to the SMTP server, False when it is written to files."""
        return self.email_channel == "smtp" or (self.email_channel == "auto" and bool(self.smtp.host))

    @property
    def uses_twilio(self) -> bool:
        """True when SMS go to Twilio, False when they are written to files."""
        return self.sms_channel == "twilio" or (self.sms_channel == "auto" and bool(self.twilio.account_sid))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from RATHAUS_* variables, refusing unknown names; `overrides` are typed values."""
        env = os.environ if environ is None else environ
        known = variables()
        problems: list[str] = []
        values: dict[str, Any] = {}
        groups: dict[str, dict[str, Any]] = {}
        for key in sorted(env):
            if not key.startswith(PREFIX) or key.startswith(TEST_PREFIX):
                continue
            variable = known.get(key)
            if variable is None:
                problems.append(_unknown(key, known))
                continue
            try:
                value = _convert(env[key], variable.kind)
            except ValueError as error:
                problems.append(f"{key}={env[key]!r} {error}")
                continue
            if variable.group:
                groups.setdefault(variable.group, {})[variable.name] = value
            else:
                values[variable.name] = value
        values.update({name: _GROUPS[name](**group) for name, group in groups.items()})
        values.update(overrides)
        return cls(**values)._validated(problems)

    def validated(self) -> Settings:
        """Refuse settings that cannot work; fill a development secret when none is given."""
        return self._validated([])

    def _validated(self, problems: list[str]) -> Settings:
        problems = problems + _problems(self)
        if problems:
            raise SettingsError(problems)
        if _weak_secret(self.secret_key):
            return dataclasses.replace(self, secret_key=_development_secret())
        return self


@dataclass(frozen=True, slots=True)
class Variable:
    """One RATHAUS_* variable: the field it sets and that field's type."""

    env: str
    group: str | None
    name: str
    kind: Any
    metadata: Mapping[str, Any]

    def value(self, settings: Settings) -> Any:
        """This variable's value in `settings`."""
        owner = getattr(settings, self.group) if self.group else settings
        return getattr(owner, self.name)


@cache
def variables() -> Mapping[str, Variable]:
    """Every RATHAUS_* variable the app reads, by name."""
    found: dict[str, Variable] = {}
    hints = typing.get_type_hints(Settings)
    for f in dataclasses.fields(Settings):
        if f.name not in _GROUPS:
            env = f"{PREFIX}{f.name.upper()}"
            found[env] = Variable(env, None, f.name, hints[f.name], f.metadata)
            continue
        group = _GROUPS[f.name]
        group_hints = typing.get_type_hints(group)
        for g in dataclasses.fields(group):
            env = g.metadata.get("env") or f"{PREFIX}{f.name.upper()}_{g.name.upper()}"
            found[env] = Variable(env, f.name, g.name, group_hints[g.name], g.metadata)
    return found


def _unknown(key: str, known: Mapping[str, Variable]) -> str:
    # Compared without the shared prefix, which would make every name look alike.
    names = {name.removeprefix(PREFIX): name for name in known}
    close = difflib.get_close_matches(key.removeprefix(PREFIX), list(names), n=1)
    hint = f"; did you mean {names[close[0]]}?" if close else " (README.md lists the settings)"
    return f"unknown setting {key}{hint}"


def _convert(raw: str, kind: Any) -> Any:
    """The value of a variable's text for a field of type `kind`; ValueError says what was expected."""
    options = typing.get_args(kind)
    if isinstance(kind, types.UnionType):
        if not raw.strip():
            return None
        (kind,) = [option for option in options if option is not type(None)]
    if typing.get_origin(kind) is Literal:
        # Case is forgiven (INFO, info); a value that is no choice is reported by the validation.
        return next((choice for choice in options if choice.lower() == raw.strip().lower()), raw)
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError("is not a yes/no value (true, false, yes, no, on, off, 1, 0)")
        return lowered in {"1", "true", "yes", "on"}
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("is not a whole number") from None
    if kind is float:
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError("is not a number")
        return number
    if kind is Path:
        if not raw.strip():
            raise ValueError("is not a path")
        return Path(raw)
    return raw


def _problems(settings: Settings) -> list[str]:
    """Everything wrong with `settings`, each named by its variable."""
    problems = [problem for variable in variables().values() if (problem := _out_of_range(variable, settings))]
    if not settings.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        problems.append("RATHAUS_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    if settings.is_production and _weak_secret(settings.secret_key):
        problems.append("RATHAUS_SECRET_KEY must be a random string of at least 32 characters")
    problems += _url_problems("RATHAUS_PUBLIC_BASE_URL", settings.public_base_url)
    if settings.twilio.api_base:
        problems += _url_problems("RATHAUS_TWILIO_API_BASE", settings.twilio.api_base)
    for origin in settings.embed_origin_list:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path or any(c in origin for c in " ;'"):
            problems.append(f"RATHAUS_EMBED_ORIGINS: {origin!r} is not an origin like https://www.stadt.example")
    if settings.video_url_template:
        problems += _video_problems(settings.video_url_template)
    return problems + _email_problems(settings) + _sms_problems(settings)


def _out_of_range(variable: Variable, settings: Settings) -> str | None:
    value = variable.value(settings)
    if value is None:
        return None
    if typing.get_origin(variable.kind) is Literal:
        choices = typing.get_args(variable.kind)
        return None if value in choices else f"{variable.env}={value!r} is not one of {', '.join(choices)}"
    low, high, above = (variable.metadata.get(key) for key in ("low", "high", "above"))
    if low is not None and high is not None and not low <= value <= high:
        return f"{variable.env}={value} is not between {low} and {high}"
    if low is not None and value < low:
        return f"{variable.env}={value} is less than {low}"
    if above is not None and value <= above:
        return f"{variable.env}={value} must be more than {above}"
    return None


def _video_problems(template: str) -> list[str]:
    env = "RATHAUS_VIDEO_URL_TEMPLATE"
    rest = template.replace("{room}", "", 1)
    if "{room}" not in template or "{" in rest or "}" in rest:
        return [f"{env}={template!r} must hold {{room}} exactly once and no other braces"]
    return _url_problems(env, template.replace("{room}", "room"))


def _url_problems(env: str, url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return [f"{env}={url!r} is not an http:// or https:// URL"]
    return []


def _email_problems(settings: Settings) -> list[str]:
    smtp = settings.smtp
    problems = []
    if "@" not in parseaddr(smtp.mail_from)[1]:
        problems.append(f"RATHAUS_MAIL_FROM={smtp.mail_from!r} has no e-mail address")
    if bool(smtp.username) != bool(smtp.password):
        problems.append("RATHAUS_SMTP_USERNAME and RATHAUS_SMTP_PASSWORD must be set together")
    if smtp.cafile is not None and not smtp.cafile.is_file():
        problems.append(f"RATHAUS_SMTP_CAFILE={str(smtp.cafile)!r} is not a file")
    problems += _channel_problems(
        settings,
        choice=("RATHAUS_EMAIL_CHANNEL", settings.email_channel, "smtp"),
        provider=("RATHAUS_SMTP_HOST", bool(smtp.host)),
        what="e-mail",
        remedy="set RATHAUS_SMTP_HOST",
    )
    return problems


def _sms_problems(settings: Settings) -> list[str]:
    twilio = settings.twilio
    problems = []
    sender = twilio.sender or twilio.messaging_service_sid
    if twilio.account_sid or twilio.auth_token or sender:
        missing = [
            env
            for env, value in (
                ("RATHAUS_TWILIO_ACCOUNT_SID", twilio.account_sid),
                ("RATHAUS_TWILIO_AUTH_TOKEN", twilio.auth_token),
                ("RATHAUS_TWILIO_FROM or RATHAUS_TWILIO_MESSAGING_SERVICE_SID", sender),
            )
            if not value
        ]
        if missing:
            problems.append(f"Twilio is only partly configured; missing: {', '.join(missing)}")
    problems += _channel_problems(
        settings,
        choice=("RATHAUS_SMS_CHANNEL", settings.sms_channel, "twilio"),
        provider=("RATHAUS_TWILIO_ACCOUNT_SID", bool(twilio.account_sid)),
        what="SMS",
        remedy="configure Twilio",
    )
    return problems


def _channel_problems(
    settings: Settings, *, choice: tuple[str, str, str], provider: tuple[str, bool], what: str, remedy: str
) -> list[str]:
    """A channel choice (variable, value, the provider's name) that contradicts the provider's configuration."""
    variable, chosen, provider_name = choice
    provider_variable, configured = provider
    if chosen == provider_name and not configured:
        return [f"{variable}={provider_name} needs {provider_variable}"]
    if chosen == "file" and configured:
        return [f"{variable}=file and {provider_variable} contradict each other; unset one"]
    if chosen == "auto" and not configured and settings.is_production:
        return [
            f"{provider_variable} is not set, so {what} would be written to files in RATHAUS_NOTIFY_DIR instead of "
            f"being sent; {remedy}, or set {variable}=file if that is what you want"
        ]
    return []


def _weak_secret(secret_key: str) -> bool:
    return secret_key.lower() in _PLACEHOLDER_SECRETS or len(secret_key) < 32


def _development_secret() -> str:
    # Stable across restarts in development so staff tokens and sealed idempotency answers survive.
    path = Path(".rathaus-dev-secret")
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    return value
