"""The notify domain's routes, plugins, lifespans, jobs and commands."""

from rathaus.wiring import Wiring

WIRING = Wiring()
