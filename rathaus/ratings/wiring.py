"""The ratings' page."""

from rathaus.ratings.pages import RatingPages
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[RatingPages])
