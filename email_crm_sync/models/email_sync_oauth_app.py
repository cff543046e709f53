from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

from ..lib import oauth_flow
from .email_sync_mailbox import _secret_box

CALLBACK_PATH = '/email_crm_sync/oauth/callback'


class EmailSyncOauthApp(models.Model):
    """An identity platform users sign in with (Google, Microsoft ...).

    Its endpoints and scopes are preset data, so a preset can point at any
    standards-conformant server; the company's registered client (id,
    secret, Microsoft tenant) is set by an administrator in Settings. The
    client secret is kept encrypted in a column that is not an ORM field,
    like mailbox passwords: no read, export or RPC returns it.
    """
    _name = 'email.sync.oauth.app'
    _description = 'Sign-in provider (OAuth2)'
    # Endpoints decide where users' sign-ins go: every change is logged.
    _inherit = ['email.sync.audited.mixin']
    _audit_kind = 'oauth'
    _order = 'sequence, id'

    name = fields.Char(required=True, translate=True, help='Shown on the button: "Sign in with ..."')
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    authorize_url = fields.Char('Authorization endpoint', required=True)
    token_url = fields.Char('Token endpoint', required=True)
    revoke_url = fields.Char('Revocation endpoint')
    jwks_url = fields.Char('Key set (JWKS) of the ID tokens')
    issuer = fields.Char('ID token issuer')
    scopes = fields.Char(required=True)
    extra_params = fields.Char(
        'Extra authorization parameters',
        help='Added to the authorization request, e.g. "access_type=offline prompt=consent".')
    mail_hosts = fields.Char(
        'Mail servers', help='The IMAP and SMTP servers its tokens may be sent to, separated by '
                             'spaces. Empty: any server (only for a provider you run yourself).')
    uses_tenant = fields.Boolean(help='The endpoints contain {tenant} (Microsoft).')
    tenant = fields.Char(default='common', help='Microsoft: "common", "organizations" or your '
                                                'directory (tenant) id or domain.')
    client_id = fields.Char('Client ID')
    client_secret = fields.Char(
        'Client secret', compute='_compute_client_secret', inverse='_inverse_client_secret',
        help='Stored encrypted; never shown again once saved.')
    has_client_secret = fields.Boolean('Secret saved', compute='_compute_has_client_secret')
    ready = fields.Boolean('Set up', compute='_compute_ready',
                           help='Client ID and secret are set: users can sign in.')
    redirect_uri = fields.Char('Redirect URI', compute='_compute_redirect_uri')
    registration_help = fields.Text('Where to register the app', translate=True)

    _sql_constraints = [('code_unique', 'unique(code)', 'Each sign-in provider needs its own code.')]

    @api.model_cr
    def init(self):
        self.env.cr.execute(
            'ALTER TABLE email_sync_oauth_app ADD COLUMN IF NOT EXISTS secret_ciphertext text')

    def _compute_client_secret(self):
        for app in self:
            app.client_secret = False

    def _inverse_client_secret(self):
        for app in self:
            if app.client_secret:  # blank keeps the stored secret
                app._set_client_secret(app.client_secret)

    def _set_client_secret(self, secret):
        if self.env.uid != SUPERUSER_ID and not self.env.user.has_group('base.group_system'):
            raise AccessError(_('Only administrators set up sign-in providers.'))
        for app in self:
            self.env.cr.execute('UPDATE email_sync_oauth_app SET secret_ciphertext = %s WHERE id = %s',
                                (_secret_box().encrypt(secret) if secret else None, app.id))
        self.invalidate_cache(['has_client_secret', 'ready'], self.ids)
        self._audit('write')

    def _get_client_secret(self):
        self.ensure_one()
        self.env.cr.execute('SELECT secret_ciphertext FROM email_sync_oauth_app WHERE id = %s',
                            (self.id,))
        row = self.env.cr.fetchone()
        return _secret_box().decrypt(row[0]) if row and row[0] else ''

    def _compute_has_client_secret(self):
        stored = {}
        if self.ids:
            self.env.cr.execute('SELECT id, secret_ciphertext IS NOT NULL FROM email_sync_oauth_app '
                                'WHERE id IN %s', (tuple(self.ids),))
            stored = dict(self.env.cr.fetchall())
        for app in self:
            app.has_client_secret = stored.get(app.id, False)

    @api.depends('client_id')
    def _compute_ready(self):
        for app in self:
            app.ready = bool(app.client_id and app.has_client_secret and app.authorize_url
                             and app.token_url)

    def _compute_redirect_uri(self):
        uri = self._callback_url()
        for app in self:
            app.redirect_uri = uri

    def _audit_description(self):
        return '%s (%s, client %s, mail servers %s)' % (
            self.name, self.authorize_url, self.client_id or '-', self.mail_hosts or 'any')

    @api.model
    def _callback_url(self):
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        return base.rstrip('/') + CALLBACK_PATH

    def _endpoints(self):
        """The lib's view of this provider, {tenant} filled in."""
        self.ensure_one()
        tenant = (self.tenant or 'common').strip()

        def fill(url):
            return (url or '').replace('{tenant}', tenant) if self.uses_tenant else (url or '')
        extra = tuple(tuple(pair.split('=', 1)) for pair in (self.extra_params or '').split()
                      if '=' in pair)
        return oauth_flow.Endpoints(
            authorize_url=fill(self.authorize_url), token_url=fill(self.token_url),
            scopes=' '.join((self.scopes or '').split()), revoke_url=fill(self.revoke_url),
            jwks_url=fill(self.jwks_url), issuer=fill(self.issuer), extra_params=extra)

    def _client(self):
        self.ensure_one()
        return oauth_flow.Client(client_id=(self.client_id or '').strip(),
                                 client_secret=self._get_client_secret(),
                                 redirect_uri=self._callback_url())
