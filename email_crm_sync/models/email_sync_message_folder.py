from odoo import fields, models


class EmailSyncMessageFolder(models.Model):
    """Where an email is on the server: one folder and its UID there.

    The unique (folder, UID) pair is what makes a sync idempotent: fetching
    the same batch twice (after a crash) finds every row already present.
    """
    _name = 'email.sync.message.folder'
    _description = 'Email in a mailbox folder'
    _order = 'folder_id, uid'

    message_id = fields.Many2one('email.sync.message', 'Email', required=True, index=True,
                                 ondelete='cascade')
    folder_id = fields.Many2one('email.sync.folder', required=True, index=True, ondelete='cascade')
    user_id = fields.Many2one('res.users', 'Owner', required=True, index=True)
    uid = fields.Float('UID', digits=(20, 0), required=True)
    flags = fields.Char()
    is_read = fields.Boolean(compute='_compute_flag_states')
    is_flagged = fields.Boolean(compute='_compute_flag_states')

    _sql_constraints = [
        ('folder_uid_unique', 'unique(folder_id, uid)', 'A UID appears once per folder.'),
    ]

    def _compute_flag_states(self):
        for link in self:
            flags = (link.flags or '').split()
            link.is_read = '\\Seen' in flags
            link.is_flagged = '\\Flagged' in flags
