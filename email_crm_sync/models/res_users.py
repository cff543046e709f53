from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..lib import address_rules

DEAL_LINK_MODES = [
    ('automatic', 'Automatic: link to the contact\'s only open deal'),
    ('manual', 'Manual: I link emails to deals myself'),
]


class ResUsers(models.Model):
    """Each user's own choices for their synced mail."""
    _inherit = 'res.users'

    email_sync_deal_link_mode = fields.Selection(
        DEAL_LINK_MODES, 'Link emails to deals', default='automatic', required=True)
    email_sync_blocked = fields.Text(
        'Blocked addresses',
        help='Addresses and domains (one per line) whose mail you do not want in the CRM. '
             'Mail that also involves anyone else is still synced.')

    email_sync_track_opens = fields.Boolean(
        'Track opens', default=True, help='New emails you write carry a tracking image.')
    email_sync_track_clicks = fields.Boolean(
        'Track clicks', default=True, help='Links in new emails you write are tracked.')

    email_sync_last_reapply = fields.Char('Last re-apply', readonly=True)

    def __init__(self, pool, cr):
        # Users may change these in their own Preferences.
        super(ResUsers, self).__init__(pool, cr)
        own_fields = ['email_sync_deal_link_mode', 'email_sync_blocked', 'email_sync_track_opens',
                      'email_sync_track_clicks']
        type(self).SELF_READABLE_FIELDS = list(type(self).SELF_READABLE_FIELDS) + own_fields + [
            'email_sync_last_reapply']
        type(self).SELF_WRITEABLE_FIELDS = list(type(self).SELF_WRITEABLE_FIELDS) + own_fields

    def _email_sync_blocked_entries(self):
        self.ensure_one()
        return address_rules.parse_entries(self.email_sync_blocked)

    @api.multi
    def action_email_sync_reapply_rules(self):
        """The user's block list (and the company's lists) applied to their stored mail."""
        self.ensure_one()
        if self != self.env.user:
            raise AccessError(_('You can only re-apply your own block list.'))
        mailboxes = self.env['email.sync.mailbox'].sudo().with_context(active_test=False).search(
            [('user_id', '=', self.id)])
        hidden, restored = self.env['email.sync.thread'].sudo()._reapply_rules(mailboxes)
        self.sudo().email_sync_last_reapply = _('%s: %d conversation(s) hidden, %d restored.') % (
            fields.Datetime.now()[:16], hidden, restored)
        # Back to the Preferences dialog (a button closes it), now showing the result.
        action = self.env.ref('base.action_res_users_my').read()[0]
        action['res_id'] = self.id
        return action
