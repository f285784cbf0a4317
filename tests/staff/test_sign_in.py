"""Signing in to the staff pages: the session cookie, CSRF, the guard (redirect and 403), the growing delay and the
lock after failures (on the injected clock, without sleeping), sign-out and password change."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select

from rathaus.errors import RathausError
from rathaus.staff._sign_in import CLIENT_LOCK_AFTER, LOCK_AFTER, WINDOW, Attempt, verify_password
from rathaus.staff.models import SignInAttempt, StaffSession
from rathaus.staff.pages_auth import STAFF_COOKIE, safe_next
from tests.conftest import Harness
from tests.factories import make_config
from tests.queue.helpers import two_offices
from tests.staff_helpers import PASSWORD, add_staff
from tests.staff_helpers import sign_in_page as sign_in
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio


async def test_a_clerk_signs_in_with_a_secure_cookie_and_comes_back_where_they_wanted(harness: Harness) -> None:
    await harness.load(make_config())
    await add_staff(harness, "clerk")
    anonymous = await harness.client.get("/staff", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/staff/sign-in?next=%2Fstaff"

    answer = await sign_in(harness, "clerk", next_="/staff")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/staff"
    cookie = SimpleCookie(answer.headers["set-cookie"])[STAFF_COOKIE]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    home = await harness.client.get("/staff")
    assert home.status_code == 200
    assert "clerk" in home.text and 'href="/staff/amt/desk"' in home.text
    async with harness.session() as session:
        [stored] = (await session.scalars(select(StaffSession))).all()
        assert stored.id_hash != cookie.value  # only the hash is kept

    # Signing out ends the session for good: the old cookie no longer opens anything.
    home = await harness.client.get("/staff")
    out = await harness.client.post("/staff/sign-out", data={"_csrf_token": csrf(home)}, follow_redirects=False)
    assert out.status_code == 303
    harness.client.cookies.set(STAFF_COOKIE, cookie.value)
    assert (await harness.client.get("/staff", follow_redirects=False)).status_code == 303


async def test_a_form_without_its_csrf_token_is_refused(harness: Harness) -> None:
    await harness.load(make_config())
    await add_staff(harness, "clerk")
    await harness.client.get("/staff/sign-in")  # the CSRF cookie alone is not enough
    answer = await harness.client.post(
        "/staff/sign-in", data={"username": "clerk", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 403
    async with harness.session() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0


async def test_another_offices_clerk_gets_403_and_idle_sessions_end(harness: Harness) -> None:
    await harness.load(two_offices())
    await add_staff(harness, "zweit", offices=("zwei",))
    assert (await sign_in(harness, "zweit")).status_code == 303
    for page in ("/staff/amt/desk", "/staff/amt/counter"):
        refused = await harness.client.get(page, headers={"accept-language": "en"})
        assert refused.status_code == 403
        assert "You are not allowed to do that" in refused.text and "/staff/sign-out" in refused.text
    assert (await harness.client.get("/staff/zwei/desk")).status_code == 200
    harness.clock.advance(timedelta(minutes=61))
    idle = await harness.client.get("/staff", follow_redirects=False)
    assert idle.status_code == 303 and idle.headers["location"].startswith("/staff/sign-in")


async def test_failures_delay_then_lock_the_account_even_for_the_right_password(harness: Harness) -> None:
    await harness.load(make_config())
    await add_staff(harness, "clerk")
    for _ in range(3):
        wrong = await sign_in(harness, "clerk", "wrong password")
        assert wrong.status_code == 401
        assert "Benutzername oder Passwort falsch" in wrong.text
    # The third failure asks for a second's pause: even the right password waits.
    delayed = await sign_in(harness, "clerk")
    assert delayed.status_code == 429
    for _ in range(LOCK_AFTER - 3):
        harness.clock.advance(timedelta(minutes=1, seconds=5))
        assert (await sign_in(harness, "clerk", "wrong password")).status_code == 401
    harness.clock.advance(timedelta(minutes=5))
    locked = await sign_in(harness, "clerk")
    assert locked.status_code == 429
    assert "gesperrt" in locked.text
    # The API's token endpoint shares the lock.
    api = await harness.client.post("/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD})
    assert api.status_code == 429
    harness.clock.advance(WINDOW)
    assert (await sign_in(harness, "clerk")).status_code == 303
    async with harness.session() as session:
        outcomes = (await session.scalars(select(SignInAttempt.outcome).order_by(SignInAttempt.id))).all()
    assert outcomes == ["failure"] * 3 + ["refused"] + ["failure"] * (LOCK_AFTER - 3) + ["refused"] * 2 + ["success"]


async def test_unknown_names_are_counted_like_accounts_but_never_stored(harness: Harness) -> None:
    await harness.load(make_config())
    for _ in range(4):
        answer = await sign_in(harness, "ghost-user", "wrong password")
    assert answer.status_code == 429
    async with harness.session() as session:
        rows = (await session.scalars(select(SignInAttempt))).all()
    assert len(rows) == 4 and all(r.user_id is None for r in rows)
    assert all("ghost" not in r.account_key and "127.0.0.1" not in r.client_key for r in rows)


async def test_the_password_change_checks_the_current_one_and_ends_other_sessions(harness: Harness) -> None:
    await harness.load(make_config())
    await add_staff(harness, "clerk")
    token = (await harness.client.post("/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD})).json()[
        "token"
    ]
    await sign_in(harness, "clerk")
    page = await harness.client.get("/staff/password")
    new = "a much longer new passphrase"
    wrong = await harness.client.post(
        "/staff/password",
        data={"_csrf_token": csrf(page), "current": "not it", "new": new, "repeated": new},
        headers={"accept-language": "en"},
    )
    assert wrong.status_code == 422 and "The current password is wrong" in wrong.text
    short = await harness.client.post(
        "/staff/password", data={"_csrf_token": csrf(page), "current": PASSWORD, "new": "short", "repeated": "short"}
    )
    assert short.status_code == 422
    changed = await harness.client.post(
        "/staff/password",
        data={"_csrf_token": csrf(page), "current": PASSWORD, "new": new, "repeated": new},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert (await harness.client.get("/staff")).status_code == 200  # this session goes on
    me = await harness.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # the API token of before is gone
    harness.client.cookies.clear()
    assert (await sign_in(harness, "clerk", new)).status_code == 303


def test_next_stays_on_this_site() -> None:
    assert safe_next("/staff/amt/desk?x=1") == "/staff/amt/desk?x=1"
    for evil in ("https://evil.example", "//evil.example", "/\\evil.example", "", None, "staff"):
        assert safe_next(evil) == "/staff"


async def test_many_failures_from_one_address_lock_that_address_for_every_account(harness: Harness) -> None:
    await harness.load(make_config())
    await add_staff(harness, "clerk")
    now = harness.clock.now()
    secret = harness.runtime.settings.secret_key

    async def attempt(username: str, password: str, client: str) -> str:
        async with harness.session() as session:
            try:
                await verify_password(
                    session, attempt=Attempt(username, client, "page"), password=password, secret_key=secret, now=now
                )
            except RathausError as error:
                await session.commit()  # the record of a refused attempt is kept
                return error.code
            await session.commit()
            return "ok"

    # Every name only once, so no account is delayed: only the address adds up.
    codes = [await attempt(f"guess{i}", "wrong password", "203.0.113.9") for i in range(CLIENT_LOCK_AFTER)]
    assert set(codes) == {"bad_credentials"}
    assert await attempt("clerk", PASSWORD, "203.0.113.9") == "sign_in_locked"
    assert await attempt("clerk", PASSWORD, "198.51.100.7") == "ok"  # another address is not affected
