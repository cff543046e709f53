from odoo import api, fields, models

LEVELS = [('info', 'Info'), ('repair', 'Repaired'), ('warning', 'Warning'), ('error', 'Error')]


class EmailSyncLog(models.Model):
    """What the sync did that a user may want to know: imports, repairs, errors."""
    _name = 'email.sync.log'
    _description = 'Mailbox sync log'
    _order = 'id desc'

    mailbox_id = fields.Many2one('email.sync.mailbox', required=True, index=True, ondelete='cascade')
    user_id = fields.Many2one(related='mailbox_id.user_id', store=True, readonly=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True)
    level = fields.Selection(LEVELS, required=True, default='info')
    message = fields.Text(required=True)

    @api.model
    def _autovacuum(self, keep=500):
        """Keep the newest ``keep`` lines per mailbox."""
        self.env.cr.execute("""
            DELETE FROM email_sync_log WHERE id IN (
                SELECT id FROM (
                    SELECT id, row_number() OVER (PARTITION BY mailbox_id ORDER BY id DESC) AS rank
                    FROM email_sync_log) ranked
                WHERE rank > %s)""", (keep,))
