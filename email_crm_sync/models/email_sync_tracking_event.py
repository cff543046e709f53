from odoo import api, fields, models

KINDS = [('open', 'Opened'), ('click', 'Clicked')]


class EmailSyncTrackingEvent(models.Model):
    """An open or a click of an email sent from the CRM. Written by the public
    tracking routes, one row per request, without the reader's IP address;
    ``_cron_process`` then updates the email's counters and tells its sender."""
    _name = 'email.sync.tracking.event'
    _description = 'Email open or click'
    _order = 'event_date desc, id desc'
    _rec_name = 'kind'

    message_id = fields.Many2one('email.sync.message', 'Email', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    user_id = fields.Many2one('res.users', 'Sender', required=True, index=True, readonly=True)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    event_date = fields.Datetime('When', required=True, readonly=True)
    url = fields.Char('Link', readonly=True)
    machine = fields.Boolean(
        'Machine', readonly=True,
        help='A mail privacy proxy or link scanner, not a person: such opens do not notify.')
    processed = fields.Boolean(readonly=True, index=True)
    open_slot = fields.Integer(
        readonly=True, help='Ten-second slot of an open: one open per email and slot, so that '
                            'workers answering the same open at once store it once.')

    def init(self):
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS email_sync_tracking_event_open_slot_uniq
                ON email_sync_tracking_event (message_id, open_slot) WHERE kind = 'open'
        """)

    @api.model
    def _cron_process(self, limit=5000):
        """Counters, promoted opens and notifications for new events."""
        self.env.cache.invalidate()  # the events were written by other transactions, in SQL
        events = self.sudo().search([('processed', '=', False)], order='id', limit=limit)
        if not events:
            return 0
        events.mapped('message_id')._apply_tracking_events(events)
        events.write({'processed': True})
        return len(events)
