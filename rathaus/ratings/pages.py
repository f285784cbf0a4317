"""The rating page a citizen reaches from the message after a visit: stars and a comment, no sign-in, once."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from rathaus.errors import RathausError
from rathaus.ratings import service
from rathaus.web import DbSession, Now, PageController, language_of

Token = Annotated[str, PathParameter(max_length=64)]
_PAGE = "ratings/rate.html.j2"
_CLOSED = "ratings/closed.html.j2"


class RatingForm(msgspec.Struct):
    stars: Annotated[str, msgspec.Meta(max_length=2)] = ""
    comment: Annotated[str, msgspec.Meta(max_length=4000)] = ""


def _closed(request: Request[Any, Any, Any], error: RathausError) -> Template:
    """Why the link no longer takes a rating (unknown, already used, expired), with the error's status."""
    return Template(_CLOSED, context={"message": error.message(language_of(request))}, status_code=error.status)


class RatingPages(PageController):
    @get("/rate/{token:str}", media_type=MediaType.HTML)
    async def form(
        self,
        request: Request[Any, Any, Any],
        token: Token,
        db_session: DbSession,
        now: Now,
        stars: Annotated[str, QueryParameter(max_length=2)] = "",
    ) -> Template:
        """The rating form; `?stars=` (a star tapped in the e-mail) is chosen already. Reading it changes nothing,
        so that link checkers and previews cannot use the token up."""
        try:
            await service.open_rating(db_session, token=token, now=now)
        except RathausError as error:
            return _closed(request, error)
        return Template(_PAGE, context={"token": token, "form": RatingForm(stars=stars), "errors": {}})

    @post("/rate/{token:str}", media_type=MediaType.HTML)
    async def give(
        self,
        request: Request[Any, Any, Any],
        token: Token,
        data: Annotated[RatingForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: DbSession,
        now: Now,
    ) -> Template | Redirect:
        """Record the rating (once) and thank; a refusal shows why next to the field and records nothing."""
        try:
            stars = int(data.stars) if data.stars.isdigit() else 0
            await service.rate(db_session, token=token, stars=stars, comment=data.comment, now=now)
        except RathausError as error:
            if error.code in {"invalid_stars", "comment_too_long"}:
                field = "stars" if error.code == "invalid_stars" else "comment"
                errors = {field: error.message(language_of(request))}
                context = {"token": token, "form": data, "errors": errors}
                return Template(_PAGE, context=context, status_code=error.status)
            return _closed(request, error)
        return Redirect("/rate/thanks", status_code=303)

    @get("/rate/thanks", media_type=MediaType.HTML, exclude_from_csrf=True)
    async def thanks(self) -> Template:
        """Thanks for the rating."""
        return Template("ratings/thanks.html.j2")
