"""The figures package's routes."""

from rathaus.figures.controllers import FiguresController
from rathaus.figures.pages import FiguresPages
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[FiguresController, FiguresPages])
