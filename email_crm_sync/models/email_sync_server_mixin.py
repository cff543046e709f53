from odoo import fields, models

SECURITY = [
    ('ssl', 'SSL/TLS'),
    ('starttls', 'STARTTLS'),
    ('none', 'None (unencrypted)'),
]


class EmailSyncServerMixin(models.AbstractModel):
    """Incoming (IMAP) and outgoing (SMTP) server settings: a provider preset
    proposes them, a mailbox uses them."""
    _name = 'email.sync.server.mixin'
    _description = 'Mail server settings'

    imap_host = fields.Char('IMAP server')
    imap_port = fields.Integer('IMAP port', default=993)
    imap_security = fields.Selection(SECURITY, 'IMAP security', default='ssl', required=True)
    smtp_host = fields.Char('SMTP server')
    smtp_port = fields.Integer('SMTP port', default=587)
    smtp_security = fields.Selection(SECURITY, 'SMTP security', default='starttls', required=True)

    def _server_values(self):
        """The six settings as field values, e.g. to copy a preset into a mailbox."""
        self.ensure_one()
        return {name: self[name] for name in (
            'imap_host', 'imap_port', 'imap_security', 'smtp_host', 'smtp_port', 'smtp_security')}
