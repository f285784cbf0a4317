"""The availability API's answers kept as encoded bytes, answered before Litestar parses the request.

The API's hottest read answers from cached days already; what it still cost per request was the framework's work
around the handler (parameters, dependencies, the response) and the handler's checks. An answer is kept per path
and query once its handler gave it (so only a query the handler accepted is ever answered from here) and served
while `availability` would answer the very same bytes: the office's rules and the day's cached slots are the
objects it was made from, and the booking window, which moves with the clock, lets the same slots through
(`service.same_answer`). A booking or cancellation committed here moves the cached day at once, so the next
request finds its answer void; one made elsewhere shows within the cache's setting, as before.
"""

from __future__ import annotations

from collections.abc import Hashable

from litestar.types import Scope

from rathaus.page_cache import Kept, RenderedPage

# A city of 300 offices with a few choices of services for the next days; a full store starts again.
_MAX_ANSWERS = 10_000


class AvailabilityAnswers(Kept[RenderedPage]):
    """Encoded availability answers of this instance."""

    def __init__(self) -> None:
        super().__init__(max_entries=_MAX_ANSWERS)


def answer_key(scope: Scope) -> Hashable:
    """What an answer depends on besides its sources: the office (path), services, date and mode (query). Not the
    language: the answer has no text."""
    return (scope["path"], scope["query_string"])
