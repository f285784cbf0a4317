"""The admin's pages for services, counters and life events: each change is an edit of the office's configuration,
checked and applied by the loader (the same rules and messages as `rathaus load`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.admin.base import AdminController, AdminDep
from rathaus.admin.guard import Admin
from rathaus.localized import Localized
from rathaus.offices import service as offices
from rathaus.offices.config import BundleConfig, Config, ConfigError, CounterConfig
from rathaus.offices.deps import CatalogDep
from rathaus.offices.rules import Mode, in_mode_order
from rathaus.web import DbSession, Now

Change = Callable[[Config], Config]


def _texts(form: FormMultiDict, name: str) -> dict[str, str]:
    """{"de": …, "en": …} from the fields name_de and name_en (empty ones left out)."""
    return Localized(de=str(form.get(f"{name}_de", "")).strip(), en=str(form.get(f"{name}_en", "")).strip()).as_dict()


def _number(form: FormMultiDict, name: str) -> Any:
    """An integer or decimal as typed; text that is neither goes to the loader's checks, which name the field."""
    raw = str(form.get(name, "")).strip().replace(",", ".")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def _modes(form: FormMultiDict) -> list[Mode]:
    """The modes ticked (on site if none is: something must be possible)."""
    return in_mode_order(str(v) for v in form.getall("modes", [])) or ["on_site"]


def _service_change(slug: str, form: FormMultiDict) -> Change:
    def change(config: Config) -> Config:
        services = [
            msgspec.structs.replace(
                s,
                name=_texts(form, "name"),
                duration_minutes=_number(form, "duration_minutes"),
                bring=_texts(form, "bring"),
                fee_eur=_number(form, "fee_eur"),
                walk_in_cutoff_minutes=_number(form, "walk_in_cutoff_minutes"),
                bookable_online=form.get("bookable_online") == "on",
                walk_ins=form.get("walk_ins") == "on",
                modes=_modes(form),
            )
            if s.slug == slug
            else s
            for s in config.services
        ]
        return msgspec.structs.replace(config, services=services)

    return change


def _counter_change(name: str, form: FormMultiDict) -> Change:
    wanted = CounterConfig(
        name=str(form.get("name", "")).strip(),
        services=[str(v) for v in form.getall("services", [])],
        walk_in_only=form.get("walk_in_only") == "on",
        modes=_modes(form),
    )

    def change(config: Config) -> Config:
        counters = config.offices[0].counters
        if form.get("remove") == "on":
            return offices.replace_office(config, counters=[c for c in counters if c.name != name])
        if not name:
            return offices.replace_office(config, counters=[*counters, wanted])
        return offices.replace_office(config, counters=[wanted if c.name == name else c for c in counters])

    return change


def _bundle_change(slug: str, form: FormMultiDict) -> Change:
    wanted = BundleConfig(
        slug=slug or str(form.get("slug", "")).strip(),
        name=_texts(form, "name"),
        services=[str(v) for v in form.getall("services", [])],
        description=_texts(form, "description"),
    )

    def change(config: Config) -> Config:
        if not slug:
            return msgspec.structs.replace(config, bundles=[*config.bundles, wanted])
        return msgspec.structs.replace(config, bundles=[wanted if b.slug == slug else b for b in config.bundles])

    return change


class CataloguePages(AdminController):
    @get("/services", media_type=MediaType.HTML)
    async def services(self, admin: AdminDep, db_session: DbSession, saved: FromQuery[int] = 0) -> Template:
        """The services this office offers: duration, what to bring, fee, cut-off, online and walk-in."""
        return await self._page(db_session, admin, "services", [], saved=bool(saved))

    @get("/counters", media_type=MediaType.HTML)
    async def counters(self, admin: AdminDep, db_session: DbSession, saved: FromQuery[int] = 0) -> Template:
        """The counters: which services each serves, and whether only walk-ins."""
        return await self._page(db_session, admin, "counters", [], saved=bool(saved))

    @get("/bundles", media_type=MediaType.HTML)
    async def bundles(self, admin: AdminDep, db_session: DbSession, saved: FromQuery[int] = 0) -> Template:
        """Life events: several services booked as one appointment."""
        return await self._page(db_session, admin, "bundles", [], saved=bool(saved))

    async def _page(
        self, session: AsyncSession, admin: Admin, section: str, problems: list[str], *, saved: bool, status: int = 200
    ) -> Template:
        config = await offices.office_config(session, office_id=admin.office.id, every_service=True)
        offered = {slug for counter in config.offices[0].counters for slug in counter.services}
        return Template(
            f"admin/{section}.html.j2",
            context={
                "admin": admin,
                "section": section,
                "config": config,
                "office_config": config.offices[0],
                "offered": [s for s in config.services if s.slug in offered],
                "problems": problems,
                "saved": saved,
            },
            status_code=status,
        )

    async def _apply(
        self, session: AsyncSession, admin: Admin, section: str, catalog: Any, change: Change, now: Any
    ) -> Template | Redirect:
        try:
            await offices.edit_office(session, catalog=catalog, office_id=admin.office.id, change=change, now=now)
        except ConfigError as error:
            return await self._page(session, admin, section, error.problems, saved=False, status=422)
        return Redirect(f"/staff/{admin.office.slug}/admin/{section}?saved=1", status_code=303)

    @post("/services/{slug:str}", media_type=MediaType.HTML)
    async def edit_service(
        self,
        admin: AdminDep,
        slug: FromPath[str],
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        request: Request[Any, Any, Any],
    ) -> Template | Redirect:
        """Change a service (for every office that offers it)."""
        change = _service_change(slug, await request.form())
        return await self._apply(db_session, admin, "services", catalog, change, now)

    @post("/counters", media_type=MediaType.HTML)
    async def add_counter(
        self, admin: AdminDep, db_session: DbSession, now: Now, catalog: CatalogDep, request: Request[Any, Any, Any]
    ) -> Template | Redirect:
        """Open a new counter."""
        change = _counter_change("", await request.form())
        return await self._apply(db_session, admin, "counters", catalog, change, now)

    @post("/counters/{name:str}", media_type=MediaType.HTML)
    async def edit_counter(
        self,
        admin: AdminDep,
        name: FromPath[str],
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        request: Request[Any, Any, Any],
    ) -> Template | Redirect:
        """Change a counter's services, name or walk-in rule, or retire it."""
        change = _counter_change(name, await request.form())
        return await self._apply(db_session, admin, "counters", catalog, change, now)

    @post("/bundles", media_type=MediaType.HTML)
    async def add_bundle(
        self, admin: AdminDep, db_session: DbSession, now: Now, catalog: CatalogDep, request: Request[Any, Any, Any]
    ) -> Template | Redirect:
        """A new life event."""
        change = _bundle_change("", await request.form())
        return await self._apply(db_session, admin, "bundles", catalog, change, now)

    @post("/bundles/{slug:str}", media_type=MediaType.HTML)
    async def edit_bundle(
        self,
        admin: AdminDep,
        slug: FromPath[str],
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        request: Request[Any, Any, Any],
    ) -> Template | Redirect:
        """Change a life event's name, description or services."""
        change = _bundle_change(slug, await request.form())
        return await self._apply(db_session, admin, "bundles", catalog, change, now)


__all__ = ["CataloguePages"]
