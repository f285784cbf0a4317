"""The booking domain's routes and jobs."""

from rathaus.booking.controllers import BookingController, CatalogController, ClosureController
from rathaus.booking.jobs import expire_holds
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[CatalogController, BookingController, ClosureController], jobs=[(expire_holds, 60)])
