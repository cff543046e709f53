import base64
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import address_rules, mime_parser, safe_text
from ..lib import visibility as sharing

DIRECTIONS = [('in', 'Incoming'), ('out', 'Outgoing')]
FILTERED_REASONS = [
    ('internal', 'Internal mail'),
    ('blocked', 'Blocked sender'),
    ('never_log', 'Never-log list'),
]
# What a filtered email keeps: enough to know it was seen, nothing of its content.
_TOMBSTONE_KEEPS = ('mailbox_id', 'user_id', 'folder_id', 'message_id', 'has_message_id',
                    'content_hash', 'content_key', 'date', 'direction', 'size')

_CID_SRC = re.compile(r'''(src\s*=\s*["'])cid:([^"']+)(["'])''', re.IGNORECASE)


def _addresses_text(addresses):
    return ', '.join(_address_text(a) for a in addresses)


def _address_text(address):
    """"Name <address>"; a name that looks like another address is shown as
    what it is ("support@bank.example" via <evil@attacker.example>)."""
    if not address.name:
        return address.email
    if address_rules.looks_like_another_address(address.name, address.email):
        return '"%s" via <%s>' % (address.name.replace('"', "'"), address.email)
    return '%s <%s>' % (address.name, address.email)


class EmailSyncMessage(models.Model):
    """One email of one mailbox, as synced. The same email in several folders
    is one record with several folder memberships (Message-ID + mailbox)."""
    _name = 'email.sync.message'
    _inherit = ['email.sync.redaction.mixin']
    _description = 'Synced email'
    _order = 'date desc, id desc'
    _rec_name = 'subject'

    # What colleagues see of a shared email depends on its conversation's level.
    _share_path = 'thread_id.'
    _redacted_fields = {
        'subject': sharing.SUBJECT,
        'body_html': sharing.FULL,
        'body_text': sharing.FULL,
        'skipped_attachments': sharing.FULL,
        'parse_error': sharing.FULL,
        'message_id': sharing.FULL,
        'in_reply_to': sharing.FULL,
        'references': sharing.FULL,
        'email_bcc': sharing.OWNER,
        'headers': sharing.OWNER,
        'content_hash': sharing.OWNER,
        'content_key': sharing.OWNER,
        'folder_id': sharing.OWNER,
        'filtered_reason': sharing.OWNER,
        'archived_by_user': sharing.OWNER,
        'deleted_by_user': sharing.OWNER,
        'tracking_nonce': sharing.OWNER,
        'tracked_urls': sharing.OWNER,
        'tracking_event_ids': sharing.OWNER,
        # Opens and clicks are the sender's to know.
        'track_opens': sharing.OWNER,
        'track_clicks': sharing.OWNER,
        'open_count': sharing.OWNER,
        'click_count': sharing.OWNER,
        'first_open_date': sharing.OWNER,
        'last_open_date': sharing.OWNER,
        'last_click_date': sharing.OWNER,
        'open_notified': sharing.OWNER,
    }

    mailbox_id = fields.Many2one('email.sync.mailbox', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    user_id = fields.Many2one('res.users', 'Owner', required=True, index=True, readonly=True)
    active = fields.Boolean(default=True, readonly=True,
                            help='Unticked when the email is no longer in any synced folder, '
                                 'or when its owner archived or deleted it in the CRM.')
    archived_by_user = fields.Boolean(readonly=True, copy=False,
                                      help='Archived in the CRM: syncing does not bring it back.')
    deleted_by_user = fields.Boolean(readonly=True, copy=False,
                                     help='Deleted in the CRM: kept only so that syncing does not '
                                          'import it again; its content is removed.')
    message_id = fields.Char('Message-ID', required=True, readonly=True)
    has_message_id = fields.Boolean(default=True, readonly=True)
    in_reply_to = fields.Char(readonly=True)
    # Large columns are read only when asked for: listing emails, or naming
    # one (attachments do, at creation), must not drag bodies along.
    references = fields.Text(readonly=True, prefetch=False)
    content_hash = fields.Char(readonly=True, index=True)
    content_key = fields.Char(readonly=True, prefetch=False,
                              help='What the email says (see mime_parser.content_key): another '
                                   'email reusing its Message-ID is stored apart.')
    subject = fields.Char(readonly=True)
    email_from = fields.Char('From', readonly=True)
    from_address = fields.Char(readonly=True, index=True)
    email_to = fields.Text('To', readonly=True)
    email_cc = fields.Text('Cc', readonly=True)
    email_bcc = fields.Text('Bcc', readonly=True)
    participants = fields.Text(readonly=True, prefetch=False,
                               help='Every address of the email, lower-case, one per line: for search.')
    date = fields.Datetime(readonly=True, index=True)
    direction = fields.Selection(DIRECTIONS, readonly=True, required=True, default='in')
    body_html = fields.Html('Body', readonly=True, prefetch=False)
    body_text = fields.Text('Plain text', readonly=True, prefetch=False)
    size = fields.Integer(readonly=True)
    is_auto_generated = fields.Boolean('Automated (newsletters, notifications)', readonly=True)
    parse_error = fields.Text(readonly=True)
    headers = fields.Text(readonly=True, prefetch=False)
    attachment_ids = fields.Many2many('ir.attachment', string='Attachments',
                                      compute='_compute_attachment_ids')
    skipped_attachments = fields.Text(
        readonly=True, help='Attachments larger than the size limit: name and size, not stored.')
    has_attachments = fields.Boolean(readonly=True, index=True)
    folder_id = fields.Many2one('email.sync.folder', 'Folder', readonly=True, index=True,
                                help='A folder the email is in (for grouping); see Folders for all.')
    folder_link_ids = fields.One2many('email.sync.message.folder', 'message_id', 'Folders',
                                      readonly=True)
    folder_names = fields.Char('Folders', compute='_compute_folder_names')
    thread_id = fields.Many2one('email.sync.thread', 'Conversation', readonly=True, index=True,
                                ondelete='set null')
    filtered_reason = fields.Selection(
        FILTERED_REASONS, 'Not synced', readonly=True,
        help='Excluded by the mail rules when it was synced: only its Message-ID is kept, so '
             'that it is not fetched again.')

    _sql_constraints = [
        ('mailbox_message_id_unique', 'unique(mailbox_id, message_id)',
         'An email is stored once per mailbox.'),
    ]

    content_hidden = fields.Boolean(compute='_compute_content_hidden',
                                    help='The owner shares less than the full content.')
    # Tracking of emails written in the CRM (see email.sync.tracking.event).
    track_opens = fields.Boolean(readonly=True)
    track_clicks = fields.Boolean(readonly=True)
    tracking_nonce = fields.Char(readonly=True, copy=False, prefetch=False)
    tracked_urls = fields.Text(readonly=True, copy=False, prefetch=False,
                               help='The links of the email as sent, in order (JSON).')
    tracking_event_ids = fields.One2many('email.sync.tracking.event', 'message_id', 'Opens and clicks',
                                         readonly=True)
    open_count = fields.Integer('Opens', readonly=True)
    click_count = fields.Integer('Clicks', readonly=True)
    first_open_date = fields.Datetime('First opened', readonly=True)
    last_open_date = fields.Datetime('Last opened', readonly=True)
    last_click_date = fields.Datetime('Last clicked', readonly=True)
    open_notified = fields.Boolean(readonly=True, copy=False)

    def _visibility_rows(self):
        if not self.ids:
            return {}
        self.env.cr.execute("""
            SELECT m.id, m.user_id, t.visibility, t.share_level
              FROM email_sync_message m LEFT JOIN email_sync_thread t ON t.id = m.thread_id
             WHERE m.id IN %s""", (tuple(self.ids),))
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _compute_content_hidden(self):
        full = self._visible_ids(sharing.FULL)
        for message in self:
            message.content_hidden = message.id not in full

    def _compute_attachment_ids(self):
        visible = list(self._visible_ids(sharing.FULL))
        attachments = self.env['ir.attachment'].search(
            [('res_model', '=', self._name), ('res_id', 'in', visible)], order='id')
        for message in self:
            message.attachment_ids = attachments.filtered(lambda a: a.res_id == message.id)

    @api.depends('folder_link_ids')
    def _compute_folder_names(self):
        for message in self:
            message.folder_names = ', '.join(message.folder_link_ids.mapped('folder_id.name'))

    # --- archive and delete, in the CRM and (setting) in the mailbox -------
    def _propagation_enabled(self):
        return self.env['ir.config_parameter'].sudo().get_param(
            'email_crm_sync.propagate_archive') in ('True', 'true', '1')

    @api.multi
    def action_archive_email(self):
        self._check_owner()
        if self._propagation_enabled():
            self._move_in_mailbox(('inbox',), ('archive', 'all'), _('an Archive folder'))
        self.sudo().write({'active': False, 'archived_by_user': True})
        return True

    @api.multi
    def action_restore_email(self):
        self._check_owner()
        self.sudo().write({'active': True, 'archived_by_user': False})
        return True

    @api.multi
    def action_delete_email(self):
        self._check_owner()
        if self._propagation_enabled():
            roles = ('inbox', 'sent', 'archive', 'all', 'flagged', 'important', 'none')
            self._move_in_mailbox(roles, ('trash',), _('a Trash folder'))
        self.env['ir.attachment'].sudo().search(
            [('res_model', '=', self._name), ('res_id', 'in', self.ids)]).unlink()
        self.sudo().write({'active': False, 'deleted_by_user': True, 'body_html': False,
                           'body_text': False, 'headers': False})
        return True

    def _move_in_mailbox(self, from_roles, to_roles, what):
        """Move these emails, where they sit in folders of ``from_roles``, to the
        mailbox's first folder of ``to_roles``. Stops with a plain-words error."""
        from ..lib import connection_errors, imap_mover
        for mailbox in self.mapped('mailbox_id'):
            mailbox = mailbox.sudo()
            folders = mailbox.folder_ids
            target = next((f for role in to_roles for f in folders if f.special_use == role), None)
            if not target:
                raise UserError(_('The mailbox %s has no %s to move the email to.') % (mailbox.name, what))
            links = self.filtered(lambda m: m.mailbox_id == mailbox).sudo().mapped('folder_link_ids')
            by_folder = {}
            for link in links.filtered(lambda l: l.folder_id.special_use in from_roles and l.folder_id != target):
                by_folder.setdefault(link.folder_id, []).append(int(link.uid))
            if not by_folder:
                continue
            try:
                with mailbox._imap_session() as session:
                    for folder, uids in by_folder.items():
                        imap_mover.move_messages(session, folder.name, uids, target.name)
                        folder._unlink_links(uids, archive_orphans=False)
            except connection_errors.ConnectionProblem as problem:
                raise UserError(_('The email could not be moved in your mailbox: %s') % problem.message)

    @api.model
    def _values_from_parsed(self, mailbox, parsed, folder):
        """Field values for a new message from a ``mime_parser.ParsedMessage``."""
        # Bcc stays in email_bcc, the owner's alone: participants are shown to
        # colleagues and link contacts, so they never include it.
        everyone = parsed.from_ + parsed.to + parsed.cc
        own = mailbox._own_addresses()
        outgoing = folder.special_use == 'sent' or bool(
            parsed.sender and parsed.sender.email in own)
        values = {
            'mailbox_id': mailbox.id,
            'user_id': mailbox.user_id.id,
            'folder_id': folder.id,
            'message_id': parsed.message_id,
            'has_message_id': parsed.has_message_id,
            'in_reply_to': ' '.join(parsed.in_reply_to) or False,
            'references': ' '.join(parsed.references) or False,
            'content_hash': parsed.content_hash,
            'content_key': parsed.content_key or False,
            'subject': parsed.subject,
            'email_from': _addresses_text(parsed.from_),
            # Indexed: an absurdly long address is cut, with a hash suffix.
            'from_address': safe_text.bounded(parsed.sender.email) if parsed.sender else False,
            'email_to': _addresses_text(parsed.to) or False,
            'email_cc': _addresses_text(parsed.cc) or False,
            'email_bcc': _addresses_text(parsed.bcc) or False,
            'participants': '\n'.join(sorted({a.email for a in everyone})),
            'date': fields.Datetime.to_string(parsed.date) if parsed.date else False,
            'direction': 'out' if outgoing else 'in',
            'body_text': parsed.text_body,
            'size': parsed.size,
            'is_auto_generated': parsed.is_auto_generated,
            'parse_error': parsed.parse_error or False,
            'headers': parsed.headers_text,
            'has_attachments': any(not a.is_inline for a in parsed.attachments),
            'skipped_attachments': '\n'.join(
                '%s (%s bytes)' % (a.filename, a.size)
                for a in parsed.attachments if a.content is None) or False,
        }
        # Whatever the parser let through, nothing PostgreSQL refuses is stored.
        return {name: safe_text.safe_text(value) for name, value in values.items()}

    # Columns written by the bulk insert of synced emails (see _create_many_from_parsed).
    _BULK_COLUMNS = (
        'mailbox_id', 'user_id', 'folder_id', 'message_id', 'has_message_id', 'in_reply_to',
        'references', 'content_hash', 'content_key', 'subject', 'email_from', 'from_address', 'email_to',
        'email_cc', 'email_bcc', 'participants', 'date', 'direction', 'body_text', 'body_html',
        'size', 'is_auto_generated', 'parse_error', 'headers', 'has_attachments',
        'skipped_attachments', 'active', 'archived_by_user', 'deleted_by_user', 'filtered_reason')

    @api.model
    def _create_from_parsed(self, mailbox, parsed, folder, internaldate=None):
        stored = self._create_many_from_parsed(mailbox, folder, [(parsed, internaldate)])
        return stored[parsed.message_id]

    @api.model
    def _create_many_from_parsed(self, mailbox, folder, items, filtered=None):
        """Store new emails, ``items`` being (ParsedMessage, internal date) pairs.
        Emails in ``filtered`` ({Message-ID: reason}) are excluded by the mail
        rules: only a contentless record of them is kept.

        The first import creates thousands of records: one INSERT per batch
        instead of one ORM create per email. Values go through the fields'
        own conversion (the Html field's sanitiser included), so the rows are
        what ``create`` would have written. Emails already stored (same
        Message-ID in this mailbox) are returned as they are.
        Returns {Message-ID: record}.
        """
        rows, seen, parsed_by_id = [], set(), {}
        for parsed, internaldate in items:
            if parsed.message_id in seen:
                continue  # the same email twice in one batch
            values = self._values_from_parsed(mailbox, parsed, folder)
            if not values['date'] and internaldate:
                values['date'] = fields.Datetime.to_string(internaldate)
            inline = any(a.content_id and a.content is not None for a in parsed.attachments)
            # With inline images the body is written once they are stored (cid: -> URL).
            values['body_html'] = safe_text.safe_text(parsed.html_body) \
                if parsed.html_body and not inline else False
            values.update(active=True, archived_by_user=False, deleted_by_user=False,
                          filtered_reason=False)
            reason = (filtered or {}).get(parsed.message_id)
            if reason:
                values = {name: values[name] if name in _TOMBSTONE_KEEPS else False
                          for name in values}
                values.update(filtered_reason=reason, archived_by_user=False,
                              deleted_by_user=False, has_attachments=False)
            else:
                parsed_by_id[parsed.message_id] = parsed
            rows.append(tuple(self._fields[name].convert_to_column(values[name], self)
                              for name in self._BULK_COLUMNS))
            seen.add(parsed.message_id)
        return self._bulk_insert(mailbox, rows, seen, parsed_by_id)

    def _bulk_insert(self, mailbox, rows, message_ids, parsed_by_id):
        from psycopg2.extras import execute_values
        columns = ', '.join('"%s"' % c for c in self._BULK_COLUMNS)
        template = '(%s, %%s, %%s, %s, %s)' % (
            ', '.join(['%s'] * len(self._BULK_COLUMNS)),
            "now() at time zone 'UTC'", "now() at time zone 'UTC'")
        uid = self.env.uid
        inserted = execute_values(
            self.env.cr._obj,
            'INSERT INTO email_sync_message (%s, create_uid, write_uid, create_date, write_date) '
            'VALUES %%s ON CONFLICT (mailbox_id, message_id) DO NOTHING RETURNING id, message_id'
            % columns,
            [row + (uid, uid) for row in rows], template=template, fetch=True)
        new_ids = {message_id: record_id for record_id, message_id in inserted}
        stored = {m.message_id: m for m in self.with_context(active_test=False).search([
            ('mailbox_id', '=', mailbox.id), ('message_id', 'in', list(message_ids))])}
        for message_id, record_id in new_ids.items():
            if message_id in parsed_by_id:
                self._store_attachments(self.browse(record_id), parsed_by_id[message_id])
        return stored

    def _store_attachments(self, message, parsed):
        cid_urls = {}
        Attachment = self.env['ir.attachment']
        for attachment in parsed.attachments:
            if attachment.content is None:
                continue
            filename = safe_text.safe_text(attachment.filename)
            record = Attachment.create({
                'name': filename,
                'datas_fname': filename,
                'datas': base64.b64encode(attachment.content),
                'mimetype': safe_text.safe_mimetype(attachment.content_type),
                'res_model': self._name,
                'res_id': message.id,
            })
            if attachment.content_id:
                key = mime_parser.content_id_key(attachment.content_id)
                cid_urls.setdefault(key, '/web/image/%d' % record.id)
        if parsed.html_body and cid_urls:
            # Inline images point to their stored attachments once those exist
            # (RFC 2392: compared percent-decoded; mailers differ in case).
            message.body_html = safe_text.safe_text(_CID_SRC.sub(
                lambda m: m.group(1) + cid_urls.get(mime_parser.content_id_key(m.group(2)),
                                                    'cid:' + m.group(2)) + m.group(3),
                parsed.html_body))
