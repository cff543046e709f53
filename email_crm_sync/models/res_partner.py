from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

from ..lib import address_rules, contact_match


class ResPartner(models.Model):
    """Contacts: several email addresses each, and their synced conversations."""
    _inherit = 'res.partner'

    email_sync_normalized = fields.Char(
        'Normalized email', compute='_compute_email_sync_normalized', store=True, index=True)
    email_sync_address_ids = fields.One2many(
        'email.sync.partner.address', 'partner_id', 'Other email addresses', groups='base.group_user',
        help='Further addresses of this contact: mail from or to them is linked here too.')
    # The conversations the reader may see. Links are written from the
    # conversation only (by its owner or the mail rules): written from here,
    # they would show anyone's conversation to whoever edits the contact.
    email_sync_thread_ids = fields.Many2many(
        'email.sync.thread', string='Email conversations', groups='base.group_user',
        compute='_compute_email_sync_thread_ids', inverse='_inverse_email_sync_thread_ids',
        search='_search_email_sync_thread_ids')
    email_sync_thread_count = fields.Integer('Emails', compute='_compute_email_sync_thread_count',
                                             groups='base.group_user')

    @api.depends('name', 'email')
    def _compute_email_formatted(self):
        # Python 3's formataddr refuses an address that is not ASCII (mail
        # as RFC 6532 allows it), which Odoo 11 never expected: a contact
        # made from such mail could not even be read.
        for partner in self:
            try:
                super(ResPartner, partner)._compute_email_formatted()
            except UnicodeEncodeError:
                partner.email_formatted = '"%s" <%s>' % (
                    (partner.name or '').replace('"', "'"), partner.email)

    @api.depends('email')
    def _compute_email_sync_normalized(self):
        for partner in self:
            partner.email_sync_normalized = address_rules.normalize(partner.email) or False

    def _compute_email_sync_thread_ids(self):
        Thread = self.env['email.sync.thread']
        linked = self._email_sync_linked_threads(self.filtered('id'))
        for partner in self:
            partner.email_sync_thread_ids = Thread.browse(sorted(linked.get(partner.id, ())))

    def _inverse_email_sync_thread_ids(self):
        if self.env.uid == SUPERUSER_ID:
            return  # nothing to write: the links belong to the conversations
        raise AccessError(_('Conversations are linked to contacts by their owner and the mail '
                            'rules, not from the contact.'))

    def _search_email_sync_thread_ids(self, operator, value):
        Thread = self.env['email.sync.thread']
        if value is False and operator in ('=', '!='):
            # With (!=) or without (=) a conversation the reader may see.
            with_threads = Thread.search([]).mapped('partner_ids').ids
            return [('id', 'in' if operator == '!=' else 'not in', with_threads)]
        return [('id', 'in', Thread.search([('id', operator, value)]).mapped('partner_ids').ids)]

    def _compute_email_sync_thread_count(self):
        # A company's conversations include those of its people (child_of).
        partners = self.filtered('id')  # a contact being created has none
        family = partners | partners.search([('id', 'child_of', partners.ids)]) if partners else partners
        linked = self._email_sync_linked_threads(family)
        parent_of = {member.id: member.parent_id.id for member in family}
        threads_of = {}
        for member_id, thread_ids in linked.items():
            ancestor, seen = member_id, set()
            while ancestor and ancestor not in seen:
                threads_of.setdefault(ancestor, set()).update(thread_ids)
                seen.add(ancestor)
                ancestor = parent_of.get(ancestor)
        for partner in self:
            partner.email_sync_thread_count = len(threads_of.get(partner.id, ()))

    def _email_sync_linked_threads(self, partners):
        """{partner id: ids of the conversations linked to it that the reader may
        see}, in two queries whatever the number of contacts (exports read
        thousands at once)."""
        if not partners:
            return {}
        visible = self.env['email.sync.thread'].search([('partner_ids', 'in', partners.ids)])
        if not visible:
            return {}
        self.env.cr.execute('SELECT partner_id, thread_id FROM email_sync_thread_partner_rel '
                            'WHERE partner_id IN %s AND thread_id IN %s',
                            (tuple(partners.ids), tuple(visible.ids)))
        linked = {}
        for partner_id, thread_id in self.env.cr.fetchall():
            linked.setdefault(partner_id, set()).add(thread_id)
        return linked

    def _email_sync_thread_domain(self):
        # A company's conversations include those of its people.
        return [('partner_ids', 'child_of', self.ids)]

    @api.multi
    def action_view_email_sync_threads(self):
        self.ensure_one()
        self.env['email.sync.thread'].check_access_rights('read')
        action = self.env.ref('email_crm_sync.email_sync_thread_action').read()[0]
        action['domain'] = self._email_sync_thread_domain()
        action['context'] = {'search_default_group_by_none': 1}
        # The web client titles the view with display_name when there is one.
        action['name'] = action['display_name'] = _('Emails of %s') % self.display_name
        return action

    # --- matching addresses to contacts ----------------------------------
    @api.model
    def _email_sync_find(self, addresses):
        """{address: partner id} for the contacts holding these addresses,
        archived ones included. Conflicts follow ``contact_match``."""
        addresses = tuple(set(a for a in addresses if a))
        if not addresses:
            return {}
        self.env.cr.execute("""
            SELECT p.email_sync_normalized, p.id, p.create_date, true
              FROM res_partner p
             WHERE p.email_sync_normalized IN %(addresses)s
            UNION ALL
            SELECT a.email_normalized, p.id, p.create_date, false
              FROM email_sync_partner_address a JOIN res_partner p ON p.id = a.partner_id
             WHERE a.email_normalized IN %(addresses)s
        """, {'addresses': addresses})
        holders = {}
        for address, partner_id, created, primary in self.env.cr.fetchall():
            holders.setdefault(address, []).append(contact_match.Holder(partner_id, primary, created))
        return contact_match.assign(holders)

    # --- deletion --------------------------------------------------------
    @api.multi
    def unlink(self):
        """Remember the addresses of deleted contacts (never recreated from mail)
        and re-match their conversations to whoever else holds the addresses."""
        remembered = {}
        for partner in self.with_context(active_test=False):
            for address in [partner.email_sync_normalized] + partner.email_sync_address_ids.mapped(
                    'email_normalized'):
                if address:
                    remembered.setdefault(address, partner.name or address)
        threads = self.env['email.sync.thread'].sudo().with_context(active_test=False).search(
            [('partner_ids', 'in', self.ids)])
        result = super(ResPartner, self).unlink()
        self.env['email.sync.forgotten.address'].sudo()._remember(remembered)
        if threads:
            threads.exists()._rematch_contacts()
        return result
