"""What controllers inject from the catalogue."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.offices.catalog import Catalog
from rathaus.web import runtime_of

CatalogDep = NamedDependency[Catalog]


def provide_catalog(state: State) -> Catalog:
    """The instance's cached catalogue."""
    return runtime_of(state).get(Catalog)


DEPENDENCIES = {"catalog": Provide(provide_catalog, sync_to_thread=False)}
