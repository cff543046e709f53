"""The tokens of mailboxes signed in with a provider, and their renewal.

They live in ``email_sync_oauth_token``, a table written with SQL and never
an ORM field, so no read, export or RPC returns them: per mailbox, the
provider app that issued them, the refresh token and the access token (both
encrypted with the key outside the database) and the access token's expiry.

A token is renewed in a transaction of its own, committed at once, under a
row lock: concurrent workers wait for the first one and use the token it
stored, so a rotated refresh token is never lost nor used twice, whatever
happens to the sync that asked for it.
"""
import logging
import time

import psycopg2.errors

from odoo import _, api, models

from ..lib import connection_errors, oauth_flow, secret_box
from .email_sync_mailbox import _secret_box

_logger = logging.getLogger(__name__)

# Renew this long before the announced expiry: a sync must not start with a
# token that dies during its first minute.
REFRESH_MARGIN_SECONDS = 120
# Waiting longer than this for another worker's renewal: retry at the next run.
LOCK_TIMEOUT = '30s'


class EmailSyncMailbox(models.Model):
    _inherit = 'email.sync.mailbox'

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
        cr.execute('ALTER TABLE email_sync_oauth_token ADD COLUMN IF NOT EXISTS app_id integer')

    def _oauth_store(self, app, tokens):
        self.ensure_one()
        box = _secret_box()
        self.env.cr.execute("""
            INSERT INTO email_sync_oauth_token (mailbox_id, app_id, refresh_ciphertext,
                                                access_ciphertext, access_expires_at)
            VALUES (%(id)s, %(app)s, %(refresh)s, %(access)s, %(expires)s)
            ON CONFLICT (mailbox_id) DO UPDATE SET app_id = EXCLUDED.app_id,
                refresh_ciphertext = EXCLUDED.refresh_ciphertext,
                access_ciphertext = EXCLUDED.access_ciphertext,
                access_expires_at = EXCLUDED.access_expires_at,
                updated_at = now() at time zone 'utc'""",
                            {'id': self.id, 'app': app.id, 'refresh': box.encrypt(tokens.refresh_token),
                             'access': box.encrypt(tokens.access_token), 'expires': tokens.expires_at})
        self.invalidate_cache(['oauth_connected'], self.ids)

    def _oauth_tokens_not_fitting(self):
        """Mailboxes holding tokens they would no longer use: switched to a
        password, or to a provider other than the one that issued them."""
        if not self.ids:
            return self.browse()
        self.env.cr.execute('SELECT mailbox_id, app_id FROM email_sync_oauth_token '
                            'WHERE mailbox_id IN %s', (tuple(self.ids),))
        issued_by = dict(self.env.cr.fetchall())
        return self.filtered(lambda m: m.id in issued_by and (
            m.auth_method != 'oauth' or issued_by[m.id] != m.sudo().oauth_app_id.id))

    def _oauth_forget(self, revoke=False):
        """Delete the tokens; with ``revoke``, first ask the app that issued
        them to revoke the grant (best effort: nothing waits for it)."""
        for mailbox in self:
            if revoke:
                self.env.cr.execute('SELECT app_id, refresh_ciphertext FROM email_sync_oauth_token '
                                    'WHERE mailbox_id = %s', (mailbox.id,))
                row = self.env.cr.fetchone()
                app = self.env['email.sync.oauth.app'].sudo().browse(row[0]).exists() if row else None
                if app and row[1]:
                    try:
                        oauth_flow.revoke(app._endpoints(), app._client(), _secret_box().decrypt(row[1]))
                    except secret_box.SecretError:
                        pass
            self.env.cr.execute('DELETE FROM email_sync_oauth_token WHERE mailbox_id = %s',
                                (mailbox.id,))
        self.invalidate_cache(['oauth_connected'], self.ids)

    def _oauth_access_token(self, rejected=False):
        """A valid access token, renewed when it expires within two minutes
        or when the server has just ``rejected`` it. Raises ConnectionProblem."""
        self.ensure_one()
        self.env.cr.execute('SELECT app_id, refresh_ciphertext IS NULL, access_ciphertext, '
                            'access_expires_at FROM email_sync_oauth_token WHERE mailbox_id = %s',
                            (self.id,))
        row = self.env.cr.fetchone()
        if not row or row[0] != self.sudo().oauth_app_id.id:
            raise self._oauth_signed_out()
        _app, revoked, seen, expires_at = row
        if revoked:
            raise self._oauth_signed_out(revoked=True)
        if not rejected and seen and (expires_at or 0) > time.time() + REFRESH_MARGIN_SECONDS:
            return _secret_box().decrypt(seen)
        return self._oauth_refresh(seen if rejected else None)

    def _oauth_refresh(self, rejected_ciphertext):
        """Renew the access token in a transaction of its own (see the module)."""
        app = self.sudo().oauth_app_id
        if not app.ready:
            raise connection_errors.ConnectionProblem(connection_errors.AUTH_FAILED, _(
                'Signing in with %s is no longer set up. Ask your administrator, or switch the '
                'mailbox to a password.') % (app.name or _('this provider')))
        box = _secret_box()
        with self.env.registry.cursor() as cr:
            # Read committed: after waiting for another worker's renewal, read
            # what it stored (repeatable read would refuse the row instead).
            cr.execute('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
            cr.execute("SET LOCAL lock_timeout = '%s'" % LOCK_TIMEOUT)
            try:
                cr.execute('SELECT refresh_ciphertext, access_ciphertext, access_expires_at '
                           'FROM email_sync_oauth_token WHERE mailbox_id = %s AND app_id = %s '
                           'FOR UPDATE', (self.id, app.id), log_exceptions=False)
            except psycopg2.errors.LockNotAvailable:
                raise connection_errors.ConnectionProblem(connection_errors.TIMEOUT, _(
                    'Another sync of this mailbox is renewing its sign-in; trying again later.'))
            row = cr.fetchone()
            if not row or not row[0]:
                raise self._oauth_signed_out(revoked=bool(row))
            refresh_cipher, access_cipher, expires_at = row
            fresh = (expires_at or 0) > time.time() + REFRESH_MARGIN_SECONDS
            if fresh and access_cipher and access_cipher != rejected_ciphertext:
                return box.decrypt(access_cipher)   # another worker renewed it meanwhile
            try:
                tokens = oauth_flow.refresh(app._endpoints(), app._client(), box.decrypt(refresh_cipher))
            except oauth_flow.OAuthProblem as problem:
                _logger.info('Mailbox %s: token renewal failed (%s %s)', self.id, problem.code,
                             problem.detail)
                if problem.code != oauth_flow.GRANT_REFUSED:
                    raise self._oauth_renewal_problem(app, problem) from None
                # The grant itself is gone (revoked, password changed, expired):
                # forget the tokens, keep the row to say why, ask the owner.
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

    def _oauth_renewal_problem(self, app, problem):
        """A renewal that failed for a reason the owner cannot fix by signing
        in again: the tokens are kept, the sync retries with backoff."""
        if problem.code == oauth_flow.CLIENT_REJECTED:
            return connection_errors.ConnectionProblem(connection_errors.PROTOCOL, _(
                '%s refused the app registration of your company (its client ID or secret; client '
                'secrets expire). Your administrator must renew it in Settings > Email sync; '
                'syncing is retried meanwhile.') % app.name)
        if problem.is_network:
            return connection_errors.ConnectionProblem(
                connection_errors.TIMEOUT if problem.code == oauth_flow.TIMEOUT
                else connection_errors.UNREACHABLE,
                _('%s could not be reached to renew the sign-in of this mailbox; trying again '
                  'later.') % app.name)
        return connection_errors.ConnectionProblem(connection_errors.UNAVAILABLE, _(
            '%s could not renew the sign-in of this mailbox right now; trying again later.') % app.name)

    def _oauth_signed_out(self, revoked=False):
        provider = self.sudo().oauth_app_id.name or _('the provider')
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
                'host': host, 'provider': self.sudo().oauth_app_id.name or ''})

    def _oauth_check_host(self, host):
        """A provider's token goes only to the mail servers its app lists."""
        app = self.sudo().oauth_app_id
        allowed = (app.mail_hosts or '').lower().split()
        if allowed and (host or '').strip().lower() not in allowed:
            raise connection_errors.ConnectionProblem(connection_errors.PROTOCOL, _(
                'A sign-in with %(provider)s is only sent to its own mail servers (%(hosts)s), not '
                'to %(host)s. Choose the servers of the %(provider)s preset, or a password.') % {
                    'provider': app.name, 'hosts': ', '.join(allowed), 'host': host})
