import logging
import os

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError

from ..lib import connection_errors, imap_session, secret_box
from .email_sync_provider import SECURITY

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
    _order = 'user_id, name'

    name = fields.Char(required=True, help='A name for this mailbox, e.g. "Work".')
    active = fields.Boolean(default=True)
    user_id = fields.Many2one(
        'res.users', 'Owner', required=True, index=True, ondelete='cascade',
        default=lambda self: self.env.user)
    company_id = fields.Many2one(
        'res.company', required=True, default=lambda self: self.env.user.company_id)
    email = fields.Char('Email address', required=True)
    provider_id = fields.Many2one(
        'email.sync.provider', 'Provider',
        default=lambda self: self.env.ref('email_crm_sync.email_sync_provider_custom', False))
    provider_help = fields.Text(related='provider_id.help_text', readonly=True)
    login_hint = fields.Char(related='provider_id.login_hint', readonly=True)

    imap_host = fields.Char('IMAP server')
    imap_port = fields.Integer('IMAP port', default=993)
    imap_security = fields.Selection(SECURITY, 'IMAP security', default='ssl', required=True)
    smtp_host = fields.Char('SMTP server')
    smtp_port = fields.Integer('SMTP port', default=587)
    smtp_security = fields.Selection(SECURITY, 'SMTP security', default='starttls', required=True)
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

    _sql_constraints = [
        ('email_user_unique', 'unique(user_id, email)',
         'You have connected this email address already.'),
    ]

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
            self.update(self._provider_settings(self.provider_id))

    @api.onchange('email')
    def _onchange_email(self):
        if self.email and not self.login:
            self.login = self.email.strip()
        if self.email and not self.name:
            self.name = self.email.strip()

    @api.model
    def _provider_settings(self, provider):
        return {
            'imap_host': provider.imap_host, 'imap_port': provider.imap_port,
            'imap_security': provider.imap_security,
            'smtp_host': provider.smtp_host, 'smtp_port': provider.smtp_port,
            'smtp_security': provider.smtp_security,
        }

    @api.model
    def create(self, vals):
        # RPC clients send no onchange: fill what the form would have filled.
        vals = dict(vals)
        if vals.get('provider_id') and not vals.get('imap_host'):
            provider = self.env['email.sync.provider'].browse(vals['provider_id'])
            for key, value in self._provider_settings(provider).items():
                vals.setdefault(key, value)
        if vals.get('email'):
            vals.setdefault('login', vals['email'].strip())
            vals.setdefault('name', vals['email'].strip())
        return super(EmailSyncMailbox, self).create(vals)

    @api.multi
    def write(self, vals):
        credentials = {'imap_host', 'imap_port', 'imap_security', 'login'}
        if credentials & set(vals) and 'state' not in vals:
            # Changed server settings: the old verdict no longer holds.
            vals = dict(vals, state='draft')
        return super(EmailSyncMailbox, self).write(vals)

    # --- connecting ---------------------------------------------------------
    def _server_settings(self):
        self.ensure_one()
        if not self.imap_host:
            raise UserError(_('Enter the IMAP server of this mailbox first.'))
        password = self._get_password()
        if not password:
            raise UserError(_('Enter the password of this mailbox first.'))
        return imap_session.ServerSettings(
            host=self.imap_host.strip(), port=self.imap_port, security=self.imap_security,
            login=(self.login or self.email).strip(), password=password,
            timeout=float(self.env['ir.config_parameter'].sudo().get_param(
                'email_crm_sync.imap_timeout', imap_session.DEFAULT_TIMEOUT)),
            trusted_fingerprint=self.tls_trusted_fingerprint or '')

    @api.multi
    def action_test_connection(self):
        """Log in, list the folders and store them; explain any failure in plain words."""
        for mailbox in self:
            try:
                settings = mailbox._server_settings()
            except secret_box.SecretError as error:
                mailbox._record_problem(connection_errors.ConnectionProblem(
                    connection_errors.AUTH_FAILED, str(error)))
                continue
            try:
                with imap_session.open_session(settings) as session:
                    folders = session.list_folders()
            except connection_errors.ConnectionProblem as problem:
                _logger.info('Mailbox %s: connection test failed (%s)', mailbox.id, problem.code)
                mailbox._record_problem(problem)
                continue
            mailbox.folder_ids._merge_listing(mailbox, folders)
            mailbox.write({
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
        for mailbox in self:
            if not mailbox.tls_offered_fingerprint:
                raise UserError(_('The server has presented no untrusted certificate.'))
            mailbox.write({'tls_trusted_fingerprint': mailbox.tls_offered_fingerprint,
                           'tls_offered_fingerprint': False})
        return self.action_test_connection()

    @api.multi
    def action_forget_certificate(self):
        self.write({'tls_trusted_fingerprint': False, 'state': 'draft'})
        return True
