"""The staff package's routes."""

from rathaus.staff.controllers import AuthController
from rathaus.staff.pages import PasswordPages, SignInPages
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[AuthController, SignInPages, PasswordPages])
