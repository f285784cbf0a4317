"""The front desk package's routes."""

from rathaus.desk.counter import CounterPages
from rathaus.desk.home import StaffHome
from rathaus.desk.pages import DeskPages
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[StaffHome, DeskPages, CounterPages])
