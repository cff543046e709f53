import logging
import os
import time
from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from ..lib import connection_errors, imap_session, secret_box, smtp_sender, sync_plan, visibility
from .res_company import SHARE_LEVELS, SHARING

# Namespace of the PostgreSQL advisory locks that let one worker at a time
# sync a mailbox, across threads, processes and servers.
SYNC_LOCK_NAMESPACE = 740215

_logger = logging.getLogger(__name__)

STATES = [
    ('draft', 'Not connected'),
    ('syncing', 'Syncing'),
    ('ok', 'Connected'),
    ('auth_failed', 'Needs reconnecting'),
    ('error', 'Error'),
]

_boxes = {}


def _secret_box():
    """The SecretBox for this server's key (see lib/secret_box.py)."""
    path = tools.config.get('email_crm_sync_key_file') or os.path.join(
        tools.config['data_dir'], 'email_crm_sync', 'secret.key')
    if path not in _boxes:
        _boxes[path] = secret_box.SecretBox(secret_box.load_or_create_key(path))
    return _boxes[path]


class EmailSyncMailbox(models.Model):
    """One IMAP account of one user.

    The password is kept encrypted in a column of this table that is not an
    ORM field: no read, search, export or RPC call can return it; only the
    server-side sync code reads it (``_get_password``).
    """
    _name = 'email.sync.mailbox'
    _description = 'Synced mailbox'
    _inherit = ['mail.thread', 'mail.activity.mixin', 'email.sync.server.mixin']
    _order = 'user_id, name'

    name = fields.Char(required=True, help='A name for this mailbox, e.g. "Work".')
    active = fields.Boolean(default=True)
    user_id = fields.Many2one(
        'res.users', 'Owner', required=True, index=True, ondelete='cascade',
        default=lambda self: self.env.user)
    company_id = fields.Many2one(
        'res.company', required=True, default=lambda self: self.env.user.company_id)
    # Required for password mailboxes; signing in with a provider fills it in.
    email = fields.Char('Email address')
    provider_id = fields.Many2one(
        'email.sync.provider', 'Provider',
        default=lambda self: self.env.ref('email_crm_sync.email_sync_provider_custom', False))
    provider_help = fields.Text(related='provider_id.help_text', readonly=True)
    login_hint = fields.Char(related='provider_id.login_hint', readonly=True)

    login = fields.Char(help='Usually the full email address.')
    password = fields.Char(
        compute='_compute_password', inverse='_inverse_password',
        help='Stored encrypted; never shown again once saved.')
    has_password = fields.Boolean(compute='_compute_has_password')

    tls_trusted_fingerprint = fields.Char(
        'Trusted certificate', readonly=True, copy=False,
        help='SHA-256 fingerprint of a server certificate you chose to trust although no '
             'certificate authority vouches for it.')
    tls_offered_fingerprint = fields.Char(
        'Certificate presented', readonly=True, copy=False,
        help='Fingerprint of the untrusted certificate the server presented last time.')

    state = fields.Selection(STATES, default='draft', required=True, readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_error_date = fields.Datetime(readonly=True, copy=False)
    last_connection_date = fields.Datetime('Last connected', readonly=True, copy=False)
    folder_ids = fields.One2many('email.sync.folder', 'mailbox_id', 'Folders', readonly=True)
    folder_count = fields.Integer(compute='_compute_folder_count')

    lookback = fields.Selection(
        sync_plan.LOOKBACK_CHOICES, 'First import', default='90', required=True,
        help='How far back the first import goes. Mail arriving later is always synced.')
    import_since_date = fields.Date(
        'Importing mail since', readonly=True, copy=False, help='Set when the first import starts, from the choice above.')
    next_sync_date = fields.Datetime(readonly=True, copy=False)
    last_listing_date = fields.Datetime(readonly=True, copy=False,
                                        help='When the folder list was last read from the server.')
    last_sync_date = fields.Datetime('Last synced', readonly=True, copy=False)
    failure_count = fields.Integer(readonly=True, copy=False)
    email_ids = fields.One2many('email.sync.message', 'mailbox_id', 'Emails', readonly=True)
    email_count = fields.Integer('Emails', compute='_compute_email_count')
    sync_progress = fields.Char('Progress', compute='_compute_sync_progress')
    audit_summary = fields.Char('Self-audit', readonly=True, copy=False)
    audit_stale = fields.Boolean(
        readonly=True, copy=False,
        help='A run failed or a message could not be stored since the last self-audit: the next '
             'run audits again, and until then the mailbox does not claim to be in sync.')
    quarantine_ids = fields.One2many('email.sync.quarantine', 'mailbox_id', 'Not stored',
                                     readonly=True)
    quarantine_count = fields.Integer('Messages not stored', compute='_compute_quarantine')
    quarantine_summary = fields.Char('Not stored', compute='_compute_quarantine')
    log_ids = fields.One2many('email.sync.log', 'mailbox_id', 'Sync log', readonly=True)
    sharing = fields.Selection(
        SHARING, 'Sharing', required=True,
        default=lambda self: self.env.user.company_id.email_sync_default_sharing or visibility.PRIVATE,
        help='Private: nobody else sees this mail, not even administrators. Shared: colleagues see '
             'conversations linked to contacts or deals they can read, at the level below. '
             'Applies to mail synced from now on.')
    signature = fields.Html('Signature', help='Added to emails written from this mailbox.')
    smtp_trusted_fingerprint = fields.Char(
        'Trusted SMTP certificate',
        help='SHA-256 fingerprint of the outgoing server\'s own certificate, when no authority '
             'vouches for it (self-signed company servers).')
    stores_sent_copy = fields.Boolean(related='provider_id.stores_sent_copy', readonly=True)
    share_level = fields.Selection(
        SHARE_LEVELS, 'Shared level', required=True,
        default=lambda self: self.env.user.company_id.email_sync_default_share_level or visibility.METADATA)

    _sql_constraints = [
        ('email_user_unique', 'unique(user_id, email)',
         'You have connected this email address already.'),
    ]

    def _compute_email_count(self):
        counts = {}
        if self.ids:
            self.env.cr.execute('SELECT mailbox_id, count(*) FROM email_sync_message '
                                'WHERE mailbox_id IN %s AND active GROUP BY mailbox_id',
                                (tuple(self.ids),))
            counts = dict(self.env.cr.fetchall())
        for mailbox in self:
            mailbox.email_count = counts.get(mailbox.id, 0)

    def _compute_quarantine(self):
        counts = {}
        if self.ids:
            self.env.cr.execute('SELECT mailbox_id, count(*) FROM email_sync_quarantine '
                                'WHERE mailbox_id IN %s GROUP BY mailbox_id', (tuple(self.ids),))
            counts = dict(self.env.cr.fetchall())
        reasons = dict(self.env['email.sync.quarantine']._fields['reason']._description_selection(
            self.env))
        for mailbox in self:
            count = counts.get(mailbox.id, 0)
            mailbox.quarantine_count = count
            if not count:
                mailbox.quarantine_summary = False
                continue
            latest = self.env['email.sync.quarantine'].sudo().search(
                [('mailbox_id', '=', mailbox.id)], limit=1)
            reason = reasons.get(latest.reason, '')
            # The subject is the owner's to see; the reason is enough for others.
            if latest.subject and mailbox.user_id == self.env.user:
                reason = '%s ("%s")' % (reason, latest.subject[:80])
            if count == 1:
                mailbox.quarantine_summary = _('1 message could not be stored: %s.') % reason
            else:
                mailbox.quarantine_summary = _('%(count)d messages could not be stored; the '
                                               'latest: %(reason)s.') % {'count': count,
                                                                         'reason': reason}

    def _has_stale_quarantine(self, version):
        """Messages quarantined before the addon was upgraded: worth a new try."""
        self.env.cr.execute('SELECT 1 FROM email_sync_quarantine WHERE mailbox_id = %s '
                            'AND module_version IS DISTINCT FROM %s LIMIT 1', (self.id, version))
        return bool(self.env.cr.fetchone())

    def _compute_sync_progress(self):
        for mailbox in self:
            folders = mailbox._folders_to_sync()
            if not folders or not any(f.import_total or f.import_complete for f in folders):
                mailbox.sync_progress = False
                continue
            total = sum(folders.mapped('import_total'))
            done = sum(min(f.import_done, f.import_total) for f in folders)
            if all(folders.mapped('import_complete')):
                mailbox.sync_progress = 'First import done: %d messages' % done
            else:
                percent = 100 * done // total if total else 0
                mailbox.sync_progress = 'Importing: %d of %d messages (%d %%)' % (done, total, percent)

    @api.model_cr
    def init(self):
        self.env.cr.execute(
            'ALTER TABLE email_sync_mailbox ADD COLUMN IF NOT EXISTS secret_ciphertext text')

    # --- password -----------------------------------------------------------
    def _compute_password(self):
        for mailbox in self:
            mailbox.password = False

    def _inverse_password(self):
        for mailbox in self:
            if mailbox.password:  # a blank field on save keeps the stored one
                mailbox._set_password(mailbox.password)

    def _set_password(self, password):
        self.ensure_one()
        self.env.cr.execute(
            'UPDATE email_sync_mailbox SET secret_ciphertext = %s WHERE id = %s',
            (_secret_box().encrypt(password), self.id))
        self.invalidate_cache(['has_password'], self.ids)
        if self.state == 'auth_failed':
            # New credentials: worth trying again.
            self.write({'state': 'draft'})

    def _get_password(self):
        self.ensure_one()
        self.env.cr.execute('SELECT secret_ciphertext FROM email_sync_mailbox WHERE id = %s',
                            (self.id,))
        row = self.env.cr.fetchone()
        if not row or not row[0]:
            return None
        return _secret_box().decrypt(row[0])

    def _compute_has_password(self):
        if not self.ids:
            return
        self.env.cr.execute(
            'SELECT id, secret_ciphertext IS NOT NULL FROM email_sync_mailbox WHERE id IN %s',
            (tuple(self.ids),))
        stored = dict(self.env.cr.fetchall())
        for mailbox in self:
            mailbox.has_password = stored.get(mailbox.id, False)

    # --- form helpers -------------------------------------------------------
    @api.depends('folder_ids')
    def _compute_folder_count(self):
        for mailbox in self:
            mailbox.folder_count = len(mailbox.folder_ids)

    @api.onchange('provider_id')
    def _onchange_provider_id(self):
        if self.provider_id:
            self.update(self.provider_id._server_values())

    @api.onchange('email')
    def _onchange_email(self):
        if self.email and not self.login:
            self.login = self.email.strip()
        if self.email and not self.name:
            self.name = self.email.strip()

    @api.model
    def create(self, vals):
        # RPC clients send no onchange: fill what the form would have filled.
        vals = dict(vals)
        if vals.get('provider_id') and not vals.get('imap_host'):
            provider = self.env['email.sync.provider'].browse(vals['provider_id'])
            for key, value in provider._server_values().items():
                vals.setdefault(key, value)
        if vals.get('email'):
            vals.setdefault('login', vals['email'].strip())
            vals.setdefault('name', vals['email'].strip())
        # The chatter is only there for activities: no "created" note, which
        # would also need the user to have an email address of their own.
        quiet = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
        return super(EmailSyncMailbox, quiet).create(vals)

    @api.onchange('sharing', 'share_level')
    def _onchange_sharing(self):
        if self._origin and self._origin.id and (
                self.sharing != self._origin.sharing or self.share_level != self._origin.share_level):
            return {'warning': {
                'title': _('Applies to new mail'),
                'message': _('The new sharing applies to mail synced from now on. Conversations '
                             'synced before keep their sharing; change one from the conversation '
                             'itself.')}}

    def _check_owner(self):
        """Only the owner connects, syncs or gives credentials to a mailbox."""
        if self.env.uid == SUPERUSER_ID:
            return
        if not self.env.user.has_group('email_crm_sync.group_email_sync_user') or any(
                mailbox.user_id.id != self.env.uid for mailbox in self.sudo()):
            raise AccessError(_('Only the owner of this mailbox may do that.'))

    @api.multi
    def message_get_suggested_recipients(self):
        # Public over RPC in Odoo 11 and answered without a look at the record's access.
        self.check_access_rights('read')
        self.check_access_rule('read')
        return super(EmailSyncMailbox, self).message_get_suggested_recipients()

    @api.multi
    def write(self, vals):
        # Odoo 11 checks record rules only when a stored field is written:
        # the password (not stored) would pass without this.
        if 'password' in vals:
            self._check_owner()
        if 'user_id' in vals and self.env.uid != SUPERUSER_ID and any(
                mailbox.user_id.id != vals['user_id'] for mailbox in self):
            raise AccessError(_('A mailbox stays with the user who connected it.'))
        credentials = {'imap_host', 'imap_port', 'imap_security', 'login', 'auth_method'}
        if credentials & set(vals) and 'state' not in vals:
            # Changed server settings: the old verdict no longer holds.
            vals = dict(vals, state='draft')
        return super(EmailSyncMailbox, self).write(vals)

    # --- connecting ---------------------------------------------------------
    def _server_settings(self, rejected_token=False):
        """IMAP settings with the credentials: the password, or with OAuth a
        valid access token (a new one when the server ``rejected_token``)."""
        self.ensure_one()
        if not self.imap_host:
            raise UserError(_('Enter the IMAP server of this mailbox first.'))
        password = token = ''
        if self.auth_method == 'oauth':
            self._oauth_check_host(self.imap_host)
            token = self._oauth_access_token(rejected=rejected_token)
        else:
            password = self._get_password()
            if not password:
                raise UserError(_('Enter the password of this mailbox first.'))
        return imap_session.ServerSettings(
            host=self.imap_host.strip(), port=self.imap_port, security=self.imap_security,
            login=(self.login or self.email).strip(), password=password, oauth2_token=token,
            timeout=float(self.env['ir.config_parameter'].sudo().get_param(
                'email_crm_sync.imap_timeout', imap_session.DEFAULT_TIMEOUT)),
            trusted_fingerprint=self.tls_trusted_fingerprint or '')

    def _smtp_settings(self, rejected_token=False):
        """Outgoing server settings: the mailbox's SMTP server, its IMAP credentials."""
        imap = self._server_settings(rejected_token)
        if not self.smtp_host:
            raise UserError(_('Enter the SMTP server of the mailbox %s first.') % self.name)
        if imap.oauth2_token:
            self._oauth_check_host(self.smtp_host)
        pins = ' '.join(p for p in (self.smtp_trusted_fingerprint, self.tls_trusted_fingerprint) if p)
        return imap_session.ServerSettings(
            host=self.smtp_host.strip(), port=self.smtp_port, security=self.smtp_security,
            login=imap.login, password=imap.password, oauth2_token=imap.oauth2_token,
            timeout=imap.timeout, trusted_fingerprint=pins)

    def _imap_session(self):
        """A logged-in IMAP session (see _with_token_renewal)."""
        return self._with_token_renewal(self._server_settings, imap_session.open_session)

    def _smtp_send(self, sender, recipients, message):
        """Send through the mailbox's SMTP server (see smtp_sender.send): a
        token refused at AUTH is renewed once; nothing was sent by then."""
        return self._with_token_renewal(
            self._smtp_settings, lambda settings: smtp_sender.send(settings, sender, recipients, message))

    def _with_token_renewal(self, settings_of, use):
        """``use(settings_of())``. With OAuth, a token the server refuses
        before its announced expiry is renewed once and tried again."""
        settings = settings_of()
        try:
            return use(settings)
        except connection_errors.ConnectionProblem as problem:
            if not (problem.is_auth_failure and settings.oauth2_token):
                raise
        settings = settings_of(rejected_token=True)
        try:
            return use(settings)
        except connection_errors.ConnectionProblem as problem:
            if problem.is_auth_failure:
                raise self._oauth_refused_by_server(settings.host) from None
            raise

    def _send_limit_mb(self):
        """Largest message the provider accepts (custom servers: the setting)."""
        return self.provider_id.max_message_mb or int(self.env['ir.config_parameter'].sudo().get_param(
            'email_crm_sync.max_send_mb', 25))

    def _sent_folder(self):
        return self.folder_ids.filtered(lambda f: f.special_use == 'sent')[:1]

    @api.multi
    def action_test_connection(self):
        """Log in, list the folders and store them; explain any failure in plain words."""
        self._check_owner()
        for mailbox in self:
            try:
                with mailbox._imap_session() as session:
                    folders = session.list_folders()
            except secret_box.SecretError as error:
                mailbox._record_problem(connection_errors.ConnectionProblem(
                    connection_errors.AUTH_FAILED, str(error)))
                continue
            except connection_errors.ConnectionProblem as problem:
                _logger.info('Mailbox %s: connection test failed (%s)', mailbox.id, problem.code)
                mailbox._record_problem(problem)
                continue
            mailbox.folder_ids._merge_listing(mailbox, folders)
            mailbox._reconnect_activities().unlink()
            mailbox.write({
                'last_listing_date': fields.Datetime.now(),
                'failure_count': 0, 'next_sync_date': False,
                'state': 'ok', 'last_error': False, 'last_error_date': False,
                'tls_offered_fingerprint': False,
                'last_connection_date': fields.Datetime.now(),
            })
        return True

    def _record_problem(self, problem):
        self.write({
            'state': 'auth_failed' if problem.is_auth_failure else 'error',
            'last_error': problem.message,
            'last_error_date': fields.Datetime.now(),
            'tls_offered_fingerprint': problem.fingerprint or False,
        })

    @api.multi
    def action_trust_certificate(self):
        """Trust the certificate the server presented (after the user compared it)."""
        self._check_owner()
        for mailbox in self:
            if not mailbox.tls_offered_fingerprint:
                raise UserError(_('The server has presented no untrusted certificate.'))
            mailbox.write({'tls_trusted_fingerprint': mailbox.tls_offered_fingerprint,
                           'tls_offered_fingerprint': False})
        return self.action_test_connection()

    # --- syncing --------------------------------------------------------
    def _folders_to_sync(self):
        self.ensure_one()
        return self.folder_ids.filtered(lambda f: f.active and f.sync_enabled and f.selectable)

    def _listing_due(self):
        if not self.last_listing_date:
            return True
        age = fields.Datetime.from_string(fields.Datetime.now()) - \
            fields.Datetime.from_string(self.last_listing_date)
        return age > timedelta(hours=1)

    def _own_addresses(self):
        self.ensure_one()
        own = {(self.email or '').strip().lower()}
        if self.login and '@' in self.login:
            own.add(self.login.strip().lower())
        if self.user_id.email:
            own.add(self.user_id.email.strip().lower())
        return own

    def _max_attachment_bytes(self):
        limit_mb = int(self.env['ir.config_parameter'].sudo().get_param(
            'email_crm_sync.max_attachment_mb', 50))
        return limit_mb * 1024 * 1024

    def _log(self, level, message):
        self.env['email.sync.log'].sudo().create({'mailbox_id': self.id, 'level': level,
                                                  'message': message})

    def _sync_interval(self):
        return int(self.env['ir.config_parameter'].sudo().get_param(
            'email_crm_sync.sync_interval_minutes', 10))

    @api.multi
    def action_sync_now(self):
        """Sync in this request for a few seconds; the scheduler goes on from there."""
        self._check_owner()
        budget = float(self.env['ir.config_parameter'].sudo().get_param(
            'email_crm_sync.sync_now_seconds', 20))
        for mailbox in self:
            if not mailbox._has_credentials():
                raise UserError(mailbox._missing_credentials_message())
            if mailbox._sync_in_new_cursor(budget) is None:
                raise UserError(_('This mailbox is being synced right now. '
                                  'New mail appears as the sync goes on.'))
        return True

    @api.model
    def _cron_sync(self, budget_seconds=None):
        """Scheduled action: sync every mailbox that is due, within a time budget."""
        get_param = self.env['ir.config_parameter'].sudo().get_param
        budget = float(budget_seconds or get_param('email_crm_sync.cron_budget_seconds', 90))
        deadline = time.monotonic() + budget
        for mailbox in self._due_for_sync():
            left = deadline - time.monotonic()
            if left <= 1:
                break
            mailbox._sync_in_new_cursor(left)
        return True

    @api.model
    def _due_for_sync(self):
        """Mailboxes to sync now, longest waiting first. Not those never connected
        (draft) nor those whose login was refused (until the user reconnects)."""
        due = self.sudo().search([
            ('state', 'in', ('ok', 'syncing', 'error')),
            '|', ('next_sync_date', '=', False), ('next_sync_date', '<=', fields.Datetime.now()),
        ], order='id')
        # Never synced first (Odoo 11's order cannot say NULLS FIRST).
        return due.sorted(lambda m: (bool(m.next_sync_date), m.next_sync_date or '', m.id))

    def _sync_in_new_cursor(self, budget):
        """Run one sync of this mailbox in cursors of its own.

        Returns None when another worker holds the mailbox, else True when
        the mailbox is in sync, False when work is left for the next run.
        """
        self.ensure_one()
        registry = self.env.registry
        lock_cr = registry.cursor()
        try:
            # Transaction-level advisory lock, held by lock_cr until the end:
            # released by PostgreSQL even if this process dies mid-sync.
            lock_cr.execute('SELECT pg_try_advisory_xact_lock(%s, %s)', (SYNC_LOCK_NAMESPACE, self.id))
            if not lock_cr.fetchone()[0]:
                return None
            with api.Environment.manage(), registry.cursor() as work_cr:
                env = api.Environment(work_cr, self.env.uid, self.env.context)
                mailbox = env[self._name].sudo().browse(self.id)
                return mailbox._sync_locked(budget)
        finally:
            lock_cr.rollback()
            lock_cr.close()

    def _sync_locked(self, budget):
        from ..sync.mailbox_sync import MailboxSync
        started = time.monotonic()
        if not self.import_since_date and self.lookback != 'all':
            self.import_since_date = fields.Date.to_string(sync_plan.import_since(self.lookback))
        audit_due = not self.last_sync_date or self.audit_stale or (
            fields.Datetime.from_string(self.last_sync_date).date() < fields.Date.from_string(fields.Date.today())) \
            or any(f.import_complete and not f.last_audit_date for f in self._folders_to_sync())
        self.write({'state': 'syncing'})
        self.env.cr.commit()
        engine = MailboxSync(self, started + budget)
        try:
            finished = engine.run(audit=audit_due)
        except connection_errors.ConnectionProblem as problem:
            self.env.cr.rollback()
            self._sync_failed(problem)
            self.env.cr.commit()
            return False
        except secret_box.SecretError as error:
            self.env.cr.rollback()
            self._sync_failed(connection_errors.ConnectionProblem(connection_errors.AUTH_FAILED, str(error)))
            self.env.cr.commit()
            return False
        except Exception:
            # A defect, not the user's doing: keep the traceback for the log,
            # tell the user in plain words, retry later with backoff.
            _logger.exception('Mailbox %s: sync failed unexpectedly', self.id)
            self.env.cr.rollback()
            self._sync_failed(connection_errors.ConnectionProblem(
                'internal', _('Syncing stopped on an unexpected error; it will be retried. '
                              'If this persists, tell your administrator (details in the server log).')))
            self.env.cr.commit()
            return False
        now = fields.Datetime.from_string(fields.Datetime.now())
        values = {'state': 'ok', 'last_error': False, 'last_error_date': False, 'failure_count': 0,
                  'last_sync_date': fields.Datetime.to_string(now), 'last_connection_date': fields.Datetime.to_string(now),
                  'next_sync_date': fields.Datetime.to_string(
                      now + timedelta(minutes=self._sync_interval() if finished else 0))}
        if finished and audit_due and engine.audit_counts:
            values['audit_summary'] = self._audit_summary(engine.audit_counts)
            values['audit_stale'] = False
        if engine.quarantined and not values.get('audit_summary'):
            # Quarantined after the last audit: say so now, audit next run.
            values.update(audit_stale=True, audit_summary=_(
                'Not in sync: %d message(s) could not be stored (see "Not stored"); checking '
                'again at the next sync') % engine.quarantined)
        self.write(values)
        if engine.fetched:
            _logger.info('Mailbox %s: %d new folder entries in %.1fs', self.id, engine.fetched,
                         time.monotonic() - started)
        self.env.cr.commit()
        return finished

    def _audit_summary(self, counts):
        """What the self-audit found, in the user's words. Mail older than the
        first-import period is out of scope, so not counted."""
        held = sum(count[0] for count in counts)
        on_server = sum(count[1] for count in counts)
        quarantined = sum(count[2] for count in counts if len(count) > 2)
        checked = fields.Datetime.context_timestamp(
            self, fields.Datetime.from_string(fields.Datetime.now())).strftime('%Y-%m-%d %H:%M')
        values = {'held': held, 'total': on_server, 'checked': checked, 'quarantined': quarantined}
        if held == on_server:
            return _('In sync: %(held)d of %(total)d messages (checked %(checked)s)') % values
        if quarantined and held + quarantined >= on_server:
            return _('Out of sync: %(held)d of %(total)d messages are in the CRM (checked '
                     '%(checked)s); %(quarantined)d could not be stored (see "Not stored")') % values
        if quarantined:
            return _('Out of sync: %(held)d of %(total)d messages are in the CRM (checked '
                     '%(checked)s); %(quarantined)d could not be stored (see "Not stored"), the '
                     'next sync fetches the rest') % values
        return _('Out of sync: %(held)d of %(total)d messages are in the CRM (checked '
                 '%(checked)s); the next sync fetches the rest') % values

    def _sync_failed(self, problem):
        """Record a failed run. A refused login stops retries until the user
        reconnects, and tells them once; network trouble is retried with backoff."""
        _logger.info('Mailbox %s: sync failed (%s)', self.id, problem.code)
        failures = self.failure_count + 1
        now = fields.Datetime.from_string(fields.Datetime.now())
        self.write({
            'state': 'auth_failed' if problem.is_auth_failure else 'error',
            'last_error': problem.message, 'last_error_date': fields.Datetime.to_string(now),
            'failure_count': failures,
            # A failing mailbox is not in sync, whatever the last audit found.
            'audit_stale': True,
            'audit_summary': _('Not in sync: syncing has failed since %s; the next successful '
                               'sync checks every message again') % fields.Datetime.to_string(
                                   fields.Datetime.context_timestamp(self, now))[:16]
            if failures == 1 or not self.audit_stale else self.audit_summary,
            'tls_offered_fingerprint': problem.fingerprint or False,
            'next_sync_date': fields.Datetime.to_string(
                now + timedelta(minutes=sync_plan.retry_delay_minutes(failures))),
        })
        self._log('error', problem.message)
        if problem.is_auth_failure:
            self._tell_owner_to_reconnect()

    def _reconnect_activities(self):
        return self.env['mail.activity'].sudo().search([
            ('res_model', '=', self._name), ('res_id', '=', self.id),
            ('summary', '=like', 'Reconnect your mailbox%')])

    def _tell_owner_to_reconnect(self):
        """One to-do in the owner's activities, not one per failed run."""
        if self._reconnect_activities():
            return
        todo = self.env.ref('mail.mail_activity_data_todo', raise_if_not_found=False)
        # Created as the owner: Odoo then sends no assignment email, which a
        # user without an email address (or a down SMTP server) would break.
        self.env['mail.activity'].sudo(self.user_id).create({
            'res_model_id': self.env['ir.model']._get(self._name).id,
            'res_id': self.id,
            'activity_type_id': todo.id if todo else False,
            'summary': 'Reconnect your mailbox %s' % self.name,
            'note': _('<p>%s no longer accepts the sign-in of this mailbox, so syncing has '
                      'stopped. Open the mailbox and sign in again.</p>') % self.oauth_app_id.name
            if self.auth_method == 'oauth' else
            _('<p>The mail server refused the login, so syncing has stopped. Enter the '
              'password again (or an app password) and press Test connection.</p>'),
            'user_id': self.user_id.id,
            'date_deadline': fields.Date.today(),
        })

    @api.multi
    def action_view_messages(self):
        self.ensure_one()
        self.check_access_rights('read')
        self.check_access_rule('read')
        action = self.env.ref('email_crm_sync.email_sync_message_action').read()[0]
        action['domain'] = [('mailbox_id', '=', self.id)]
        action['context'] = {}
        return action

    @api.multi
    def action_forget_certificate(self):
        self._check_owner()
        self.write({'tls_trusted_fingerprint': False, 'state': 'draft'})
        return True
