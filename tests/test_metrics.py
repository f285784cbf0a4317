"""Operations: /metrics after real traffic agrees with the database; /ready says whether the database answers."""

import gc
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar, Response, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from rathaus.app import create_app
from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.metrics import request_metrics
from rathaus.notify.models import OutboxMessage
from rathaus.queue.models import Ticket
from tests import conftest
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(harness: Harness, **headers: str) -> tuple[str, Samples]:
    answer = await harness.client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text, samples(answer.text)


async def test_metrics_after_traffic_match_the_database(harness: Harness, clock: ManualClock) -> None:
    await harness.load(make_config())
    clock.set(datetime(2027, 1, 11, 8, 0, tzinfo=UTC))  # 09:00 in Berlin: open for walk-ins
    token = await staff_token(harness, "desk")
    _, before = await scrape(harness)

    codes, emails = [], []
    for hour in (10, 11):
        email = f"person{hour}@example.org"
        made = await harness.client.post(
            "/api/v1/bookings", json=booking_body(f"2027-01-11T{hour}:00:00+01:00", email=email)
        )
        assert made.status_code == 201, made.text
        codes.append(made.json()["code"])
        emails.append(email)
        manage = made.json()["manage_token"]
    cancelled = await harness.client.post(
        f"/api/v1/bookings/{codes[-1]}/cancel", headers={"Authorization": f"Bearer {manage}"}
    )
    assert cancelled.status_code in (200, 201), cancelled.text
    taken = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T10:00:00+01:00"))
    assert taken.status_code == 409
    walk_in = await harness.client.post(
        "/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert walk_in.status_code == 201, walk_in.text
    viewed = await harness.client.get(f"/api/v1/bookings/{codes[0]}", headers={"Authorization": "Bearer wrong"})
    assert viewed.status_code == 404

    clock.advance(timedelta(seconds=90))  # nothing dispatched (no scheduler in tests): the outbox lags
    text, after = await scrape(harness)

    # Requests per route template, never the raw path: codes, e-mail addresses and tokens appear nowhere.
    posts = {"name": "rathaus_http_requests_total", "method": "POST", "path": "/api/v1/bookings", "app_name": "rathaus"}
    assert value(after, **posts, status_code="201") - value(before, **posts, status_code="201") == 2
    assert value(after, **posts, status_code="409") - value(before, **posts, status_code="409") == 1
    assert (
        value(
            after,
            "rathaus_http_request_duration_seconds_count",
            method="POST",
            path="/api/v1/bookings",
            status_code="201",
            app_name="rathaus",
        )
        >= 2
    )
    assert any('path="/api/v1/bookings/{code' in line for line in text.splitlines()), text
    for secret in [*codes, *emails, manage, token]:
        assert secret not in text

    async with harness.session() as session:
        bookings = dict((await session.execute(select(Booking.status, func.count()).group_by(Booking.status))).all())
        tickets = dict((await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all())
        outbox = dict(
            (await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()
        )
        oldest_due = await session.scalar(
            select(func.min(OutboxMessage.due_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.due_at <= clock.now()
            )
        )
    assert bookings == {"confirmed": 1, "cancelled": 1}
    for status in ("pending", "confirmed", "cancelled", "completed"):
        assert value(after, "rathaus_bookings", office="amt", status=status) == bookings.get(status, 0)
    assert tickets == {"waiting": 1}
    assert value(after, "rathaus_tickets", office="amt", status="waiting") == 1
    assert value(after, "rathaus_tickets", office="amt", status="called") == 0
    assert outbox.get("pending", 0) >= 2  # confirmations and the cancellation
    assert (
        sum(value(after, "rathaus_outbox_messages", channel=c, status="pending") for c in ("email", "sms"))
        == outbox["pending"]
    )
    assert oldest_due is not None
    lag = value(after, "rathaus_outbox_lag_seconds")
    assert lag == (clock.now() - oldest_due.replace(tzinfo=UTC)).total_seconds()
    assert lag >= 90


async def test_metrics_ask_for_the_token_when_one_is_set(db_url: str, clock: ManualClock) -> None:
    async with open_harness(db_url, clock, metrics_token="s3cret-metrics-token") as harness:
        refused = await harness.client.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["code"]
        assert (await harness.client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
        text, _ = await scrape(harness, Authorization="Bearer s3cret-metrics-token")
        assert "rathaus_outbox_lag_seconds" in text


async def test_ready_while_the_database_answers(harness: Harness) -> None:
    answer = await harness.client.get("/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "database": "up"}


async def test_not_ready_when_the_database_does_not_answer(tmp_path: Path, clock: ManualClock) -> None:
    app = create_app(conftest.test_settings(f"sqlite+aiosqlite:///{tmp_path}/missing/rathaus.db"), clock=clock)
    # The driver leaves the connection that could not open to the garbage collector: collect it here, quietly,
    # rather than in whichever test runs next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        async with AsyncTestClient(app=app) as client:
            answer = await client.get("/ready")
            assert answer.status_code == 503
            assert answer.json()["database"] == "down"
            assert answer.headers["retry-after"]
            assert (await client.get("/health")).status_code == 200  # alive, just not ready
        del client, app
        gc.collect()


async def test_server_errors_durations_and_requests_in_progress_are_exported() -> None:
    @get("/metrics-probe/{status:int}", sync_to_thread=False)
    def probe(status: FromPath[int]) -> Response[str]:
        # What a scrape sees while this very request runs.
        running = value(
            samples(generate_latest(REGISTRY).decode()),
            "rathaus_http_requests_in_progress",
            method="GET",
            path="/metrics-probe/{status}",
            status_code="200",
            app_name="rathaus",
        )
        return Response(str(running), status_code=status)

    async with AsyncTestClient(app=Litestar([probe], middleware=[request_metrics])) as client:
        answers = [await client.get(f"/metrics-probe/{status}") for status in (503, 503, 200)]
    assert [answer.text for answer in answers] == ["1.0"] * 3
    found = samples(generate_latest(REGISTRY).decode())
    labels = {"method": "GET", "path": "/metrics-probe/{status}", "app_name": "rathaus"}
    for status, count in (("503", 2), ("200", 1)):
        assert value(found, "rathaus_http_requests_total", **labels, status_code=status) == count
        assert value(found, "rathaus_http_request_duration_seconds_count", **labels, status_code=status) == count
        assert value(found, "rathaus_http_request_duration_seconds_sum", **labels, status_code=status) > 0
        assert value(found, "rathaus_http_requests_created", **labels, status_code=status) > 0
        buckets = [
            value(found, "rathaus_http_request_duration_seconds_bucket", **labels, status_code=status, le=le)
            for le in ("0.005", "0.01", "0.1", "1.0", "10.0", "+Inf")
        ]
        assert buckets == sorted(buckets) and buckets[-1] == count  # cumulative, every request counted once
    assert value(found, "rathaus_http_requests_error_total", **labels, status_code="503") == 2
    assert ("rathaus_http_requests_error_total", frozenset({**labels, "status_code": "200"}.items())) not in found
    assert value(found, "rathaus_http_requests_in_progress", **labels, status_code="200") == 0
