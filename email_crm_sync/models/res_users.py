from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

from ..lib import address_rules
from .email_sync_audit_log import WATCHED_GROUPS

DEAL_LINK_MODES = [
    ('automatic', 'Automatic: link to the contact\'s only open deal'),
    ('manual', 'Manual: I link emails to deals myself'),
]


class ResUsers(models.Model):
    """Each user's own choices for their synced mail."""
    _inherit = 'res.users'

    email_sync_deal_link_mode = fields.Selection(
        DEAL_LINK_MODES, 'Link emails to deals', default='automatic', required=True)
    # Stored in a column of res_users that is not an ORM field: a user's block
    # list is theirs (it says whom they deal with), and Odoo shows res.users
    # fields to every employee.
    email_sync_blocked = fields.Text(
        'Blocked addresses', compute='_compute_email_sync_blocked',
        inverse='_inverse_email_sync_blocked',
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

    @api.model_cr
    def init(self):
        # The column once was a stored field: its values stay where they are.
        self.env.cr.execute('ALTER TABLE res_users ADD COLUMN IF NOT EXISTS email_sync_blocked text')

    def _compute_email_sync_blocked(self):
        mine = [user.id for user in self if user.id == self.env.uid or self.env.uid == SUPERUSER_ID]
        stored = {}
        if mine:
            self.env.cr.execute('SELECT id, email_sync_blocked FROM res_users WHERE id IN %s',
                                (tuple(mine),))
            stored = dict(self.env.cr.fetchall())
        for user in self:
            user.email_sync_blocked = stored.get(user.id) or False

    def _inverse_email_sync_blocked(self):
        for user in self:
            if user.id != self.env.uid and self.env.uid != SUPERUSER_ID:
                raise AccessError(_('You can only change your own block list.'))
            self.env.cr.execute('UPDATE res_users SET email_sync_blocked = %s WHERE id = %s',
                                (user.email_sync_blocked or None, user.id))

    # --- who joins or leaves the groups that reach mail: audit log ----------
    @api.model
    def create(self, values):
        user = super(ResUsers, self).create(values)
        user._email_sync_audit_membership({user.id: set()})
        return user

    @api.multi
    def write(self, values):
        # Groups come as groups_id or as the form's in_group_N / sel_groups_N fields.
        watched = any(key == 'groups_id' or key.startswith(('in_group_', 'sel_groups_'))
                      for key in values)
        before = self._email_sync_watched_groups() if watched else None
        result = super(ResUsers, self).write(values)
        if before is not None:
            self._email_sync_audit_membership(before)
        if {'password', 'new_password'} & set(values):
            # Someone who sets a user's password can sign in as them and read their mail.
            others = self.filtered(lambda user: user.id != self.env.uid)
            self.env['email.sync.audit.log']._record(
                'password', 'write', others,
                lambda user: _('Password of %s set by someone else') % user.sudo().name)
        return result

    def _email_sync_watched_groups(self):
        groups = [self.env.ref(xmlid, raise_if_not_found=False) for xmlid in WATCHED_GROUPS]
        ids = {group.id for group in groups if group}
        return {user.id: set(user.sudo().groups_id.ids) & ids for user in self}

    def _email_sync_audit_membership(self, before):
        after = self._email_sync_watched_groups()
        Group = self.env['res.groups'].sudo()
        for user in self:
            for group_ids, word in ((after[user.id] - before.get(user.id, set()), _('added to')),
                                    (before.get(user.id, set()) - after[user.id], _('removed from'))):
                if group_ids:
                    self.env['email.sync.audit.log']._record(
                        'membership', 'write', user, lambda u, ids=group_ids, word=word: '%s %s %s' % (
                            u.sudo().name, word, ', '.join(Group.browse(list(ids)).mapped('full_name'))))

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
