"""The notify domain's routes, plugins, lifespans, jobs and commands."""

from rathaus.notify.commands import notify, worker
from rathaus.notify.controllers import BookingMessagesController, OutboxController
from rathaus.notify.jobs import dispatch_outbox, notify_lifespan
from rathaus.notify.policy import Policies
from rathaus.notify.reactions import SUBSCRIPTIONS
from rathaus.notify.webhooks import TwilioController
from rathaus.offices.catalog import Catalog
from rathaus.wiring import Wiring

WIRING = Wiring(
    routes=[BookingMessagesController, OutboxController, TwilioController],
    lifespans=[notify_lifespan],
    jobs=[(dispatch_outbox, 15)],
    commands=[worker, notify],
    subscriptions=SUBSCRIPTIONS,
    components=[(Policies, lambda runtime: Policies(runtime.get(Catalog)))],
)
