from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError


class EmailSyncProvider(models.Model):
    """A mail provider preset: the server settings users would otherwise look up."""
    _name = 'email.sync.provider'
    _description = 'Mail provider preset'
    _inherit = ['email.sync.server.mixin']
    _order = 'sequence, name'

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help='Technical name, stable across versions.')
    sequence = fields.Integer(default=100)
    active = fields.Boolean(default=True)
    stores_sent_copy = fields.Boolean(
        'Saves sent mail itself',
        help='The provider puts a copy of mail sent through its SMTP server in the Sent '
             'folder, so the CRM must not append another one.')
    max_message_mb = fields.Integer(
        'Largest message (MB)', help='Largest message the provider accepts; 0 if unknown.')
    login_hint = fields.Char('What to enter as login')
    help_text = fields.Text('How to connect')
    oauth_app_id = fields.Many2one(
        'email.sync.oauth.app', 'Sign in with',
        help='Users of this preset sign in with this provider instead of a password, once an '
             'administrator has set up its app registration (Settings > Email sync).')

    _sql_constraints = [
        ('code_unique', 'unique(code)', 'Each provider preset needs its own code.'),
    ]

    @api.model
    def create(self, vals):
        if vals.get('oauth_app_id'):
            self._check_sign_in_admin()
        return super(EmailSyncProvider, self).create(vals)

    @api.multi
    def write(self, vals):
        if 'oauth_app_id' in vals:
            self._check_sign_in_admin()
        return super(EmailSyncProvider, self).write(vals)

    def _check_sign_in_admin(self):
        # Which sign-in a preset uses decides where users' tokens go: an
        # administrator's choice, not an email-sync manager's.
        if self.env.uid != SUPERUSER_ID and not self.env.user.has_group('base.group_system'):
            raise AccessError(_('Only administrators choose which sign-in a provider preset uses.'))
