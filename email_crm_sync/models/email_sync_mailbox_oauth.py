"""Mailboxes connected by signing in with a provider (OAuth2): the form,
the start of a sign-in and its end when the provider sends the user back.

The pending sign-ins live in ``email_sync_oauth_request``, a table written
with SQL and never an ORM field, so no RPC can read it: by the SHA-256 of
their ``state``, the user, mailbox, provider app and browser session they
belong to and the PKCE verifier and nonce (encrypted). Single use, valid for
minutes. Tokens: see email_sync_oauth_token.py.
"""
import datetime
import hashlib
import json
import logging

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib import oauth_flow, secret_box
from .email_sync_mailbox import _secret_box

_logger = logging.getLogger(__name__)

AUTH_METHODS = [('password', 'Password'), ('oauth', 'Sign in with the provider')]
REQUEST_LIFETIME = datetime.timedelta(minutes=10)

# Problems of the sign-in callback, besides oauth_flow's codes.
STATE_UNKNOWN = 'state_unknown'
STATE_USED = 'state_used'
STATE_EXPIRED = 'state_expired'
OTHER_USER = 'other_user'
OTHER_BROWSER = 'other_browser'
MISSING_VERIFIER = 'missing_verifier'
WRONG_ACCOUNT = 'wrong_account'
ADDRESS_TAKEN = 'address_taken'


def _digest(text):
    return hashlib.sha256((text or '').encode('utf-8')).hexdigest()


