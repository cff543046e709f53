from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib import special_use


class EmailSyncFolder(models.Model):
    """A folder (or Gmail label) of a mailbox, as the server listed it."""
    _name = 'email.sync.folder'
    _description = 'Mailbox folder'
    _order = 'mailbox_id, special_use_order, name'

    name = fields.Char(required=True, readonly=True, help='Full folder path on the server.')
    mailbox_id = fields.Many2one('email.sync.mailbox', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    user_id = fields.Many2one(related='mailbox_id.user_id', store=True, readonly=True)
    active = fields.Boolean(default=True, help='Unticked when the folder is gone from the server.')
    delimiter = fields.Char(readonly=True)
    flags = fields.Char(readonly=True, help='Attributes the server listed (RFC 3501, RFC 6154).')
    special_use = fields.Selection(special_use.LABELS, 'Role', required=True, default='none',
                                   readonly=True)
    special_use_order = fields.Integer(compute='_compute_special_use_order', store=True)
    selectable = fields.Boolean(default=True, readonly=True)
    sync_enabled = fields.Boolean(
        'Sync', default=True,
        help='Mail in this folder is brought into the CRM. Junk, Trash and Drafts never are.')

    _sql_constraints = [
        ('mailbox_name_unique', 'unique(mailbox_id, name)', 'A folder is listed once per mailbox.'),
    ]

    @api.depends('special_use')
    def _compute_special_use_order(self):
        order = [code for code, _label in special_use.LABELS]
        for folder in self:
            folder.special_use_order = order.index(folder.special_use or 'none')

    @api.constrains('sync_enabled', 'special_use')
    def _check_never_synced(self):
        for folder in self:
            if folder.sync_enabled and not special_use.synced_by_default(folder.special_use):
                raise ValidationError(_('Junk, Trash and Drafts folders are never synced (%s).')
                                      % folder.name)

    @api.model
    def _merge_listing(self, mailbox, listing):
        """Store a LIST answer: add new folders, update known ones, archive vanished ones.

        Folders are the server's, not the user's to create: this runs as
        superuser once the caller has shown it may write the mailbox.
        """
        mailbox.check_access_rights('write')
        mailbox.check_access_rule('write')
        self = self.sudo()
        known = {f.name: f for f in self.with_context(active_test=False).search(
            [('mailbox_id', '=', mailbox.id)])}
        seen = set()
        for info in listing:
            seen.add(info.name)
            values = {
                'delimiter': info.delimiter,
                'flags': ' '.join(info.flags),
                'special_use': info.special_use,
                'selectable': info.selectable,
                'active': True,
            }
            folder = known.get(info.name)
            if folder:
                folder.write(values)
            else:
                values.update(name=info.name, mailbox_id=mailbox.id,
                              sync_enabled=info.selectable and special_use.synced_by_default(info.special_use))
                self.create(values)
        gone = [f for name, f in known.items() if name not in seen and f.active]
        for folder in gone:
            folder.active = False
