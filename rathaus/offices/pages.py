"""The catalogue's pages for citizens: the home page with every service and life event."""

from __future__ import annotations

from litestar import MediaType, get
from litestar.response import Template

from rathaus.offices.deps import CatalogDep
from rathaus.web import DbSession, Now, PageController


class CataloguePages(PageController):
    @get("/", media_type=MediaType.HTML)
    async def home(self, db_session: DbSession, now: Now, catalog: CatalogDep) -> Template:
        """Where citizens start: the services and life events, and the offices."""
        snapshot = await catalog.get(db_session, now=now)
        return Template(
            "offices/home.html.j2",
            context={
                "services": sorted(snapshot.services.values(), key=lambda s: s.slug),
                "bundles": list(snapshot.bundles.values()),
                "offices": list(snapshot.offices.values()),
            },
        )
