from odoo import _, api, fields, models

from ..lib import safe_text

REASONS = [
    ('database', 'The database refused it'),
    ('content', 'Its content could not be processed'),
]
_DETAIL_LIMIT = 500


class EmailSyncQuarantine(models.Model):
    """A message the sync could not store, kept aside so that it never holds
    up its folder: what could be read of it, and why it failed.

    The folder's progress moves past it. It is not fetched again until the
    addon is installed or upgraded anew (``module_version``): a fixed defect
    then stores it, and its record goes away."""
    _name = 'email.sync.quarantine'
    _description = 'Message that could not be stored'
    _order = 'id desc'

    mailbox_id = fields.Many2one('email.sync.mailbox', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    user_id = fields.Many2one(related='mailbox_id.user_id', store=True, readonly=True)
    folder_id = fields.Many2one('email.sync.folder', 'Folder', required=True, index=True,
                                ondelete='cascade', readonly=True)
    uid = fields.Float('UID', digits=(20, 0), required=True, readonly=True)
    size = fields.Integer('Size (bytes)', readonly=True)
    message_id = fields.Char('Message-ID', readonly=True)
    subject = fields.Char(readonly=True)
    email_from = fields.Char('From', readonly=True)
    date = fields.Datetime('Received', readonly=True, help="The server's arrival date.")
    reason = fields.Selection(REASONS, required=True, readonly=True)
    detail = fields.Text(readonly=True, help='What the error said, for your administrator.')
    module_version = fields.Char(readonly=True,
                                 help='The install or upgrade of the addon that failed: the next '
                                      'upgrade tries again.')
    attempts = fields.Integer(default=1, readonly=True)

    _sql_constraints = [
        ('folder_uid_unique', 'unique(folder_id, uid)', 'A message is quarantined once per folder.'),
    ]

    @api.multi
    def name_get(self):
        return [(q.id, q.subject or _('(no subject)')) for q in self]

    @api.model_cr
    def init(self):
        # Runs when the addon is installed or upgraded, not at each start: a
        # new stamp makes every quarantined message worth one more try.
        module = self.env['ir.module.module'].sudo().search(
            [('name', '=', 'email_crm_sync')], limit=1)
        self.env['ir.config_parameter'].sudo().set_param(
            'email_crm_sync.code_stamp', '%s@%s' % (
                module.latest_version or '', fields.Datetime.now()))

    @api.model
    def _current_version(self):
        return self.env['ir.config_parameter'].sudo().get_param('email_crm_sync.code_stamp', '')

    @api.model
    def _put_aside(self, folder, fetched, parsed, reason, detail, version):
        """Record (or record again) a message that could not be stored."""
        def text(value, limit=_DETAIL_LIMIT):
            return safe_text.safe_text((value or '')[:limit]) or False

        sender = parsed.sender if parsed else None
        values = {
            'size': fetched.size,
            'message_id': text(parsed.message_id if parsed else ''),
            'subject': text(parsed.subject if parsed else ''),
            'email_from': text(sender.email if sender else ''),
            'date': fields.Datetime.to_string(fetched.internaldate),
            'reason': reason,
            'detail': text(detail),
            'module_version': version,
        }
        self.env.cr.execute('SELECT id FROM email_sync_quarantine WHERE folder_id = %s AND uid = %s',
                            (folder.id, fetched.uid))
        row = self.env.cr.fetchone()
        Quarantine = self.sudo()
        if row:
            record = Quarantine.browse(row[0])
            values['attempts'] = record.attempts + 1
            record.write(values)
            return record
        values.update(mailbox_id=folder.mailbox_id.id, folder_id=folder.id, uid=fetched.uid)
        return Quarantine.create(values)
