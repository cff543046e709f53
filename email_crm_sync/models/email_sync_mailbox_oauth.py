"""Mailboxes connected by signing in with a provider (OAuth2, XOAUTH2).

Two tables of their own, written with SQL and never ORM fields, so no read,
export or RPC can return what they hold:

- ``email_sync_oauth_token``: per mailbox, the refresh token and the access
  token (both encrypted with the key outside the database) and the access
  token's expiry. Refreshed in a transaction of its own under a row lock:
  concurrent workers wait for the first one and use the token it stored, so
  a rotated refresh token is never lost nor used twice.
- ``email_sync_oauth_request``: the pending sign-ins, by the SHA-256 of their
  ``state``: user, mailbox, browser session, PKCE verifier and nonce
  (encrypted). Single use, valid for minutes.
"""
import datetime
import hashlib
import json
import logging
import time

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..lib import connection_errors, oauth_flow, secret_box
from .email_sync_mailbox import _secret_box

_logger = logging.getLogger(__name__)

AUTH_METHODS = [('password', 'Password'), ('oauth', 'Sign in with the provider')]
REQUEST_LIFETIME = datetime.timedelta(minutes=10)
# Refresh this long before the announced expiry: a sync must not start with
# a token that dies during its first minute.
REFRESH_MARGIN_SECONDS = 120
# Waiting longer than this for another worker's refresh: give up for this run.
LOCK_TIMEOUT = '30s'

