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

    @api.multi
    def action_email_sync_reapply_rules(self):
        """Apply the internal domains, block lists and never-log list to stored mail."""
        self.execute()  # save what is on the screen first
        hidden, restored = self.env['email.sync.thread'].sudo()._reapply_rules()
        summary = _('%s: %d conversation(s) hidden, %d restored.') % (
            fields.Datetime.now()[:16], hidden, restored)
        self.env['ir.config_parameter'].sudo().set_param('email_crm_sync.last_reapply', summary)
        return {'type': 'ir.actions.client', 'tag': 'reload'}
