"""The ratings' page and the cache of the offices' public scores."""

from rathaus.ratings.pages import RatingPages
from rathaus.ratings.service import ScoreCache
from rathaus.wiring import Wiring

WIRING = Wiring(routes=[RatingPages], components=[(ScoreCache, lambda _runtime: ScoreCache())])
