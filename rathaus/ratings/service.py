"""Inviting a rating after a visit, recording it once, and what the ratings add up to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import tokens
from rathaus.db import dialect_insert
from rathaus.errors import RathausError
from rathaus.ratings.models import Rating
from rathaus.text import visible

VALIDITY = timedelta(days=14)
PUBLIC_DAYS = 90
MAX_COMMENT = 1000
MAX_STARS = 5


async def invite(
    session: AsyncSession,
    *,
    visit: str,
    office_id: int,
    service_ids: list[int],
    mode: str,
    day: date,
    now: datetime,
) -> str | None:
    """A new rating token for the visit, or None if the visit was already invited (at most once per visit)."""
    token = tokens.new_token()
    statement = (
        dialect_insert(session, Rating)
        .values(
            visit=visit,
            token_hash=tokens.hash_secret(token),
            office_id=office_id,
            service_ids=service_ids,
            mode=mode,
            day=day,
            created_at=now,
            expires_at=now + VALIDITY,
        )
        .on_conflict_do_nothing(index_elements=[Rating.visit])
        .returning(Rating.id)
    )
    return token if (await session.scalars(statement)).one_or_none() is not None else None


async def open_rating(session: AsyncSession, *, token: str, now: datetime) -> Rating:
    """The rating the token invites, if it can still be given; else why not (unknown, used, expired)."""
    rating = await session.scalar(select(Rating).where(Rating.token_hash == tokens.hash_secret(token)))
    if rating is None:
        raise RathausError("unknown_rating")
    if rating.rated_at is not None:
        raise RathausError("already_rated")
    if rating.expires_at <= now:
        raise RathausError("rating_expired")
    return rating


async def rate(session: AsyncSession, *, token: str, stars: int, comment: str, now: datetime) -> None:
    """Record the stars and comment; the token works once (a second use is refused, also when concurrent)."""
    if not 1 <= stars <= MAX_STARS:
        raise RathausError("invalid_stars")
    text = visible(comment)
    if len(text) > MAX_COMMENT:
        raise RathausError("comment_too_long", maximum=MAX_COMMENT)
    statement = (
        update(Rating)
        .where(
            Rating.token_hash == tokens.hash_secret(token),
            Rating.rated_at.is_(None),
            Rating.expires_at > now,
        )
        .values(stars=stars, comment=text or None, rated_at=now)
        .returning(Rating.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.scalars(statement)).one_or_none() is None:
        await open_rating(session, token=token, now=now)  # raises why
        raise RathausError("already_rated")  # given meanwhile by a concurrent request


@dataclass(frozen=True, slots=True)
class Score:
    count: int
    average: float | None


async def public_score(session: AsyncSession, *, office_id: int, today: date) -> Score:
    """The office's average stars and number of ratings over the last 90 days."""
    count, average = (
        await session.execute(
            select(func.count(Rating.stars), func.avg(Rating.stars)).where(
                Rating.office_id == office_id,
                Rating.stars.is_not(None),
                Rating.day > today - timedelta(days=PUBLIC_DAYS),
                Rating.day <= today,
            )
        )
    ).one()
    return Score(int(count), None if average is None else round(float(average), 1))


class ScoreCache:
    """Each office's public score, read from the database at most once per `ttl` (the figure moves slowly; the
    office page is read often)."""

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        self._scores: dict[tuple[int, date], tuple[datetime, Score]] = {}

    async def get(self, session: AsyncSession, *, office_id: int, today: date, now: datetime) -> Score:
        """The office's score as of at most `ttl` ago."""
        kept = self.peek(office_id=office_id, today=today, now=now)
        if kept is not None:
            return kept
        score = await public_score(session, office_id=office_id, today=today)
        if len(self._scores) > 10_000:
            self._scores.clear()
        self._scores[(office_id, today)] = (now, score)
        return score

    def peek(self, *, office_id: int, today: date, now: datetime) -> Score | None:
        """The kept score if it is at most `ttl` old, without reading (None otherwise)."""
        kept = self._scores.get((office_id, today))
        return kept[1] if kept is not None and now - kept[0] < self.ttl else None


@dataclass(frozen=True, slots=True)
class Given:
    day: date
    stars: int
    service_ids: tuple[int, ...]
    comment: str | None


async def given(session: AsyncSession, *, office_id: int, first: date, last: date) -> list[Given]:
    """The ratings given for visits on the office's days first..last, by day."""
    rows = await session.execute(
        select(Rating.day, Rating.stars, Rating.service_ids, Rating.comment)
        .where(Rating.office_id == office_id, Rating.stars.is_not(None), Rating.day >= first, Rating.day <= last)
        .order_by(Rating.day, Rating.id)
    )
    return [Given(day, int(stars), tuple(ids or ()), comment) for day, stars, ids, comment in rows]


def scores_by(ratings: list[Given], key: str) -> dict[object, Score]:
    """Count and average per day (`key="day"`), per service (`"service"`: a rating counts for each of its
    services), or of all of them (`"all"`)."""
    stars: dict[object, list[int]] = defaultdict(list)
    for r in ratings:
        keys: list[object] = [r.day] if key == "day" else list(r.service_ids) if key == "service" else ["all"]
        for k in keys:
            stars[k].append(r.stars)
    return {k: Score(len(v), round(sum(v) / len(v), 1)) for k, v in stars.items()}
