from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError


class CrmLead(models.Model):
    """Deals and leads: their linked email conversations."""
    _inherit = 'crm.lead'

    # The conversations the reader may see; linked from the conversation only.
    email_sync_thread_ids = fields.Many2many(
        'email.sync.thread', string='Email conversations', groups='base.group_user',
        compute='_compute_email_sync_thread_ids', inverse='_inverse_email_sync_thread_ids')
    email_sync_thread_count = fields.Integer('Emails', compute='_compute_email_sync_thread_count',
                                             groups='base.group_user')

    def _compute_email_sync_thread_ids(self):
        Thread = self.env['email.sync.thread']
        for lead in self:
            lead.email_sync_thread_ids = Thread.search(
                [('lead_id', '=', lead.id)]) if lead.ids else Thread

    def _inverse_email_sync_thread_ids(self):
        if self.env.uid == SUPERUSER_ID:
            return  # nothing to write: the links belong to the conversations
        raise AccessError(_('Link a conversation to a deal from the conversation.'))

    def _compute_email_sync_thread_count(self):
        counts = {lead_id: count for lead_id, count in (
            (group['lead_id'][0], group['lead_id_count'])
            for group in self.env['email.sync.thread'].read_group(
                [('lead_id', 'in', self.ids)], ['lead_id'], ['lead_id']))}
        for lead in self:
            lead.email_sync_thread_count = counts.get(lead.id, 0)

    @api.multi
    def action_view_email_sync_threads(self):
        self.ensure_one()
        self.env['email.sync.thread'].check_access_rights('read')
        action = self.env.ref('email_crm_sync.email_sync_thread_action').read()[0]
        action['domain'] = [('lead_id', '=', self.id)]
        action['context'] = {'default_lead_id': self.id}
        # The web client titles the view with display_name when there is one.
        action['name'] = action['display_name'] = _('Emails of %s') % self.name
        return action
