"""The booking domain's routes and jobs."""

from rathaus.booking.controllers import BookingController, CatalogController, ClosureController
from rathaus.booking.jobs import expire_holds, purge_personal_data
from rathaus.wiring import Wiring

WIRING = Wiring(
    routes=[CatalogController, BookingController, ClosureController],
    jobs=[(expire_holds, 60), (purge_personal_data, 3600)],
)
