"""The staff's pages at the front desk and the counters."""
