"""What the controllers of other packages inject from this one."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.fairness.proof import ProofOfWork
from rathaus.web import runtime_of

Proof = NamedDependency[ProofOfWork]


def provide_proof(state: State) -> ProofOfWork:
    """The instance's proof of work."""
    return runtime_of(state).get(ProofOfWork)


DEPENDENCIES = {"proof": Provide(provide_proof, sync_to_thread=False)}
