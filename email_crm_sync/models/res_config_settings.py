from odoo import _, api, fields, models

# Settings field -> (system parameter, default). Odoo 11's settings know no
# `config_parameter=` attribute yet, hence get_values/set_values below.
PARAMETERS = {
    'email_sync_interval_minutes': ('email_crm_sync.sync_interval_minutes', 10),
    'email_sync_max_attachment_mb': ('email_crm_sync.max_attachment_mb', 50),
    'email_sync_max_send_mb': ('email_crm_sync.max_send_mb', 25),
    'email_sync_propagate_archive': ('email_crm_sync.propagate_archive', False),
}


class ResConfigSettings(models.TransientModel):
    """Email sync settings of the company (Settings > Email sync)."""
    _inherit = 'res.config.settings'

    email_sync_interval_minutes = fields.Integer(
        'Sync every (minutes)',
        help='How often each mailbox is checked for new mail. A check where nothing changed '
             'costs one round trip per folder.')
    email_sync_max_attachment_mb = fields.Integer(
        'Largest attachment stored (MB)',
        help='Larger attachments are listed on the email by name and size, not stored.')
    email_sync_max_send_mb = fields.Integer(
        'Largest email sent from custom servers (MB)',
        help='Attachments of an email sent through a custom server may add up to this much. '
             'Known providers have their own limit (Gmail 25 MB, Outlook 20 MB).')
    email_sync_propagate_archive = fields.Boolean(
        'Archive and delete in the mailbox too',
        help='Archiving an email in the CRM moves it to the Archive folder of the mailbox (on '
             'Gmail: removes it from the Inbox); deleting it moves it to the Trash.')

    # Company lists: applied to new mail; "Re-apply" applies them to stored mail.
    email_sync_internal_domains = fields.Char(related='company_id.email_sync_internal_domains')
    email_sync_never_log = fields.Text(related='company_id.email_sync_never_log')
    email_sync_create_contacts = fields.Boolean(related='company_id.email_sync_create_contacts')
    email_sync_impersonal = fields.Text(related='company_id.email_sync_impersonal')
    email_sync_last_reapply = fields.Char('Last re-apply', readonly=True)
    email_sync_default_sharing = fields.Selection(related='company_id.email_sync_default_sharing')
    email_sync_tracking_disabled = fields.Boolean(related='company_id.email_sync_tracking_disabled')
    email_sync_default_share_level = fields.Selection(
        related='company_id.email_sync_default_share_level')

    # Sign-in providers: the company's app registration at Google and Microsoft.
    # Secrets are never stored in this (transient) record: their inverse
    # encrypts them into the provider at once, and nothing reads them back.
    email_sync_oauth_redirect_uri = fields.Char('Redirect URI', compute='_compute_oauth_settings')
    email_sync_google_client_id = fields.Char('Google client ID')
    email_sync_google_client_secret = fields.Char(
        'Google client secret', compute='_compute_oauth_settings',
        inverse='_inverse_google_client_secret')
    email_sync_google_secret_saved = fields.Boolean(compute='_compute_oauth_settings')
    email_sync_microsoft_client_id = fields.Char('Microsoft client ID')
    email_sync_microsoft_client_secret = fields.Char(
        'Microsoft client secret', compute='_compute_oauth_settings',
        inverse='_inverse_microsoft_client_secret')
    email_sync_microsoft_secret_saved = fields.Boolean(compute='_compute_oauth_settings')
    email_sync_microsoft_tenant = fields.Char(
        'Microsoft tenant', help='"common" for any work, school or personal account; '
                                 '"organizations" for work and school only; or your tenant id.')

    def _oauth_app(self, code):
        return self.env.ref('email_crm_sync.email_sync_oauth_app_' + code, raise_if_not_found=False)

    def _compute_oauth_settings(self):
        google, microsoft = self._oauth_app('google'), self._oauth_app('microsoft')
        uri = self.env['email.sync.oauth.app']._callback_url()
        for settings in self:
            settings.email_sync_oauth_redirect_uri = uri
            settings.email_sync_google_client_secret = False
            settings.email_sync_microsoft_client_secret = False
            settings.email_sync_google_secret_saved = bool(google and google.has_client_secret)
            settings.email_sync_microsoft_secret_saved = bool(microsoft and microsoft.has_client_secret)

    def _inverse_google_client_secret(self):
        for settings in self:
            if settings.email_sync_google_client_secret and self._oauth_app('google'):
                self._oauth_app('google')._set_client_secret(settings.email_sync_google_client_secret)

    def _inverse_microsoft_client_secret(self):
        for settings in self:
            if settings.email_sync_microsoft_client_secret and self._oauth_app('microsoft'):
                self._oauth_app('microsoft')._set_client_secret(
                    settings.email_sync_microsoft_client_secret)

    @api.model
    def get_values(self):
        values = super(ResConfigSettings, self).get_values()
        get_param = self.env['ir.config_parameter'].sudo().get_param
        for name, (key, default) in PARAMETERS.items():
            raw = get_param(key, default)
            if isinstance(default, bool):
                values[name] = raw in (True, 'True', 'true', '1')
            else:
                values[name] = int(raw or default)
        values['email_sync_last_reapply'] = get_param('email_crm_sync.last_reapply', '')
        google, microsoft = self._oauth_app('google'), self._oauth_app('microsoft')
        values['email_sync_google_client_id'] = google.client_id if google else False
        values['email_sync_microsoft_client_id'] = microsoft.client_id if microsoft else False
        values['email_sync_microsoft_tenant'] = microsoft.tenant if microsoft else False
        return values

    @api.multi
    def set_values(self):
        super(ResConfigSettings, self).set_values()
        set_param = self.env['ir.config_parameter'].sudo().set_param
        for name, (key, default) in PARAMETERS.items():
            value = self[name]
            if not isinstance(default, bool) and value <= 0:
                value = default  # zero or negative would mean "never" or "nothing"
            set_param(key, str(value))
        google, microsoft = self._oauth_app('google'), self._oauth_app('microsoft')
        if self.email_sync_google_client_id or self.email_sync_microsoft_client_id:
            # The redirect URI registered at the providers is made from it:
            # Odoo must no longer move it when the administrator logs in.
            set_param('web.base.url.freeze', 'True')
        if google and (google.client_id or False) != (self.email_sync_google_client_id or False):
            google.write({'client_id': (self.email_sync_google_client_id or '').strip() or False})
        if microsoft:
            values = {'client_id': (self.email_sync_microsoft_client_id or '').strip() or False,
                      'tenant': (self.email_sync_microsoft_tenant or '').strip() or 'common'}
            if any((microsoft[key] or False) != value for key, value in values.items()):
                microsoft.write(values)

    @api.multi
    def action_email_sync_reapply_rules(self):
        """Apply the internal domains, block lists and never-log list to stored mail."""
        self.execute()  # save what is on the screen first
        hidden, restored = self.env['email.sync.thread'].sudo()._reapply_rules()
        summary = _('%s: %d conversation(s) hidden, %d restored.') % (
            fields.Datetime.now()[:16], hidden, restored)
        self.env['ir.config_parameter'].sudo().set_param('email_crm_sync.last_reapply', summary)
        return {'type': 'ir.actions.client', 'tag': 'reload'}
