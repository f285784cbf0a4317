"""The calendar feature's routes, jobs and commands."""

from rathaus.wiring import Wiring

WIRING = Wiring()
