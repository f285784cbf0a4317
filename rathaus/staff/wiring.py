"""The staff package's routes and this instance's token cache."""

from datetime import timedelta

from rathaus.staff.controllers import AuthController
from rathaus.staff.pages import PasswordPages, SignInPages
from rathaus.staff.token_cache import StaffAccessChanged, TokenCache
from rathaus.wiring import Wiring

WIRING = Wiring(
    routes=[AuthController, SignInPages, PasswordPages],
    components=[
        (TokenCache, lambda runtime: TokenCache(timedelta(seconds=runtime.settings.staff_token_cache_seconds)))
    ],
    subscriptions=[(StaffAccessChanged, lambda runtime: runtime.get(TokenCache).on_change)],
)
