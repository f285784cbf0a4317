"""An office's figures (bookings, waits, service times, counters, cancellations, messages) and its audit trail."""
