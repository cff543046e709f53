"""Which contact an address belongs to when several contacts carry it.

An address is primary on a contact (the contact's own email) or additional
(one of its other addresses). Primary wins; between equals, the oldest
contact wins. Archived contacts take part like any other: their mail stays
with them.
"""
import dataclasses
import datetime


@dataclasses.dataclass(frozen=True)
class Holder:
    """A contact holding an address."""
    partner_id: int
    is_primary: bool
    created: datetime.datetime | str | None = None


def _age_key(holder):
    # The oldest first; ids break ties (and stand in for a missing date).
    created = holder.created
    if isinstance(created, datetime.datetime):
        created = created.strftime('%Y-%m-%d %H:%M:%S.%f')
    return (created or '9999', holder.partner_id)


def choose_contact(holders) -> int | None:
    """The partner id an address goes to, or None when nobody holds it."""
    holders = list(holders)
    if not holders:
        return None
    primary = [h for h in holders if h.is_primary]
    pool = primary or holders
    return min(pool, key=_age_key).partner_id


def assign(holders_by_address) -> dict:
    """{address: partner id} for {address: [Holder, ...]}; addresses nobody holds are left out."""
    chosen = {}
    for address, holders in holders_by_address.items():
        partner_id = choose_contact(holders)
        if partner_id:
            chosen[address] = partner_id
    return chosen
