"""The staff package's routes and this instance's token cache."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar

from rathaus.staff._sign_in import dummy_hash
from rathaus.staff.controllers import AuthController
from rathaus.staff.pages import PasswordPages, SignInPages
from rathaus.staff.token_cache import StaffAccessChanged, TokenCache
from rathaus.wiring import Wiring


@asynccontextmanager
async def _dummy_hash_made(_app: Litestar) -> AsyncIterator[None]:
    """Before the server takes requests, so that even its first sign-in with an unknown name takes no longer than
    one with a wrong password."""
    dummy_hash()
    yield


WIRING = Wiring(
    routes=[AuthController, SignInPages, PasswordPages],
    lifespans=[_dummy_hash_made],
    components=[
        (TokenCache, lambda runtime: TokenCache(timedelta(seconds=runtime.settings.staff_token_cache_seconds)))
    ],
    subscriptions=[(StaffAccessChanged, lambda runtime: runtime.get(TokenCache).on_change)],
)
