"""The calendar feature's routes."""

from rathaus.notify.calendar.controllers import BookingCalendarController, FeedController
from rathaus.notify.calendar.service import FeedCache
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[FeedController, BookingCalendarController], state={"feed_cache": FeedCache})
