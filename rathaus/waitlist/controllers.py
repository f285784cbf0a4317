"""HTTP API of the waiting list: parse, call one service operation, present."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, PathParameter

from rathaus.errors import RathausError
from rathaus.fairness import Proof
from rathaus.offices.deps import CatalogDep
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.waitlist import presenters, schemas, service
from rathaus.waitlist.deps import WaitlistCtx
from rathaus.web import DbSession, Now, bearer_token
from rathaus.web_openapi import ERRORS_OPT

Code = Annotated[str, PathParameter(max_length=32)]
OfferToken = Annotated[str, PathParameter(max_length=100)]
WishToken = NamedDependency[str]


def provide_wish_token(request: Request[Any, Any, Any]) -> str:
    """The manage token from the Authorization header or ?token=; a missing one answers like a wrong one."""
    value = bearer_token(request) or request.query_params.get("token")
    if not value:
        raise RathausError("unknown_wish")
    return value


def windows(data: list[schemas.WishWindowRequest]) -> list[service.Window]:
    """API windows as the service's."""
    return [
        service.Window(
            tuple(schemas.WEEKDAYS.index(d) for d in w.weekdays), time.fromisoformat(w.start), time.fromisoformat(w.end)
        )
        for w in data
    ]


class WishController(Controller):
    path = "/api/v1/wishes"
    tags = ["waiting list"]
    dependencies = {"wish_token": Provide(provide_wish_token, sync_to_thread=False)}

    @post("/")
    async def create(
        self,
        data: JSONBody[schemas.WishCreate],
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        proof: Proof,
        now: Now,
    ) -> schemas.Wish:
        """Register a wish, with a solved proof of work (`altcha`); confirm it with the code sent to the chosen
        channel."""
        await proof.spend(db_session, payload=data.altcha, now=now)
        request = service.WishRequest(
            services=data.services,
            offices=data.offices,
            first_day=data.first_day,
            last_day=data.last_day,
            name=data.name,
            channel=data.channel,
            email=data.email or None,
            phone=data.phone or None,
            language=data.language,
            windows=windows(data.windows),
        )
        return presenters.wish(await service.register(db_session, ctx=waitlist_ctx, request=request, now=now))

    @get("/{code:str}")
    async def read(
        self, code: Code, wish_token: WishToken, db_session: DbSession, waitlist_ctx: WaitlistCtx, now: Now
    ) -> schemas.Wish:
        """A wish with its place among the matching wishes and its open offer."""
        return presenters.wish(await service.view(db_session, ctx=waitlist_ctx, code=code, token=wish_token, now=now))

    @post("/{code:str}/confirm", status_code=200, opt={ERRORS_OPT: [429]})
    async def confirm(
        self,
        code: Code,
        wish_token: WishToken,
        data: JSONBody[schemas.WishConfirm],
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> schemas.Wish:
        """Confirm the wish's contact with the code we sent."""
        result = await service.confirm(
            db_session,
            ctx=waitlist_ctx,
            code=code,
            token=wish_token,
            verification_code=data.verification_code,
            now=now,
        )
        return presenters.wish(result)

    @patch("/{code:str}")
    async def update(
        self,
        code: Code,
        wish_token: WishToken,
        data: JSONBody[schemas.WishUpdate],
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> schemas.Wish:
        """Change the days and times of a waiting wish."""
        change = service.WishChange(
            first_day=data.first_day,
            last_day=data.last_day,
            windows=None if data.windows is None else windows(data.windows),
        )
        result = await service.change(db_session, ctx=waitlist_ctx, code=code, token=wish_token, change=change, now=now)
        return presenters.wish(result)

    @post("/{code:str}/withdraw", status_code=200)
    async def withdraw(
        self, code: Code, wish_token: WishToken, db_session: DbSession, waitlist_ctx: WaitlistCtx, now: Now
    ) -> schemas.Wish:
        """Withdraw the wish; a slot held for it goes to the next wish."""
        result = await service.withdraw(db_session, ctx=waitlist_ctx, code=code, token=wish_token, now=now)
        return presenters.wish(result)


class OfferController(Controller):
    path = "/api/v1/offers"
    tags = ["waiting list"]

    @get("/{token:str}")
    async def read(
        self, token: OfferToken, db_session: DbSession, waitlist_ctx: WaitlistCtx, now: Now
    ) -> schemas.Offer:
        """The offer behind a link."""
        return presenters.offer(await service.offer_by_token(db_session, ctx=waitlist_ctx, token=token, now=now))

    @post("/{token:str}/accept", status_code=200)
    async def accept(
        self, token: OfferToken, db_session: DbSession, waitlist_ctx: WaitlistCtx, now: Now
    ) -> schemas.Offer:
        """Take the offered appointment: the answer carries the booking with its manage token."""
        return presenters.offer(await service.accept(db_session, ctx=waitlist_ctx, token=token, now=now))

    @post("/{token:str}/decline", status_code=200)
    async def decline(
        self, token: OfferToken, db_session: DbSession, waitlist_ctx: WaitlistCtx, now: Now
    ) -> schemas.Offer:
        """Say no: the slot goes to the next wish, this wish keeps waiting."""
        return presenters.offer(await service.decline(db_session, ctx=waitlist_ctx, token=token, now=now))


class WaitlistPolicyController(Controller):
    path = "/api/v1/offices/{office:str}/waitlist-policy"
    tags = ["staff"]
    dependencies = STAFF_ONLY

    @get("/")
    async def read(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        catalog: CatalogDep,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> schemas.WaitlistPolicy:
        """How the office orders its wishes."""
        rules = await catalog.office(db_session, office, now=now)
        staff.require(rules.id)
        ordering = await service.ordering_of(db_session, ctx=waitlist_ctx, office_id=rules.id)
        return schemas.WaitlistPolicy(ordering=ordering)  # type: ignore[arg-type]

    @put("/")
    async def update(
        self,
        office: FromPath[str],
        data: JSONBody[schemas.WaitlistPolicy],
        staff: CurrentStaff,
        db_session: DbSession,
        catalog: CatalogDep,
        now: Now,
    ) -> schemas.WaitlistPolicy:
        """Choose first come first served or a lottery per release."""
        rules = await catalog.office(db_session, office, now=now)
        staff.require(rules.id, role="admin")
        await service.set_ordering(db_session, office_id=rules.id, ordering=data.ordering)
        return data


class WaitlistFiguresController(Controller):
    path = "/api/v1/offices/{office:str}/waitlist"
    tags = ["waiting list"]

    @get("/")
    async def read(
        self, office: FromPath[str], db_session: DbSession, catalog: CatalogDep, now: Now
    ) -> schemas.WaitlistFigures:
        """How the office's waiting list serves citizens: wishes waiting, offers and their answers, the median
        time from wish to appointment, and the share of freed slots that went to wishes."""
        snapshot = await catalog.get(db_session, now=now)
        rules = await catalog.office(db_session, office, now=now)
        return presenters.figures(await service.figures(db_session, office_id=rules.id), rules, snapshot.services_by_id)
