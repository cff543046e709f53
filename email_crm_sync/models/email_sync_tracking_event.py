from odoo import _, api, fields, models
from odoo.tools import html_escape

from ..lib import open_classifier

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
    click_slot = fields.Integer(
        readonly=True, help='Hour slot of a click: one click per link, email and slot (a '
                            "machine's and a person's apart), so that replaying a link neither "
                            'counts nor notifies again.')

    def init(self):
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS email_sync_tracking_event_open_slot_uniq
                ON email_sync_tracking_event (message_id, open_slot) WHERE kind = 'open'
        """)
        # A link scanner's click right after delivery must not hide the person's
        # click of the same hour: machine and human clicks are told apart.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS email_sync_tracking_event_click_uniq
                ON email_sync_tracking_event (message_id, md5(url), click_slot, machine)
             WHERE kind = 'click' AND click_slot IS NOT NULL
        """)

    @api.model
    def _cron_process(self, limit=5000):
        """Counters, promoted opens and notifications for new events."""
        self.env.cache.invalidate()  # the events were written by other transactions, in SQL
        events = self.sudo().search([('processed', '=', False)], order='id', limit=limit)
        if not events:
            return 0
        events._apply_to_emails()
        events.write({'processed': True})
        return len(events)

    def _apply_to_emails(self):
        """Update the counters of these new events' emails, count a machine open
        followed by a click as a person's, and tell the sender about the first
        human open and each click."""
        for message in self.mapped('message_id').sudo():
            events = message.tracking_event_ids.sorted(lambda e: (e.event_date, e.id))
            promoted = open_classifier.promote_on_click(
                [(e.id, e.kind, e.machine, fields.Datetime.from_string(e.event_date)) for e in events])
            if promoted:
                events.filtered(lambda e: e.id in promoted).write({'machine': False})
            opens = events.filtered(lambda e: e.kind == 'open' and not e.machine)
            clicks = events.filtered(lambda e: e.kind == 'click' and not e.machine)
            message.write({
                'open_count': len(opens),
                'click_count': len(clicks),
                'first_open_date': opens[:1].event_date or False,
                'last_open_date': opens[-1:].event_date or False,
                'last_click_date': clicks[-1:].event_date or False,
            })
            when = _short_date(message)
            if (opens or clicks) and not message.open_notified:
                message.open_notified = True
                _notify_sender(message, _('Your email of %s was opened.') % when)
            for click in clicks & self:
                _notify_sender(message, _('A link in your email of %s was clicked: %s') % (
                    when, click.url))
            if message.thread_id and (opens or clicks):
                message.thread_id.opened = True


def _short_date(message):
    if not message.date:
        return ''
    local = fields.Datetime.context_timestamp(message.with_context(tz=message.user_id.tz or 'UTC'),
                                              fields.Datetime.from_string(message.date))
    return local.strftime('%Y-%m-%d %H:%M')


def _notify_sender(message, text):
    """A message in the sender's inbox, addressed to the sender alone and
    attached to no record: opens and clicks are the sender's to know, so
    nothing goes to the conversation's feed, which colleagues may read."""
    owner = message.user_id.partner_id
    message.env['mail.message'].sudo().create({
        'body': html_escape(text), 'message_type': 'notification',
        'subtype_id': message.env.ref('mail.mt_note').id, 'author_id': owner.id,
        'record_name': _('Email tracking'), 'model': False, 'res_id': False,
        'partner_ids': [(4, owner.id)],
        'notification_ids': [(0, 0, {'res_partner_id': owner.id, 'is_read': False})],
    })
