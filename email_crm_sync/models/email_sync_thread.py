from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import html_escape

from ..lib import address_rules
from ..lib import visibility as sharing
from .res_company import SHARE_LEVELS, SHARING

HIDDEN_REASONS = [
    ('internal', 'Internal mail'),
    ('blocked', 'Blocked sender'),
    ('never_log', 'Never-log list'),
]
LINK_MODES = [('auto', 'Automatically'), ('manual', 'By a person')]


class EmailSyncThread(models.Model):
    """One conversation of one mailbox: its emails, the contacts in it, and
    at most one deal. Built at sync by ``sync.conversation_builder``."""
    _name = 'email.sync.thread'
    _inherit = ['mail.thread', 'email.sync.redaction.mixin']
    _description = 'Email conversation'
    _order = 'last_date desc, id desc'

    _redacted_fields = {
        'name': sharing.SUBJECT,
        'subject_key': sharing.SUBJECT,
        'hidden_reason': sharing.OWNER,
        'suggested_lead_ids': sharing.OWNER,
        'tracking_enabled': sharing.OWNER,
        'opened': sharing.OWNER,
    }

    name = fields.Char('Subject', readonly=True)
    subject_key = fields.Char(readonly=True, help='The subject without Re:/Fwd: and list tags.')
    mailbox_id = fields.Many2one('email.sync.mailbox', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    user_id = fields.Many2one('res.users', 'Owner', required=True, index=True, readonly=True)
    active = fields.Boolean(default=True, readonly=True)
    hidden_reason = fields.Selection(HIDDEN_REASONS, readonly=True,
                                     help='Hidden when the mail rules were re-applied to it.')
    email_ids = fields.One2many('email.sync.message', 'thread_id', 'Emails', readonly=True)
    message_count = fields.Integer('Emails', readonly=True)
    first_date = fields.Datetime('First email', readonly=True)
    last_date = fields.Datetime('Last activity', readonly=True, index=True)
    participants = fields.Text(readonly=True, prefetch=False,
                               help='Every address in the conversation, one per line.')
    correspondents = fields.Char('Participants', readonly=True)
    has_attachments = fields.Boolean('With attachments', readonly=True)
    has_incoming = fields.Boolean(readonly=True)
    has_outgoing = fields.Boolean(readonly=True)
    partner_ids = fields.Many2many('res.partner', 'email_sync_thread_partner_rel', 'thread_id',
                                   'partner_id', 'Contacts', readonly=True)
    lead_id = fields.Many2one('crm.lead', 'Deal', index=True, ondelete='set null')
    lead_link_mode = fields.Selection(LINK_MODES, 'Linked', readonly=True)
    lead_unlinked = fields.Boolean(readonly=True,
                                   help='Unlinked by a person: never linked automatically again.')
    suggested_lead_ids = fields.Many2many(
        'crm.lead', 'email_sync_thread_suggested_lead_rel', 'thread_id', 'lead_id',
        'Suggested deals', readonly=True,
        help='Open deals of the contacts when there are several to choose from.')
    suggested_count = fields.Integer(compute='_compute_suggested_count')
    conversation_html = fields.Html('Conversation', compute='_compute_conversation_html',
                                    sanitize=False)
    visibility = fields.Selection(
        SHARING, 'Sharing', required=True, default=sharing.PRIVATE,
        help='Set from the mailbox when the conversation started; its owner may change it here.')
    share_level = fields.Selection(SHARE_LEVELS, 'Shared level', required=True,
                                   default=sharing.METADATA)
    tracking_enabled = fields.Boolean('Tracked', readonly=True,
                                      help='An email of the conversation was sent with tracking.')
    opened = fields.Boolean('Opened', readonly=True,
                            help='A tracked email of the conversation was opened or clicked.')
    content_hidden = fields.Boolean(compute='_compute_content_hidden',
                                    help='The owner shares less than the full content.')

    def init(self):
        # Every Message-ID a thread has seen (its emails' own and those they
        # refer to), so that replies and late parents find it in one indexed lookup.
        self.env.cr.execute("""
            CREATE TABLE IF NOT EXISTS email_sync_thread_key (
                mailbox_id integer NOT NULL,
                key varchar NOT NULL,
                thread_id integer NOT NULL REFERENCES email_sync_thread(id) ON DELETE CASCADE,
                PRIMARY KEY (mailbox_id, key))
        """)
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS email_sync_thread_key_thread_idx
                ON email_sync_thread_key (thread_id)
        """)
        # Matches the subject lookup's order, so it reads the 20 newest threads
        # of a subject however often that subject recurs.
        self.env.cr.execute('DROP INDEX IF EXISTS email_sync_thread_subject_idx')
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS email_sync_thread_subject_recent_idx
                ON email_sync_thread (mailbox_id, subject_key, last_date DESC NULLS LAST, id DESC)
        """)

    # --- access ----------------------------------------------------------
    def _visibility_rows(self):
        if not self.ids:
            return {}
        self.env.cr.execute('SELECT id, user_id, visibility, share_level FROM email_sync_thread '
                            'WHERE id IN %s', (tuple(self.ids),))
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    @api.model
    def _neutral_display_name(self):
        return _('Email conversation')

    def _compute_content_hidden(self):
        full = self._visible_ids(sharing.FULL)
        for thread in self:
            thread.content_hidden = thread.id not in full

    # --- followers -------------------------------------------------------
    @api.multi
    def message_subscribe(self, partner_ids=None, channel_ids=None, subtype_ids=None, force=True):
        # A conversation has no followers: who follows it would be shown to
        # whoever reads it, and its notes are for its readers only.
        return True

    @api.model
    def check_mail_message_access(self, res_ids, operation, model_name=None):
        super(EmailSyncThread, self).check_mail_message_access(res_ids, operation, model_name=model_name)
        # Notes are about the content: for the owner and full-content readers.
        if set(res_ids) - self.browse(res_ids)._visible_ids(sharing.FULL):
            raise AccessError(_('The owner of this conversation does not share its content with you.'))

    @api.multi
    def message_get_suggested_recipients(self):
        # Public over RPC in Odoo 11 and answered without a look at the record's access.
        self.check_access_rule('read')
        return super(EmailSyncThread, self).message_get_suggested_recipients()

    # --- display ---------------------------------------------------------
    @api.depends('suggested_lead_ids')
    def _compute_suggested_count(self):
        for thread in self:
            thread.suggested_count = len(thread.suggested_lead_ids)

    def _compute_conversation_html(self):
        full = self._visible_ids(sharing.FULL)
        for thread in self:
            if thread.id not in full:
                thread.conversation_html = (
                    '<div class="alert alert-info o_email_sync_private">%s</div>' % html_escape(_(
                        'Private content: the owner of this mailbox does not share the emails '
                        'themselves.')))
                continue
            emails = thread.email_ids.sorted(lambda m: (m.date or '', m.id))
            thread.conversation_html = ''.join(self._email_html(m) for m in emails) or \
                '<p class="text-muted">%s</p>' % html_escape(_('No emails.'))

    @api.model
    def _email_html(self, email):
        def line(label, value):
            if not value:
                return ''
            return '<div><span class="text-muted">%s</span> %s</div>' % (
                html_escape(label), html_escape(value))
        if email.body_html:
            body = email.body_html  # sanitised when stored
        else:
            body = '<pre style="white-space: pre-wrap">%s</pre>' % html_escape(email.body_text or '')
        attachments = ''.join(
            '<li><a href="/web/content/%d?download=true">%s</a></li>' % (a.id, html_escape(a.name or ''))
            for a in email.attachment_ids)
        direction = _('Sent') if email.direction == 'out' else _('Received')
        tracking = self._tracking_html(email)
        return (
            '<div class="o_email_sync_email" dir="auto" style="border-bottom: 1px solid #ddd; '
            'padding: 8px 0;">'
            '<div><strong>%s</strong> <span class="text-muted">· %s · %s</span>%s</div>%s%s%s'
            '<div style="margin-top: 8px;">%s</div>%s</div>' % (
                html_escape(email.email_from or ''), html_escape(direction),
                html_escape(fields.Datetime.to_string(fields.Datetime.context_timestamp(
                    self, fields.Datetime.from_string(email.date)))[:16] if email.date else ''),
                tracking, line(_('To'), email.email_to), line(_('Cc'), email.email_cc),
                line(_('Subject'), email.subject), body,
                '<ul class="o_email_sync_attachments">%s</ul>' % attachments if attachments else ''))

    @api.model
    def _tracking_html(self, email):
        """Open and click icons of a tracked email; the times show on hover. With
        several recipients nobody can tell who opened it, so it says when only."""
        if not (email.track_opens or email.track_clicks) or \
                self.env.uid not in (SUPERUSER_ID, email.user_id.id):
            return ''  # opens and clicks are the sender's to know
        def when(value):
            return fields.Datetime.to_string(fields.Datetime.context_timestamp(
                self, fields.Datetime.from_string(value)))[:16]
        events = email.sudo().tracking_event_ids.filtered(lambda e: not e.machine).sorted('event_date')
        opens = events.filtered(lambda e: e.kind == 'open')
        clicks = events.filtered(lambda e: e.kind == 'click')
        parts = []
        if email.track_opens or opens:
            if opens or clicks:
                title = _('Opened: %s') % ', '.join(when(e.event_date) for e in opens or clicks[:1])
                parts.append('<span class="o_email_sync_opened text-success" title="%s">'
                             '<i class="fa fa-eye"/> %s</span>' % (html_escape(title), html_escape(
                                 _('Opened %s') % when((opens or clicks)[0].event_date))))
            else:
                parts.append('<span class="o_email_sync_not_opened text-muted" title="%s">'
                             '<i class="fa fa-eye-slash"/> %s</span>' % (
                                 html_escape(_('Tracked; not opened yet')), html_escape(_('Not opened'))))
        if clicks:
            title = '\n'.join('%s %s' % (when(e.event_date), e.url) for e in clicks)
            parts.append('<span class="o_email_sync_clicked text-success" title="%s">'
                         '<i class="fa fa-mouse-pointer"/> %s</span>' % (
                             html_escape(title), html_escape(_('%d click(s)') % len(clicks))))
        return ' · ' + ' · '.join(parts) if parts else ''

    # --- deals -----------------------------------------------------------
    @api.multi
    def write(self, values):
        self._check_owner_write(values)
        if 'lead_id' in values:
            # Linked or unlinked by a person: logged, and never undone by the sync.
            values = dict(values, lead_link_mode='manual' if values['lead_id'] else False,
                          lead_unlinked=not values['lead_id'])
            before = {t.id: t.lead_id for t in self}
            result = super(EmailSyncThread, self).write(values)
            # Unlinking may take the conversation out of a colleague's sight: log as the sync.
            for thread in self.sudo():
                thread._log_lead_change(before[thread.id], thread.lead_id, person=self.env.user)
            return result
        return super(EmailSyncThread, self).write(values)

    # What a person changes on a conversation; the rest is the sync's (a
    # conversation moved to another mailbox, say, would catch its mail).
    _owner_writable = {'lead_id', 'visibility', 'share_level'}

    def _check_owner_write(self, values):
        """Colleagues read shared conversations and change nothing: the links to
        deals and contacts decide who else sees a conversation, so only its
        owner and the mail rules write them. The owner links deals they can read."""
        if self.env.uid == SUPERUSER_ID:
            return
        rows = self._visibility_rows()
        if any(rows.get(thread.id, (None,))[0] != self.env.uid for thread in self):
            raise AccessError(_('Only the owner of a conversation may change it.'))
        if set(values) - self._owner_writable:
            raise AccessError(_('The email sync keeps these fields of a conversation itself: %s')
                              % ', '.join(sorted(set(values) - self._owner_writable)))
        if values.get('lead_id'):
            lead = self.env['crm.lead'].browse(values['lead_id'])
            lead.check_access_rights('read')
            lead.check_access_rule('read')

    def _log_lead_change(self, old, new, person=None):
        """A note on the conversation: linked or unlinked, by ``person`` or by the sync."""
        if old == new:
            return
        who = person.name if person else _('the email sync')
        if new:
            body = _('Linked to %s by %s.') % (new.sudo().name, who)
        else:
            body = _('Unlinked from %s by %s.') % (old.sudo().name, who)
        # Authored by the person, or for the sync by the mailbox owner; the
        # record name is neutral so that no subject reaches the chatter.
        author = person or self.user_id
        self.sudo().message_post(body=html_escape(body), subtype='mail.mt_note',
                                 author_id=author.partner_id.id,
                                 record_name=_('Email conversation'))

    def _open_deals(self):
        """The owner's open deals (opportunities neither won nor lost) of the contacts."""
        partners = self.partner_ids | self.partner_ids.mapped('commercial_partner_id')
        Lead = self.env['crm.lead'].sudo(self.user_id)
        if not partners or not Lead.check_access_rights('read', raise_exception=False):
            return self.env['crm.lead']
        return Lead.search([
            ('type', '=', 'opportunity'), ('probability', '<', 100),
            ('partner_id', 'in', partners.ids)])

    def _auto_link_deals(self):
        """Link each thread to its contacts' only open deal (automatic mode), or
        list the deals to choose from."""
        for thread in self.filtered(lambda t: not t.lead_id):
            deals = thread._open_deals()
            if (len(deals) == 1 and not thread.lead_unlinked
                    and thread.user_id.email_sync_deal_link_mode == 'automatic'):
                super(EmailSyncThread, thread).write({
                    'lead_id': deals.id, 'lead_link_mode': 'auto', 'suggested_lead_ids': [(5,)]})
                thread._log_lead_change(self.env['crm.lead'], deals.sudo())
            elif set(deals.ids) != set(thread.suggested_lead_ids.ids):
                super(EmailSyncThread, thread).write({'suggested_lead_ids': [(6, 0, deals.ids)]})

    @api.multi
    def action_link_suggested(self):
        """Link to the single suggestion (the button shows only then)."""
        for thread in self:
            if len(thread.suggested_lead_ids) == 1:
                thread.lead_id = thread.suggested_lead_ids
        return True

    @api.multi
    def action_unlink_deal(self):
        self.write({'lead_id': False})
        return True

    # --- contacts --------------------------------------------------------
    def _rematch_contacts(self):
        """Link each thread to the contacts now holding its addresses (after a
        contact was deleted, say). Creates no contact."""
        from ..sync.contact_linker import ContactLinker
        for mailbox in self.mapped('mailbox_id'):
            threads = self.filtered(lambda t: t.mailbox_id == mailbox)
            linker = ContactLinker(mailbox, create=False)
            for thread in threads:
                addresses = (thread.participants or '').split()
                linker.link_thread(thread.id, {a: '' for a in addresses}, replace=True)
            threads.invalidate_cache(['partner_ids'])
            threads._auto_link_deals()

    # --- mail rules applied to what is stored -----------------------------
    @api.model
    def _reapply_rules(self, mailboxes=None):
        """Hide stored threads the mail rules now exclude, and restore those they
        no longer exclude (all mailboxes, or ``mailboxes``). Returns (hidden, restored)."""
        hidden = restored = 0
        if mailboxes is None:
            mailboxes = self.env['email.sync.mailbox'].with_context(active_test=False).search([])
        for mailbox in mailboxes.sudo():
            rules = mailbox.user_id.company_id._email_sync_rules()
            own = mailbox._own_addresses()
            blocked = mailbox.user_id._email_sync_blocked_entries()
            self.env.cr.execute("""
                SELECT t.id, t.active, t.hidden_reason, m.from_address, m.participants
                  FROM email_sync_thread t JOIN email_sync_message m ON m.thread_id = t.id
                 WHERE t.mailbox_id = %s AND m.filtered_reason IS NULL
            """, (mailbox.id,))
            verdicts = {}
            for thread_id, active, reason, sender, participants in self.env.cr.fetchall():
                everyone = (participants or '').split()
                senders = [sender] if sender else everyone[:1]
                recipients = [a for a in everyone if a not in senders]
                why = address_rules.drop_reason(senders, recipients, own, rules['own_domains'],
                                                blocked, rules['never_log'])
                state = verdicts.setdefault(thread_id, {'active': active, 'reason': reason,
                                                        'why': why, 'all_dropped': True})
                if why is None:
                    state['all_dropped'] = False
            to_hide, to_restore = {}, []
            for thread_id, state in verdicts.items():
                if state['all_dropped'] and state['active']:
                    to_hide.setdefault(state['why'], []).append(thread_id)
                elif not state['all_dropped'] and not state['active'] and state['reason']:
                    to_restore.append(thread_id)
            Thread = self.sudo().with_context(active_test=False)
            for reason, ids in to_hide.items():
                Thread.browse(ids).write({'active': False, 'hidden_reason': reason})
                hidden += len(ids)
            Thread.browse(to_restore).write({'active': True, 'hidden_reason': False})
            restored += len(to_restore)
        return hidden, restored
