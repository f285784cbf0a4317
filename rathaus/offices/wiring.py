"""The catalogue's routes, dependencies and the per-instance catalogue cache."""

from rathaus.offices.catalog import Catalog
from rathaus.offices.controllers import BarrierReportController, CatalogController
from rathaus.offices.deps import DEPENDENCIES
from rathaus.offices.jobs import load_public_holidays
from rathaus.offices.pages import CataloguePages
from rathaus.offices.schema_org import JsonLdCache
from rathaus.page_cache import PageCache
from rathaus.runtime import Runtime
from rathaus.wiring import Wiring


def _catalog(runtime: Runtime) -> Catalog:
    return Catalog(ttl=runtime.settings.availability_cache_seconds, sessions=runtime.read_session_maker)


WIRING = Wiring(
    routes=[CatalogController, BarrierReportController, CataloguePages],
    dependencies=DEPENDENCIES,
    # The rendered pages of every package that shows the catalogue (this one and those above it).
    components=[
        (Catalog, _catalog),
        (PageCache, lambda runtime: PageCache()),
        (JsonLdCache, lambda runtime: JsonLdCache()),
    ],
    jobs=[(load_public_holidays, 6 * 3600)],
)
