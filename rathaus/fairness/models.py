"""What every instance must see alike to keep bots from profiting: spent proofs of work and request counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rathaus.db import Base


class SpentProof(Base):
    """A solved ALTCHA challenge that has been used; a second use is refused until the challenge expires."""

    __tablename__ = "spent_proof"

    # A hash of the challenge's signature (the signature covers its random nonce, so each challenge has its own).
    proof: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # The Idempotency-Key of the request that spent it: a replay of that very request may show it again.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))


class RequestCount(Base):
    """How many requests of a kind one client made to one instance in one window (each instance writes only its
    own rows and reads the others' sums)."""

    __tablename__ = "request_count"

    instance: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The window's number: seconds since the epoch divided by the window's length.
    window: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # A keyed hash of the client's address: the address itself is never stored.
    client: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
