"""Participants of a conversation to contacts: existing ones found by any of
their addresses (``res.partner._email_sync_find``), new ones created when the
company allows it and the address may become a contact (``address_rules``).

Only outside people are linked: never the mailbox owner, never colleagues
(addresses in the company's own domains).
"""
from ..lib import address_rules

# New contacts made from one conversation in one go: mail to a crowd (a
# spammer's 1,000 visible recipients) must neither fill the contact book nor
# take minutes to store. Participants come sender first, so the people who
# write are the ones who become contacts.
MAX_NEW_CONTACTS = 50


class ContactLinker:
    def __init__(self, mailbox, create=None):
        self.env = mailbox.env
        self.cr = mailbox.env.cr
        self.own = mailbox._own_addresses()
        rules = mailbox.user_id.company_id._email_sync_rules()
        self.own_domains = rules['own_domains']
        self.impersonal = rules['impersonal']
        self.create = rules['create_contacts'] if create is None else create
        self.company = mailbox.user_id.company_id

    def linkable(self, address):
        return bool(address) and address not in self.own and not address_rules.is_internal(
            address, self.own_domains)

    def partners_for(self, names_by_address):
        """{address: partner id} for the outside addresses, creating contacts
        for unknown ones where allowed."""
        wanted = {a: n for a, n in names_by_address.items() if self.linkable(a)}
        found = self.env['res.partner']._email_sync_find(wanted)
        unknown = [a for a in wanted if a not in found]
        if unknown and self.create:
            forgotten = self.env['email.sync.forgotten.address'].sudo()._forgotten_among(unknown)
            Partner = self.env['res.partner'].sudo().with_context(
                tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True)
            creatable = [address for address in unknown if address_rules.may_create_contact(
                address, self.own, self.own_domains, self.impersonal, forgotten)]
            for address in creatable[:MAX_NEW_CONTACTS]:
                found[address] = Partner.create({
                    'name': address_rules.contact_name(wanted[address], address),
                    'email': address,
                    'company_id': False,  # contacts are shared between companies, as Odoo's are
                }).id
        return found

    def link_thread(self, thread_id, names_by_address, replace=False):
        """Link a thread to the contacts of these addresses; with ``replace``,
        drop links to contacts that no longer hold any of them."""
        partner_ids = set(self.partners_for(names_by_address).values())
        if replace:
            self.cr.execute('DELETE FROM email_sync_thread_partner_rel WHERE thread_id = %s '
                            'AND partner_id != ALL(%s)', (thread_id, list(partner_ids) or [0]))
        if partner_ids:
            self.cr.execute(
                'INSERT INTO email_sync_thread_partner_rel (thread_id, partner_id) '
                'SELECT %s, unnest(%s) ON CONFLICT DO NOTHING', (thread_id, list(partner_ids)))
        return partner_ids
