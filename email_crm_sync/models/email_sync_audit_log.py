from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

KINDS = [
    ('rule', 'Record rule'),
    ('access', 'Access right'),
    ('group', 'Group'),
    ('membership', 'Group membership'),
    ('code', 'Server action with code'),
    ('field', 'Custom field'),
    ('template', 'Mail template'),
    ('view', 'QWeb view'),
    ('password', 'Password of another user'),
    ('oauth', 'Sign-in provider'),
]
OPERATIONS = [('create', 'Created'), ('write', 'Changed'), ('unlink', 'Deleted')]
# Groups that can grant reach to mail: who joins or leaves them is logged.
WATCHED_GROUPS = ('base.group_system', 'base.group_erp_manager',
                  'email_crm_sync.group_email_sync_manager',
                  'email_crm_sync.group_mail_template_editor')


class EmailSyncAuditLog(models.Model):
    """Changes that could open private mail to someone: record rules, access
    rights, groups and who is in the powerful ones, server actions running
    code. Odoo 11 lets Settings administrators make such changes (and its
    superuser bypasses every rule), so the addon cannot forbid them; it
    records them where email-sync managers and administrators see them.
    Entries are written as the superuser; nobody may edit or delete them
    through the ORM."""
    _name = 'email.sync.audit.log'
    _description = 'Security change affecting email access'
    _order = 'id desc'
    _rec_name = 'description'

    user_id = fields.Many2one('res.users', 'Changed by', readonly=True, required=True)
    kind = fields.Selection(KINDS, readonly=True, required=True)
    operation = fields.Selection(OPERATIONS, readonly=True, required=True)
    res_model = fields.Char('Model', readonly=True)
    res_id = fields.Integer('Record', readonly=True)
    description = fields.Text(readonly=True, required=True)

    @api.multi
    def write(self, values):
        self._check_kept()
        return super(EmailSyncAuditLog, self).write(values)

    @api.multi
    def unlink(self):
        self._check_kept()
        return super(EmailSyncAuditLog, self).unlink()

    def _check_kept(self):
        # Access rights alone would let an administrator grant themselves the
        # right to rewrite the log of what they did.
        if self.env.uid != SUPERUSER_ID:
            raise AccessError(_('The log of security changes cannot be changed.'))

    @api.model
    def _record(self, kind, operation, records, describe):
        """One entry per record; ``describe(record)`` says what it is."""
        if self.pool._init:
            return  # modules being installed or updated load their own rules
        Log = self.sudo()
        for record in records:
            Log.create({'user_id': self.env.uid, 'kind': kind, 'operation': operation,
                        'res_model': record._name, 'res_id': record.id,
                        'description': describe(record)})
