"""The staff page that opens the waiting-room display on a screen, with its language and sound chosen."""

from __future__ import annotations

from litestar import MediaType, get
from litestar.params import FromPath
from litestar.response import Template

from rathaus import i18n
from rathaus.queue.deps import QueueCtx
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import StaffPage
from rathaus.web import DbSession, Now


class DisplayLauncher(StaffPage):
    @get("/staff/{office:str}/display", name="staff-display", media_type=MediaType.HTML)
    async def launcher(
        self, office: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, now: Now
    ) -> Template:
        """How to put the display on a screen: its address, the main language, chime and spoken announcement."""
        rules = await queue_ctx.booking.catalog.office(db_session, office, now=now)
        staff.require(rules.id)
        language = i18n.current_language()
        return Template(
            "queue/display_launcher.html.j2",
            context={
                "staff": staff,
                "office": rules.slug,
                "office_name": rules.name.get(language),
                "board_url": f"/offices/{rules.slug}/board",
                "absolute_url": f"{queue_ctx.public_base_url}/offices/{rules.slug}/board",
                "languages": [(code, i18n.language_name(code)) for code in i18n.languages()],
            },
        )
