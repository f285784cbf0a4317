"""The admin package's routes."""

from rathaus.admin.catalogue import CataloguePages
from rathaus.admin.pages import AdminPages
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[AdminPages, CataloguePages])
