"""The front desk package's routes."""

from rathaus.desk.home import StaffHome
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[StaffHome])
