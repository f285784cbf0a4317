"""The staff package's routes."""

from rathaus.staff.controllers import AuthController
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[AuthController])