class EmailSyncMailbox(models.Model):
    _inherit = 'email.sync.mailbox'

    auth_method = fields.Selection(AUTH_METHODS, 'Sign-in', default='password', required=True,
                                   copy=False)
    oauth_app_id = fields.Many2one(related='provider_id.oauth_app_id', readonly=True)
    oauth_app_code = fields.Char(related='provider_id.oauth_app_id.code', readonly=True)
    oauth_ready = fields.Boolean(related='provider_id.oauth_app_id.ready', readonly=True)
    oauth_connected = fields.Boolean('Signed in', compute='_compute_oauth_connected')
    oauth_account = fields.Char('Signed in as', readonly=True, copy=False)

    @api.model_cr
    def init(self):
        super(EmailSyncMailbox, self).init()
        cr = self.env.cr
        cr.execute("""
            CREATE TABLE IF NOT EXISTS email_sync_oauth_request (
                state_hash varchar(64) PRIMARY KEY,
                user_id integer NOT NULL REFERENCES res_users(id) ON DELETE CASCADE,
                mailbox_id integer NOT NULL REFERENCES email_sync_mailbox(id) ON DELETE CASCADE,
                session_hash varchar(64) NOT NULL,
                secret_ciphertext text,
                created_at timestamp without time zone NOT NULL DEFAULT (now() at time zone 'utc'),
                used_at timestamp without time zone)""")
        cr.execute('ALTER TABLE email_sync_oauth_request ADD COLUMN IF NOT EXISTS app_id integer')

    # --- form ----------------------------------------------------------------
    def _compute_oauth_connected(self):
        connected = set()
        if self.ids:
            self.env.cr.execute('SELECT mailbox_id FROM email_sync_oauth_token WHERE mailbox_id IN %s '
                                'AND refresh_ciphertext IS NOT NULL', (tuple(self.ids),))
            connected = {row[0] for row in self.env.cr.fetchall()}
        for mailbox in self:
            mailbox.oauth_connected = mailbox.id in connected

    @api.onchange('provider_id')
    def _onchange_provider_auth_method(self):
        self.auth_method = 'oauth' if self.provider_id.oauth_app_id.ready else 'password'

    @api.constrains('email', 'auth_method')
    def _check_email_given(self):
        for mailbox in self:
            if mailbox.auth_method == 'password' and not (mailbox.email or '').strip():
                raise ValidationError(_('Enter the email address of the mailbox.'))

    def _has_credentials(self):
        self.ensure_one()
        return self.oauth_connected if self.auth_method == 'oauth' else self.has_password

    def _missing_credentials_message(self):
        if self.auth_method == 'oauth':
            return _('Sign in with %s first.') % (self.oauth_app_id.name or _('the provider'))
        return _('Enter the password of this mailbox first.')

    @api.multi
    def write(self, vals):
        if 'oauth_account' in vals and not self.env.context.get('email_sync_oauth_internal') \
                and self.env.uid != SUPERUSER_ID:
            # Says who signed in: only a sign-in sets it (a disconnect clears it).
            vals = dict(vals)
            if vals.pop('oauth_account'):
                raise AccessError(_('The signed-in account is set by signing in.'))
        result = super(EmailSyncMailbox, self).write(vals)
        if {'auth_method', 'provider_id'} & set(vals):
            # Back to a password, or another provider: that sign-in is
            # forgotten (and revoked where it was given); the mail stays.
            self._oauth_tokens_not_fitting()._oauth_forget(revoke=True)
        return result

    # --- signing in ------------------------------------------------------------
    @api.multi
    def action_oauth_sign_in(self):
        """Send the owner to the provider's sign-in and consent page."""
        from odoo.http import request
        session_id = getattr(getattr(request, 'session', None), 'sid', None) if request else None
        if not session_id:
            raise UserError(_('Sign in from the web client, in your browser.'))
        return {'type': 'ir.actions.act_url', 'url': self._oauth_begin(session_id), 'target': 'self'}

    def _oauth_begin(self, session_id):
        """Record a pending sign-in bound to this user and browser session;
        returns the provider's authorization URL."""
        self._check_owner()
        self.ensure_one()
        app = self.oauth_app_id.sudo()
        if not app or not app.ready:
            raise UserError(_('Signing in with this provider is not set up. Ask your '
                              'administrator to enter the app registration in Settings > '
                              'Email sync, or use a password.'))
        authorization = oauth_flow.start(app._endpoints(), app._client(),
                                         login_hint=(self.email or '').strip())
        secrets = _secret_box().encrypt(json.dumps({'verifier': authorization.code_verifier,
                                                    'nonce': authorization.nonce}))
        cr = self.env.cr
        cr.execute("DELETE FROM email_sync_oauth_request WHERE created_at < "
                   "(now() at time zone 'utc') - interval '1 day'")
        cr.execute('INSERT INTO email_sync_oauth_request (state_hash, user_id, mailbox_id, app_id, '
                   'session_hash, secret_ciphertext) VALUES (%s, %s, %s, %s, %s, %s)',
                   (_digest(authorization.state), self.env.uid, self.id, app.id, _digest(session_id),
                    secrets))
        return authorization.url

    @api.model
    def _oauth_claim(self, state, session_id):
        """Take up the pending sign-in the provider's answer names, whatever
        follows: a state is used once. The caller commits right after, before
        any network exchange (Odoo may run a request again after a conflict;
        the code must not be spent twice).

        Returns a dict: ``mailbox``, ``problem`` and ``params`` (the problem
        code and its wording parameters, None when the state is good), and
        for a good state the ``app`` it was started with, ``verifier``, ``nonce``.
        """
        claim = {'mailbox': self.browse(), 'problem': None, 'params': {}}
        cr = self.env.cr
        row = None
        if state:
            cr.execute("SELECT user_id, mailbox_id, session_hash, secret_ciphertext, app_id, "
                       "created_at < (now() at time zone 'utc') - %s, used_at IS NOT NULL "
                       "FROM email_sync_oauth_request WHERE state_hash = %s FOR UPDATE",
                       (REQUEST_LIFETIME, _digest(state)))
            row = cr.fetchone()
        if not row:
            return dict(claim, problem=STATE_UNKNOWN)
        user_id, mailbox_id, session_hash, ciphertext, app_id, expired, used = row
        cr.execute("UPDATE email_sync_oauth_request SET used_at = (now() at time zone 'utc'), "
                   "secret_ciphertext = NULL WHERE state_hash = %s", (_digest(state),))
        mailbox = self.sudo().browse(mailbox_id).exists()
        if user_id != self.env.uid or not mailbox:
            return dict(claim, problem=OTHER_USER)
        mailbox = mailbox.sudo(self.env.uid)
        claim['mailbox'] = mailbox
        if session_hash != _digest(session_id):
            base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
            return dict(claim, problem=OTHER_BROWSER, params={'address': base})
        if used:
            return dict(claim, problem=STATE_USED)
        if expired:
            return dict(claim, problem=STATE_EXPIRED)
        try:
            secrets = json.loads(_secret_box().decrypt(ciphertext)) if ciphertext else {}
        except (secret_box.SecretError, ValueError):
            secrets = {}
        return dict(claim, app=self.env['email.sync.oauth.app'].sudo().browse(app_id).exists(),
                    verifier=secrets.get('verifier'), nonce=secrets.get('nonce', ''))

    @api.model
    def _oauth_exchange(self, claim, code, error):
        """The provider's answer to a good claim: (tokens, problem, params).
        Network only; writes nothing."""
        mailbox, app = claim['mailbox'], claim.get('app')
        if error:
            return None, oauth_flow.authorization_error(error).code, {}
        if not code:
            return None, oauth_flow.BAD_ANSWER, {}
        if not claim.get('verifier'):
            return None, MISSING_VERIFIER, {}
        if not app or app != mailbox.sudo().oauth_app_id:
            return None, STATE_EXPIRED, {}      # the provider of the mailbox changed meanwhile
        try:
            tokens = oauth_flow.exchange_code(app._endpoints(), app._client(), code,
                                              claim['verifier'], claim['nonce'])
        except oauth_flow.OAuthProblem as problem:
            _logger.info('Mailbox %s: sign-in refused (%s %s)', mailbox.id, problem.code, problem.detail)
            return None, problem.code, {}
        return tokens, None, {}

    def _oauth_accept(self, tokens):
        """Store a sign-in the provider granted, unless it is not this
        mailbox's account: (problem, params). A refused one is revoked."""
        self.ensure_one()
        expected = (self.email or '').strip()
        signed_in = tokens.email or expected
        problem, params = None, {}
        if not signed_in:
            problem = oauth_flow.NO_EMAIL
        elif expected and signed_in.lower() != expected.lower():
            problem, params = WRONG_ACCOUNT, {'signed_in': signed_in, 'email': expected}
        else:
            # Archived mailboxes count: the address is unique per user all the same.
            self.env.cr.execute('SELECT 1 FROM email_sync_mailbox WHERE user_id = %s AND id != %s '
                                'AND lower(email) = lower(%s)', (self.user_id.id, self.id, signed_in))
            if self.env.cr.fetchone():
                problem, params = ADDRESS_TAKEN, {'email': signed_in}
        app = self.sudo().oauth_app_id
        if problem:
            # Leave nothing alive at the provider for a sign-in not kept.
            oauth_flow.revoke(app._endpoints(), app._client(), tokens.refresh_token)
            return problem, params
        self._oauth_store(app, tokens)
        # The account signed in is who the mail servers are asked for.
        self.with_context(email_sync_oauth_internal=True).write({
            'auth_method': 'oauth', 'oauth_account': signed_in, 'email': expected or signed_in,
            'login': signed_in, 'state': 'draft', 'last_error': False, 'last_error_date': False})
        # The password is no longer what this mailbox signs in with.
        self.env.cr.execute('UPDATE email_sync_mailbox SET secret_ciphertext = NULL WHERE id = %s',
                            (self.id,))
        self.invalidate_cache(['has_password', 'oauth_connected'], self.ids)
        return None, {}

    def _oauth_problem_message(self, code, params=None):
        """The user's words for a sign-in problem."""
        values = dict(params or {}, provider=self.oauth_app_id.name or _('the provider'))
        messages = {
            STATE_UNKNOWN: _('This sign-in link is not valid: it may have been changed on the way. '
                             'Nothing was connected. Start again with the Sign in button of your '
                             'mailbox.'),
            STATE_USED: _('This sign-in link has been used already, so it was not used again. '
                          'Nothing was changed. Start again with the Sign in button of your mailbox.'),
            STATE_EXPIRED: _('The sign-in took more than 10 minutes and has expired. Nothing was '
                             'connected. Start again with the Sign in button of your mailbox.'),
            OTHER_USER: _('This sign-in was started by another user, so it was refused and nothing '
                          'was connected. Sign in from your own mailbox.'),
            OTHER_BROWSER: _('This sign-in came back to another browser session than the one it '
                             'was started in, so it was refused and nothing was connected. Open '
                             'Odoo at %(address)s, in one browser, and sign in again from your '
                             'mailbox.'),
            MISSING_VERIFIER: _('This sign-in could not be checked (its security code is missing), '
                                'so it was refused and nothing was connected. Start again with the '
                                'Sign in button of your mailbox.'),
            WRONG_ACCOUNT: _('You signed in to %(provider)s as %(signed_in)s, but this mailbox is '
                             '%(email)s. Nothing was connected. Sign in again with %(email)s, or '
                             'change the address of the mailbox first.'),
            ADDRESS_TAKEN: _('You have connected %(email)s already, in another mailbox. Nothing was '
                             'connected here.'),
            oauth_flow.ACCESS_DENIED: _('You did not allow access to your mailbox at %(provider)s, so '
                                        'nothing was connected. To connect it, press Sign in again '
                                        'and accept.'),
            oauth_flow.CLIENT_REJECTED: _('%(provider)s refused the app registration of your company '
                                          '(client ID, client secret, redirect URI or permissions). '
                                          'Nothing was connected. Ask your administrator to check '
                                          'Settings > Email sync.'),
            oauth_flow.GRANT_REFUSED: _('%(provider)s did not accept the sign-in (it expired or was '
                                        'used already). Nothing was connected. Press Sign in again.'),
            oauth_flow.UNREACHABLE: _('%(provider)s could not be reached to complete the sign-in. '
                                      'Nothing was connected. Try again in a moment.'),
            oauth_flow.TIMEOUT: _('%(provider)s did not answer in time to complete the sign-in. '
                                  'Nothing was connected. Try again in a moment.'),
            oauth_flow.BAD_ANSWER: _('%(provider)s answered the sign-in in an unexpected way. '
                                     'Nothing was connected. Try again; if it keeps happening, '
                                     'tell your administrator.'),
            oauth_flow.PROVIDER_ERROR: _('%(provider)s could not complete the sign-in. Nothing was '
                                         'connected. Try again; if it keeps happening, tell your '
                                         'administrator.'),
            oauth_flow.ID_TOKEN_INVALID: _('The identity %(provider)s returned could not be verified, '
                                           'so nothing was connected. Try again; if it keeps '
                                           'happening, tell your administrator.'),
            oauth_flow.NO_EMAIL: _('%(provider)s did not tell which email address you signed in '
                                   'with. Enter the address in the mailbox and sign in again.'),
            oauth_flow.NO_REFRESH_TOKEN: _('%(provider)s gave access for one hour only, not lasting '
                                           'access, so nothing was connected. Ask your '
                                           'administrator to check the permissions (offline '
                                           'access) of the app registration.'),
        }
        return messages.get(code, messages[oauth_flow.PROVIDER_ERROR]) % values

    @api.multi
    def action_oauth_disconnect(self):
        """Forget the sign-in (and ask the provider to revoke it); mail stays."""
        self._check_owner()
        self._oauth_forget(revoke=True)
        self.with_context(email_sync_oauth_internal=True).write(
            {'state': 'draft', 'oauth_account': False, 'next_sync_date': False})
        return True
