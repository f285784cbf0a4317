"""The calendar feature's routes, jobs and commands."""

from rathaus.notify.calendar.commands import feeds
from rathaus.notify.calendar.controllers import (
    AgendaFeedController,
    BookingCalendarController,
    FeedController,
    ItineraryCalendarController,
    agenda_feed,
)
from rathaus.notify.calendar.jobs import export_feed_files
from rathaus.notify.calendar.service import FeedCache
from rathaus.wiring import Wiring

WIRING = Wiring(
    routes=[FeedController, BookingCalendarController, ItineraryCalendarController, AgendaFeedController, agenda_feed],
    components=[(FeedCache, lambda _runtime: FeedCache())],
    jobs=[(export_feed_files, 300)],
    commands=[feeds],
)