# Problems of the sign-in callback, besides oauth_flow's codes.
STATE_UNKNOWN = 'state_unknown'
STATE_USED = 'state_used'
STATE_EXPIRED = 'state_expired'
OTHER_SESSION = 'other_session'
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
            CREATE TABLE IF NOT EXISTS email_sync_oauth_token (
                mailbox_id integer PRIMARY KEY REFERENCES email_sync_mailbox(id) ON DELETE CASCADE,
                refresh_ciphertext text,
                access_ciphertext text,
                access_expires_at double precision,
                updated_at timestamp without time zone DEFAULT (now() at time zone 'utc'))""")
        cr.execute("""
            CREATE TABLE IF NOT EXISTS email_sync_oauth_request (
                state_hash varchar(64) PRIMARY KEY,
                user_id integer NOT NULL REFERENCES res_users(id) ON DELETE CASCADE,
                mailbox_id integer NOT NULL REFERENCES email_sync_mailbox(id) ON DELETE CASCADE,
                session_hash varchar(64) NOT NULL,
                secret_ciphertext text,
                created_at timestamp without time zone NOT NULL DEFAULT (now() at time zone 'utc'),
                used_at timestamp without time zone)""")

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
        leaving_oauth = self.browse()
        if vals.get('auth_method') == 'password':
            leaving_oauth = self.filtered(lambda m: m.auth_method == 'oauth')
        result = super(EmailSyncMailbox, self).write(vals)
        # Back to a password: the sign-in is forgotten, mail stays.
        leaving_oauth._oauth_forget(revoke=True)
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
        cr.execute('INSERT INTO email_sync_oauth_request (state_hash, user_id, mailbox_id, '
                   'session_hash, secret_ciphertext) VALUES (%s, %s, %s, %s, %s)',
                   (_digest(authorization.state), self.env.uid, self.id, _digest(session_id), secrets))
        return authorization.url

    @api.model
    def _oauth_finish(self, state, code, error, session_id):
        """Complete a sign-in from the provider's answer to the callback.

        Returns (mailbox, problem, params): the mailbox when the state was
        valid, the problem code and its wording parameters when nothing was
        stored. The state is used up whatever happens.
        """
        cr = self.env.cr
        cr.execute("SELECT user_id, mailbox_id, session_hash, secret_ciphertext, "
                   "created_at < (now() at time zone 'utc') - %s, used_at IS NOT NULL "
                   "FROM email_sync_oauth_request WHERE state_hash = %s FOR UPDATE",
                   (REQUEST_LIFETIME, _digest(state or '')))
        row = cr.fetchone() if state else None
        if not row:
            return self.browse(), STATE_UNKNOWN, {}
        user_id, mailbox_id, session_hash, ciphertext, expired, used = row
        cr.execute("UPDATE email_sync_oauth_request SET used_at = (now() at time zone 'utc'), "
                   "secret_ciphertext = NULL WHERE state_hash = %s", (_digest(state),))
        mailbox = self.sudo().browse(mailbox_id).exists()
        if user_id != self.env.uid or session_hash != _digest(session_id) or not mailbox:
            return self.browse(), OTHER_SESSION, {}
        mailbox = mailbox.sudo(self.env.uid)
        if used:
            return mailbox, STATE_USED, {}
        if expired:
            return mailbox, STATE_EXPIRED, {}
        if error:
            problem = oauth_flow.authorization_error(error)
            return mailbox, problem.code, {}
        try:
            secrets = json.loads(_secret_box().decrypt(ciphertext)) if ciphertext else {}
        except (secret_box.SecretError, ValueError):
            secrets = {}
        if not code or not secrets.get('verifier'):
            return mailbox, MISSING_VERIFIER if code else oauth_flow.BAD_ANSWER, {}
        app = mailbox.sudo().oauth_app_id
        try:
            tokens = oauth_flow.exchange_code(app._endpoints(), app._client(), code,
                                              secrets['verifier'], secrets.get('nonce', ''))
        except oauth_flow.OAuthProblem as problem:
            _logger.info('Mailbox %s: sign-in refused (%s %s)', mailbox.id, problem.code, problem.detail)
            return mailbox, problem.code, {}
        expected = (mailbox.email or '').strip()
        signed_in = tokens.email or expected
        if not signed_in:
            return mailbox, oauth_flow.NO_EMAIL, {}
        if expected and signed_in.lower() != expected.lower():
            return mailbox, WRONG_ACCOUNT, {'signed_in': signed_in, 'email': expected}
        if self.sudo().search_count([('user_id', '=', mailbox.user_id.id), ('id', '!=', mailbox.id),
                                     ('email', '=ilike', signed_in)]):
            return mailbox, ADDRESS_TAKEN, {'email': signed_in}
        mailbox._oauth_store(tokens)
        values = {'auth_method': 'oauth', 'oauth_account': signed_in, 'state': 'draft',
                  'last_error': False, 'last_error_date': False}
        if not expected:
            values['email'] = signed_in
        if not (mailbox.login or '').strip():
            values['login'] = signed_in
        mailbox.write(values)
        # The password is no longer what this mailbox signs in with.
        cr.execute('UPDATE email_sync_mailbox SET secret_ciphertext = NULL WHERE id = %s', (mailbox.id,))
        mailbox.invalidate_cache(['has_password', 'oauth_connected'], mailbox.ids)
        return mailbox, None, {}

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
            OTHER_SESSION: _('This sign-in was started in another browser session or by another '
                             'user, so it was refused and nothing was connected. Sign in from your '
                             'own mailbox, in this browser.'),
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
        self.write({'state': 'draft', 'oauth_account': False, 'next_sync_date': False})
        return True

    # --- tokens ----------------------------------------------------------------
    def _oauth_store(self, tokens):
        self.ensure_one()
        box = _secret_box()
        self.env.cr.execute("""
            INSERT INTO email_sync_oauth_token (mailbox_id, refresh_ciphertext, access_ciphertext,
                                                access_expires_at)
            VALUES (%(id)s, %(refresh)s, %(access)s, %(expires)s)
            ON CONFLICT (mailbox_id) DO UPDATE SET refresh_ciphertext = EXCLUDED.refresh_ciphertext,
                access_ciphertext = EXCLUDED.access_ciphertext,
                access_expires_at = EXCLUDED.access_expires_at,
                updated_at = now() at time zone 'utc'""",
                            {'id': self.id, 'refresh': box.encrypt(tokens.refresh_token),
                             'access': box.encrypt(tokens.access_token), 'expires': tokens.expires_at})
        self.invalidate_cache(['oauth_connected'], self.ids)

    def _oauth_forget(self, revoke=False):
        for mailbox in self:
            if revoke and mailbox.oauth_app_id:
                self.env.cr.execute('SELECT refresh_ciphertext FROM email_sync_oauth_token '
                                    'WHERE mailbox_id = %s', (mailbox.id,))
                row = self.env.cr.fetchone()
                if row and row[0]:
                    app = mailbox.sudo().oauth_app_id
                    try:
                        oauth_flow.revoke(app._endpoints(), app._client(), _secret_box().decrypt(row[0]))
                    except secret_box.SecretError:
                        pass
            self.env.cr.execute('DELETE FROM email_sync_oauth_token WHERE mailbox_id = %s',
                                (mailbox.id,))
        self.invalidate_cache(['oauth_connected'], self.ids)

    def _oauth_access_token(self, rejected=False):
        """A valid access token, refreshed when it expires within two minutes
        or when the server has just ``rejected`` it. Raises ConnectionProblem."""
        self.ensure_one()
        self.env.cr.execute('SELECT refresh_ciphertext IS NULL, access_ciphertext, access_expires_at '
                            'FROM email_sync_oauth_token WHERE mailbox_id = %s', (self.id,))
        row = self.env.cr.fetchone()
        if not row or row[0]:
            raise self._oauth_signed_out(revoked=bool(row))
        _revoked, seen, expires_at = row
        if not rejected and seen and (expires_at or 0) > time.time() + REFRESH_MARGIN_SECONDS:
            return _secret_box().decrypt(seen)
        return self._oauth_refresh(seen if rejected else None)

    def _oauth_refresh(self, rejected_ciphertext):
        """Refresh in a transaction of its own, committed at once: a rotated
        refresh token must survive a rollback of the sync that asked for it."""
        app = self.sudo().oauth_app_id
        if not app or not app.ready:
            raise connection_errors.ConnectionProblem(connection_errors.AUTH_FAILED, _(
                'Signing in with this provider is no longer set up. Ask your administrator, or '
                'switch the mailbox to a password.'))
        box = _secret_box()
        with self.env.registry.cursor() as cr:
            # Read committed: after waiting for another worker's refresh, read
            # what it stored (repeatable read would refuse the row instead).
            cr.execute('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
            cr.execute("SET LOCAL lock_timeout = '%s'" % LOCK_TIMEOUT)
            try:
                cr.execute('SELECT refresh_ciphertext, access_ciphertext, access_expires_at '
                           'FROM email_sync_oauth_token WHERE mailbox_id = %s FOR UPDATE', (self.id,))
            except psycopg2.errors.LockNotAvailable:
                raise connection_errors.ConnectionProblem(connection_errors.TIMEOUT, _(
                    'Another sync of this mailbox is renewing its sign-in; trying again later.'))
            row = cr.fetchone()
            if not row or not row[0]:
                raise self._oauth_signed_out(revoked=bool(row))
            refresh_cipher, access_cipher, expires_at = row
            fresh = (expires_at or 0) > time.time() + REFRESH_MARGIN_SECONDS
            if fresh and access_cipher and access_cipher != rejected_ciphertext:
                return box.decrypt(access_cipher)   # another worker refreshed meanwhile
            try:
                tokens = oauth_flow.refresh(app._endpoints(), app._client(), box.decrypt(refresh_cipher))
            except oauth_flow.OAuthProblem as problem:
                _logger.info('Mailbox %s: token refresh failed (%s %s)', self.id, problem.code,
                             problem.detail)
                if problem.is_network:
                    raise connection_errors.ConnectionProblem(
                        connection_errors.TIMEOUT if problem.code == oauth_flow.TIMEOUT
                        else connection_errors.UNREACHABLE,
                        _('%s could not be reached to renew the sign-in of this mailbox; trying '
                          'again later.') % app.name) from None
                # Revoked, expired or refused for good: forget the tokens, keep
                # the row to tell why, ask the owner to sign in again.
                cr.execute('UPDATE email_sync_oauth_token SET refresh_ciphertext = NULL, '
                           'access_ciphertext = NULL, access_expires_at = NULL '
                           'WHERE mailbox_id = %s', (self.id,))
                cr.commit()
                raise self._oauth_signed_out(revoked=True) from None
            cr.execute('UPDATE email_sync_oauth_token SET refresh_ciphertext = %s, '
                       'access_ciphertext = %s, access_expires_at = %s, '
                       "updated_at = now() at time zone 'utc' WHERE mailbox_id = %s",
                       (box.encrypt(tokens.refresh_token), box.encrypt(tokens.access_token),
                        tokens.expires_at, self.id))
            cr.commit()
        return tokens.access_token

    def _oauth_signed_out(self, revoked=False):
        provider = self.oauth_app_id.name or _('the provider')
        if revoked:
            message = _('%s no longer accepts the sign-in of this mailbox (access was revoked, the '
                        'password changed or the sign-in expired). Sign in again on the mailbox.') % provider
        else:
            message = _('This mailbox is not signed in. Sign in with %s on the mailbox.') % provider
        self.invalidate_cache(['oauth_connected'], self.ids)
        return connection_errors.ConnectionProblem(connection_errors.AUTH_FAILED, message)

    def _oauth_refused_by_server(self, host):
        """The mail server's refusal of a token that the provider just renewed."""
        return connection_errors.ConnectionProblem(connection_errors.AUTH_FAILED, _(
            'The mail server %(host)s refused the sign-in with %(provider)s. Sign in again; if it '
            'keeps happening, IMAP or SMTP access may be turned off for this account.') % {
                'host': host, 'provider': self.oauth_app_id.name or ''})
