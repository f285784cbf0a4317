"""The catalogue's pages for citizens: the home page with search, every service and life event, and a life
event's page."""

from __future__ import annotations

from typing import Annotated

from litestar import MediaType, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, Parameter
from litestar.response import Template

from rathaus import i18n
from rathaus.offices.catalog import CatalogSnapshot
from rathaus.offices.deps import CatalogDep
from rathaus.offices.search import search
from rathaus.web import DbSession, Now, PageController


def offered_at(snapshot: CatalogSnapshot, office_slug: str) -> list[str]:
    """Slugs of the services some counter of the office serves, in catalogue order."""
    office = snapshot.offices[office_slug]
    served = {sid for counter in office.counters for sid in counter.services}
    return [slug for slug, service in snapshot.services.items() if service.id in served]


class CataloguePages(PageController):
    @get("/", media_type=MediaType.HTML)
    async def home(
        self,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        q: Annotated[str, Parameter(max_length=200)] = "",
        office: Annotated[str, Parameter(max_length=64)] = "",
    ) -> Template:
        """Where citizens start: search, the life events and services, and the offices. `?office=` (the rebook
        link of messages) puts that office's services first."""
        snapshot = await catalog.get(db_session, now=now)
        chosen = snapshot.offices.get(office)
        language = i18n.current_language()
        return Template(
            "offices/home.html.j2",
            context={
                "query": q.strip(),
                "hits": search(snapshot, q) if q.strip() else [],
                "services": sorted(snapshot.services.values(), key=lambda s: s.name.get(language).casefold()),
                "bundles": list(snapshot.bundles.values()),
                "offices": list(snapshot.offices.values()),
                "office": chosen,
                "office_services": [snapshot.services[s] for s in offered_at(snapshot, office)] if chosen else [],
            },
        )

    @get("/life-events/{slug:str}", media_type=MediaType.HTML)
    async def life_event(self, slug: FromPath[str], db_session: DbSession, now: Now, catalog: CatalogDep) -> Template:
        """A life event: what it is, the services it needs, and one link to book them all as one appointment."""
        snapshot = await catalog.get(db_session, now=now)
        bundle = snapshot.bundles.get(slug)
        if bundle is None:
            raise NotFoundException()
        minutes = sum(int(s.duration.total_seconds() // 60) for s in bundle.services)
        bookable = all(s.bookable_online for s in bundle.services)
        return Template(
            "offices/life_event.html.j2",
            context={
                "bundle": bundle,
                "minutes": minutes,
                "bookable": bookable,
                "book_url": "/book?services=" + ",".join(s.slug for s in bundle.services),
            },
        )
