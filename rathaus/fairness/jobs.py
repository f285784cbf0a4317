"""Scheduled work of the fairness package."""

from __future__ import annotations

from rathaus.fairness.proof import prune_spent
from rathaus.jobs import run_unit
from rathaus.runtime import Runtime


async def prune_spent_proofs(runtime: Runtime) -> object:
    """Forget proofs of work whose challenges have expired."""
    now = runtime.clock.now()
    return await run_unit(runtime, lambda s: prune_spent(s, now=now))
