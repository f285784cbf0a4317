"""Calendars: per-booking iCalendar objects, public feeds, staff agenda feeds, static export."""
