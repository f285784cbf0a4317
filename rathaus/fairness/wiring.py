"""The fairness package's route, dependencies, job, and the instance's proof of work and rate limiter."""

from __future__ import annotations

import contextlib

from litestar import Litestar

from rathaus.fairness.controllers import AltchaController
from rathaus.fairness.deps import DEPENDENCIES
from rathaus.fairness.jobs import prune_spent_proofs
from rathaus.fairness.limits import RateLimiter, limits_of, syncing
from rathaus.fairness.proof import ProofOfWork
from rathaus.runtime import Runtime
from rathaus.web import runtime_of
from rathaus.wiring import Wiring


def _limiter(runtime: Runtime) -> RateLimiter:
    return RateLimiter(limits_of(runtime.settings), runtime.settings.secret_key)


def _proof(runtime: Runtime) -> ProofOfWork:
    return ProofOfWork.from_settings(runtime.settings)


def _share_counts(app: Litestar) -> contextlib.AbstractAsyncContextManager[None]:
    runtime = runtime_of(app.state)
    every = runtime.settings.rate_limit_sync_seconds
    return syncing(runtime.get(RateLimiter), runtime.session_maker, runtime.clock.now, every)


WIRING = Wiring(
    routes=[AltchaController],
    dependencies=DEPENDENCIES,
    lifespans=[_share_counts],
    jobs=[(prune_spent_proofs, 600)],
    components=[(RateLimiter, _limiter), (ProofOfWork, _proof)],
)
