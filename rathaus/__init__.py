"""rathaus: appointment booking and walk-in queues for citizen-service offices."""

__all__: list[str] = []
