"""The packages that make up rathaus, lowest first: the one list the app, the worker and the CLI wire."""

from rathaus.admin.wiring import WIRING as ADMIN
from rathaus.booking.wiring import WIRING as BOOKING
from rathaus.desk.wiring import WIRING as DESK
from rathaus.fairness.wiring import WIRING as FAIRNESS
from rathaus.figures.wiring import WIRING as FIGURES
from rathaus.notify.calendar.wiring import WIRING as CALENDAR
from rathaus.notify.wiring import WIRING as NOTIFY
from rathaus.offices.wiring import WIRING as OFFICES
from rathaus.queue.wiring import WIRING as QUEUE
from rathaus.ratings.wiring import WIRING as RATINGS
from rathaus.staff.wiring import WIRING as STAFF
from rathaus.waitlist.wiring import WIRING as WAITLIST
from rathaus.wiring import Wiring

WIRINGS: tuple[Wiring, ...] = (
    FAIRNESS,
    STAFF,
    OFFICES,
    BOOKING,
    RATINGS,
    QUEUE,
    WAITLIST,
    DESK,
    NOTIFY,
    CALENDAR,
    ADMIN,
    FIGURES,
)

__all__ = ["WIRINGS"]
