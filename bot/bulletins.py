"""Bulletins: messages to an organisation rather than about one case (a monthly report, planned
maintenance). Kept in the store (the web chat's feed reads them) and handed to the outbox as
one `bulletin` item, which the adapters fan out to each platform's places (Slack channels and
DMs, Teams conversations) with idempotency keys of their own — so a bulletin published twice
(two workers, a retry) is kept and posted once."""

from __future__ import annotations

from bot.evidence_records import BulletinRecord
from bot.messages import Person
from bot.outbox import new_item
from bot.store.base import Store

PLATFORM = "bulletin"
VENDOR_ADMINS = "vendor-admins"


def customer_audience(customer_id: str) -> str:
    """Everyone of the customer's (and the vendor's people): maintenance."""
    return f"customer:{customer_id}"


def admins_audience(customer_id: str) -> str:
    """The customer's admins (and the vendor's admins): the monthly report."""
    return f"customer-admins:{customer_id}"


def audiences_of(person: Person, customer_ids: list[str]) -> list[str]:
    """The audiences whose bulletins this person reads."""
    if person.is_vendor:
        out = [customer_audience(c) for c in customer_ids]
        if person.role == "admin":
            out += [admins_audience(c) for c in customer_ids] + [VENDOR_ADMINS]
        return out
    if person.role == "partner":
        return [customer_audience(c) for c in person.served_customers]
    if person.customer_id is None:
        return []
    out = [customer_audience(person.customer_id)]
    if person.role == "customer_admin":
        out.append(admins_audience(person.customer_id))
    return out


async def publish(store: Store, bulletin: BulletinRecord) -> bool:
    """Keep the bulletin and queue its delivery; False when it was published before."""
    if not await store.add_bulletin(bulletin):
        return False
    await store.enqueue_outbox([new_item(PLATFORM, bulletin.model_dump(mode="json"), None,
                                         key=f"bulletin:{bulletin.id}", now=bulletin.at)])
    return True
