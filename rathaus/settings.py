"""One settings object, read from RATHAUS_* environment variables and validated at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret"}


class SettingsError(ValueError):
    """A RATHAUS_* variable is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///rathaus.db"
    secret_key: str = ""
    environment: str = "development"
    public_base_url: str = "http://127.0.0.1:8000"
    load_demo: bool = True
    availability_cache_seconds: float = 1.0
    staff_token_hours: int = 12
    personal_data_retention_days: int = 30
    db_pool_size: int = 5
    log_level: str = "INFO"
    scheduler: bool = True
    # Bookings one client (IP address) may create per minute on one instance; 0 switches the limit off.
    booking_rate_limit_per_minute: int = 20
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        """True when running for real; placeholder secrets are refused then."""
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from RATHAUS_* variables (unknown RATHAUS_* names land in `extra`)."""
        env = os.environ if environ is None else environ
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for key, raw in env.items():
            if not key.startswith("RATHAUS_"):
                continue
            name = key.removeprefix("RATHAUS_").lower()
            if name not in known:
                extra[name] = raw
                continue
            values[name] = _convert(key, raw, type(getattr(cls(), name)))
        values.update(overrides)
        values.setdefault("extra", extra)
        settings = cls(**values)
        return settings.validated()

    def validated(self) -> Settings:
        """Refuse settings that cannot work; fill a development secret when none is given."""
        if self.environment not in {"development", "test", "production"}:
            raise SettingsError("RATHAUS_ENVIRONMENT must be development, test or production")
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError("RATHAUS_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if self.secret_key.lower() in _PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            if self.is_production:
                raise SettingsError("RATHAUS_SECRET_KEY must be a random string of at least 32 characters")
            return _replace(self, secret_key=_development_secret())
        return self

    def get(self, name: str, default: str = "") -> str:
        """A RATHAUS_* value that a sub-package reads (e.g. SMTP or Twilio settings)."""
        return self.extra.get(name, default)


def _replace(settings: Settings, **changes: Any) -> Settings:
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    values.update(changes)
    return Settings(**values)


def _development_secret() -> str:
    # Stable across restarts in development so staff tokens and sealed idempotency answers survive.
    path = Path(".rathaus-dev-secret")
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    return value


def _convert(key: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a valid {kind.__name__}") from None
    return raw
