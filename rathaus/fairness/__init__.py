"""No reward for bots: a proof of work before bookings and wishes, and rate limits shared by every instance."""

from rathaus.fairness.deps import Proof
from rathaus.fairness.limits import RateLimiter, kind_of, rate_limits
from rathaus.fairness.proof import PayloadField, ProofOfWork

__all__ = ["PayloadField", "Proof", "ProofOfWork", "RateLimiter", "kind_of", "rate_limits"]
