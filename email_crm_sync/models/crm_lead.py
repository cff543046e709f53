from odoo import _, api, fields, models


class CrmLead(models.Model):
    """Deals and leads: their linked email conversations."""
    _inherit = 'crm.lead'

    email_sync_thread_ids = fields.One2many('email.sync.thread', 'lead_id', 'Email conversations',
                                            readonly=True)
    email_sync_thread_count = fields.Integer('Emails', compute='_compute_email_sync_thread_count')

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
        action = self.env.ref('email_crm_sync.email_sync_thread_action').read()[0]
        action['domain'] = [('lead_id', '=', self.id)]
        action['context'] = {'default_lead_id': self.id}
        # The web client titles the view with display_name when there is one.
        action['name'] = action['display_name'] = _('Emails of %s') % self.name
        return action
