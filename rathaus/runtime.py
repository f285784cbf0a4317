"""The long-lived objects of one instance, shared by its requests, jobs and CLI commands."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import click
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rathaus import i18n
from rathaus.clock import Clock, SystemClock
from rathaus.db import create_engine, create_session_maker
from rathaus.events import EventBus
from rathaus.settings import Settings, SettingsError

if TYPE_CHECKING:
    from rathaus.wiring import Wiring

T = TypeVar("T")


@dataclass
class Runtime:
    """Settings, clock, database access and the event bus of one instance, plus what each package adds."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine  # for writing (and migrations)
    read_engine: AsyncEngine
    session_maker: async_sessionmaker[AsyncSession]
    read_session_maker: async_sessionmaker[AsyncSession]
    events: EventBus
    # Per-package long-lived objects (the catalogue cache, …) by their type; see `Wiring.components`.
    components: dict[type, object] = field(default_factory=dict)

    def get(self, kind: type[T]) -> T:
        """The instance's component of this type."""
        return cast(T, self.components[kind])

    async def dispose(self) -> None:
        """Stop the components' background work (a cache refreshing itself), then close every database connection."""
        for component in self.components.values():
            drain = getattr(component, "drain", None)
            if drain is not None:
                await drain()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def configure_languages(settings: Settings) -> i18n.Translator:
    """Offer the languages of RATHAUS_LANGUAGES (default: every catalogue found), with the catalogues of
    RATHAUS_LOCALE_DIRS (a path list) before the packaged ones."""
    languages = [part.strip() for part in settings.languages.split(",") if part.strip()]
    dirs = [Path(part) for part in settings.locale_dirs.split(os.pathsep) if part.strip()]
    try:
        return i18n.configure(languages=languages or None, extra_locale_dirs=dirs)
    except i18n.UnknownLanguage as error:
        raise SettingsError([f"RATHAUS_LANGUAGES: {error}"]) from None


def build_runtime(settings: Settings, wirings: Iterable[Wiring], *, clock: Clock | None = None) -> Runtime:
    """The runtime of one instance with every package's subscriptions and components."""
    wirings = list(wirings)
    configure_languages(settings)
    waiting = settings.db_pool_timeout_seconds
    engine = create_engine(settings.database_url, pool_size=settings.pool_size, pool_timeout=waiting)
    # SQLite allows one writer at a time, and a writer that finds the lock taken polls for it in sleeps of
    # up to 100 ms. One writing connection per process makes writers queue in the pool instead, woken as
    # soon as the previous transaction ends; readers keep their own pool and never wait for writers.
    writer = create_engine(settings.database_url, pool_size=1, pool_timeout=waiting) if settings.is_sqlite else engine
    events = EventBus()
    runtime = Runtime(
        settings=settings,
        clock=clock or SystemClock(),
        engine=writer,
        read_engine=engine,
        session_maker=create_session_maker(writer, info=events.session_info()),
        read_session_maker=create_session_maker(engine, read_only=True, info=events.session_info()),
        events=events,
    )
    # In package order, so a component may use those of the packages below it.
    for wiring in wirings:
        for kind, make in wiring.components:
            runtime.components[kind] = make(runtime)
    for wiring in wirings:
        for event, make_handler in wiring.subscriptions:
            events.subscribe(event, make_handler(runtime))
    return runtime


@dataclass(frozen=True)
class Launcher:
    """How CLI commands get a runtime: the `rathaus` command puts one into click's context for every command."""

    wirings: tuple[Wiring, ...]

    def settings(self) -> Settings:
        """Settings from the environment, with their languages configured; a problem ends the command with its
        message, not a traceback."""
        try:
            settings = Settings.from_env()
            configure_languages(settings)
        except SettingsError as error:
            raise click.ClickException(str(error)) from None
        return settings

    def build(self, settings: Settings | None = None) -> Runtime:
        """A runtime with every package wired in (dispose it when done)."""
        return build_runtime(settings or self.settings(), self.wirings)

    def run(self, work: Callable[[Runtime], Awaitable[T]], settings: Settings | None = None) -> T:
        """Run `work` with a fresh runtime on its own event loop, disposing the runtime afterwards."""

        async def run() -> T:
            runtime = self.build(settings)
            try:
                return await work(runtime)
            finally:
                await runtime.dispose()

        return asyncio.run(run())


def launcher() -> Launcher:
    """The launcher of the running `rathaus` command."""
    found = click.get_current_context().find_object(Launcher)
    if found is None:
        raise RuntimeError("not inside the rathaus command")
    return found
