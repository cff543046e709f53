import base64
import datetime
import json
from email.utils import getaddresses

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext, html_escape

from ..lib import address_rules, connection_errors, link_tracking, outgoing_mail
from ..lib import subject_key, tracking_token

# Files uploaded in the composer before it is saved or sent.
UPLOAD_MODEL = 'email.sync.composer'

MODES = [('new', 'New email'), ('reply', 'Reply'), ('reply_all', 'Reply all'), ('forward', 'Forward')]


class EmailSyncComposer(models.TransientModel):
    """Write an email from the CRM and send it through the user's own mailbox:
    a reply threads in the recipient's client too, a copy goes to the
    mailbox's Sent folder, and the email shows in its CRM conversation at once."""
    _name = 'email.sync.composer'
    _description = 'Write an email'

    mode = fields.Selection(MODES, default='new', required=True)
    mailbox_id = fields.Many2one(
        'email.sync.mailbox', 'From', required=True,
        domain=lambda self: [('user_id', '=', self.env.uid), ('state', '=', 'ok')],
        default=lambda self: self.env['email.sync.mailbox'].search(
            [('user_id', '=', self.env.uid), ('state', '=', 'ok')], limit=1))
    to_partner_ids = fields.Many2many('res.partner', 'email_sync_composer_to_rel', 'composer_id',
                                      'partner_id', 'To')
    cc_partner_ids = fields.Many2many('res.partner', 'email_sync_composer_cc_rel', 'composer_id',
                                      'partner_id', 'Cc')
    bcc_partner_ids = fields.Many2many('res.partner', 'email_sync_composer_bcc_rel', 'composer_id',
                                       'partner_id', 'Bcc')
    subject = fields.Char()
    body = fields.Html(sanitize_style=True)
    attachment_ids = fields.Many2many('ir.attachment', 'email_sync_composer_attachment_rel',
                                      'composer_id', 'attachment_id', 'Attachments')
    template_id = fields.Many2one('mail.template', 'Template',
                                  domain=[('model', 'in', ('crm.lead', 'res.partner'))])
    parent_id = fields.Many2one('email.sync.message', 'In reply to')
    thread_id = fields.Many2one('email.sync.thread', 'Conversation')
    lead_id = fields.Many2one('crm.lead', 'Deal')
    partner_id = fields.Many2one('res.partner', 'Contact')
    # A default, not a computed field: the web client fills the form from
    # default_get. Sending checks the company's setting again anyway.
    tracking_allowed = fields.Boolean(
        readonly=True, default=lambda self: not self.env.user.company_id.email_sync_tracking_disabled)
    track_opens = fields.Boolean(default=lambda self: self.env.user.email_sync_track_opens)
    track_clicks = fields.Boolean(default=lambda self: self.env.user.email_sync_track_clicks)

    # --- what a composer may refer to ---------------------------------------
    @api.model
    def check_access_rights(self, operation, raise_exception=True):
        # Odoo 11 lets everyone use transient models: writing mail is for users
        # of the email sync (not portal or public users).
        if self.env.uid != SUPERUSER_ID and not self.env.user.has_group(
                'email_crm_sync.group_email_sync_user'):
            if raise_exception:
                raise AccessError(_('You have no access to the email sync.'))
            return False
        return super(EmailSyncComposer, self).check_access_rights(
            operation, raise_exception=raise_exception)

    @api.model
    def create(self, values):
        composer = super(EmailSyncComposer, self).create(values)
        composer._check_sources()
        return composer

    @api.multi
    def write(self, values):
        result = super(EmailSyncComposer, self).write(values)
        self._check_sources()
        return result

    def _check_sources(self):
        """What a composer answers, quotes, fills in or attaches must be its
        writer's to read: Odoo names a composer's links as the superuser, and
        sending reads them whole, so a composer must not reach further than
        its writer."""
        if self.env.uid == SUPERUSER_ID:
            return
        for composer in self:
            for email_or_thread in (composer.parent_id, composer.thread_id):
                email_or_thread._check_content_readable()
            people = (composer.partner_id | composer.to_partner_ids | composer.cc_partner_ids
                      | composer.bcc_partner_ids)
            for record in (composer.lead_id, people, composer.template_id):
                if record:
                    record.check_access_rights('read')
                    record.check_access_rule('read')
            composer.attachment_ids.check('read')

    # --- what the composer opens with ------------------------------------
    @api.model
    def default_get(self, field_names):
        values = super(EmailSyncComposer, self).default_get(field_names)
        context = self.env.context
        model, record_id = context.get('active_model'), context.get('active_id')
        if model == 'crm.lead' and record_id:
            lead = self.env['crm.lead'].browse(record_id)
            values.update(lead_id=lead.id, to_partner_ids=[(6, 0, lead.partner_id.ids)])
        elif model == 'res.partner' and record_id:
            values.update(partner_id=record_id, to_partner_ids=[(6, 0, [record_id])])
        elif model == 'email.sync.thread' and record_id:
            thread = self.env['email.sync.thread'].browse(record_id)
            # Answering quotes the emails and carries their ids: full content only.
            thread._check_content_readable()
            values.update(thread_id=thread.id, lead_id=self._readable_lead(thread.lead_id).id)
            parent = thread.email_ids.filtered(lambda m: not m.filtered_reason).sorted(
                lambda m: (m.date or '', m.id))[-1:]
            if parent:
                values.update(self._answer_values(parent, values.get('mode') or context.get('default_mode')))
        # Room to write, the signature, then what is answered or forwarded.
        mailbox = self.env['email.sync.mailbox'].browse(values.get('mailbox_id'))
        signature = ('<div class="o_email_sync_signature">%s</div>' % mailbox.signature
                     if mailbox.signature else '')
        values['body'] = '<p><br></p>' + signature + values.pop('quote', '')
        return values

    def _readable_lead(self, lead):
        """``lead`` if the user may read it (the owner may have linked the
        conversation to someone else's deal), else no lead."""
        Lead = self.env['crm.lead']
        if not lead or not Lead.check_access_rights('read', raise_exception=False):
            return Lead
        return Lead.search([('id', '=', lead.id)])

    def _answer_values(self, parent, mode):
        """To, Cc, subject, quoted text and attachments for a reply or forward."""
        mode = mode or 'reply'
        own = self.env['email.sync.mailbox'].search([('user_id', '=', self.env.uid)])
        own_addresses = set().union(*[m._own_addresses() for m in own]) if own else set()
        Partner = self.env['res.partner']

        def partners(text):
            addresses = [address_rules.normalize(a) for _name, a in getaddresses([text or ''])]
            addresses = [a for a in addresses if a and a not in own_addresses]
            found = Partner._email_sync_find(addresses)
            ids = []
            for address in addresses:
                ids.append(found.get(address) or Partner.create({'name': address, 'email': address}).id)
            return list(dict.fromkeys(ids))

        prefix = 'Fwd: ' if mode == 'forward' else 'Re: '
        values = {'mode': mode, 'parent_id': parent.id,
                  'subject': prefix + subject_key.strip_prefixes(parent.subject)}
        if mode in ('reply', 'reply_all'):
            sender = parent.email_from if parent.direction == 'in' else parent.email_to
            values['to_partner_ids'] = [(6, 0, partners(sender))]
            if mode == 'reply_all':
                others = ','.join(t for t in (parent.email_to, parent.email_cc) if t)
                to_ids = set(values['to_partner_ids'][0][2])
                values['cc_partner_ids'] = [(6, 0, [p for p in partners(others) if p not in to_ids])]
        quoted = parent.body_html or '<pre>%s</pre>' % html_escape(parent.body_text or '')
        values['quote'] = '<blockquote>%s<br>%s</blockquote>' % (
            html_escape(_('On %s, %s wrote:') % (parent.date or '', parent.email_from or '')), quoted)
        if mode == 'forward' and parent.attachment_ids:
            # The email's own files, not copies: nothing is left behind when
            # the composer is closed without sending.
            values['attachment_ids'] = [(6, 0, parent.attachment_ids.ids)]
        return values

    @api.onchange('template_id')
    def _onchange_template_id(self):
        if not self.template_id:
            return
        record_id = self.lead_id.id if self.template_id.model == 'crm.lead' else (
            self.partner_id.id or self.to_partner_ids[:1].id)
        if not record_id:
            return {'warning': {'title': _('Template'), 'message': _(
                'This template fills in a %s: open the composer from one.') % self.template_id.model}}
        rendered = self.template_id.generate_email(record_id, fields=['subject', 'body_html'])
        self.subject = rendered.get('subject') or self.subject
        signature = self.mailbox_id.signature
        self.body = (rendered.get('body_html') or '') + (
            '<div class="o_email_sync_signature">%s</div>' % signature if signature else '')

    # --- sending -----------------------------------------------------------
    def _recipients(self):
        def pairs(partners):
            result = []
            for partner in partners:
                address = address_rules.normalize(partner.email)
                if not address:
                    raise UserError(_('%s has no valid email address.') % partner.display_name)
                result.append((partner.name if partner.name != partner.email else '', address))
            return result
        to, cc, bcc = pairs(self.to_partner_ids), pairs(self.cc_partner_ids), pairs(self.bcc_partner_ids)
        if not (to or cc or bcc):
            raise UserError(_('Add at least one recipient.'))
        return to, cc, bcc

    def _check_size(self, mailbox):
        limit_mb = mailbox._send_limit_mb()
        total = sum(self.attachment_ids.sudo().mapped('file_size'))
        if limit_mb and total > limit_mb * 1024 * 1024:
            provider = mailbox.provider_id.name if mailbox.provider_id.max_message_mb else _('your server')
            raise UserError(_(
                'The attachments add up to %.1f MB; %s accepts at most %d MB per email. Remove some, '
                'or share large files as links.') % (total / 1048576.0, provider, limit_mb))

    @api.multi
    def action_send(self):
        self.ensure_one()
        mailbox = self.mailbox_id
        if mailbox.user_id != self.env.user:
            raise UserError(_('You can only send from your own mailboxes.'))
        to, cc, bcc = self._recipients()
        self._check_size(mailbox)
        sender = address_rules.normalize(mailbox.email)
        self._check_sources()
        # Threading headers: the parent's content is the user's to read (checked above).
        parent = self.parent_id.sudo()
        message_id = outgoing_mail.new_message_id(sender)
        references = outgoing_mail.references_for(
            parent.message_id, (parent.references or '').split()) if parent else []
        attachments = [(a.datas_fname or a.name, a.mimetype, base64.b64decode(a.datas or b''))
                       for a in self.attachment_ids.sudo()]
        html = outgoing_mail.html_document(self.body or '')
        build = dict(sender=sender, sender_name=self.env.user.name, to=to, cc=cc,
                     subject=self.subject or '', text=html2plaintext(self.body or ''),
                     message_id=message_id, in_reply_to=parent.message_id if parent else None,
                     references=references, attachments=attachments,
                     date=datetime.datetime.now(datetime.timezone.utc))
        clean = outgoing_mail.build(html=html, **build)

        email = self._store_sent(mailbox, clean, bcc)
        tracked_html, urls = self._tracked_html(email, html)
        wire = outgoing_mail.build(html=tracked_html, **build) if tracked_html != html else clean
        try:
            mailbox.sudo()._smtp_send(sender, [a for _n, a in to + cc + bcc], wire)
        except connection_errors.ConnectionProblem as problem:
            raise UserError(_('The email was not sent: %s') % problem.message)
        email.sudo().write({'tracked_urls': json.dumps(urls) if urls else False})
        self._append_to_sent(mailbox, clean)
        # The sent email keeps its own copies of the files (from the message).
        self._own_uploads().unlink()
        thread = email.sudo().thread_id
        if self.lead_id and thread and not thread.lead_id:
            thread.sudo(self.env.user).write({'lead_id': self.lead_id.id})
        return {
            'type': 'ir.actions.act_window', 'res_model': 'email.sync.thread', 'res_id': thread.id,
            'view_mode': 'form', 'target': 'current',
        } if thread else {'type': 'ir.actions.act_window_close'}

    def _own_uploads(self):
        return self.attachment_ids.filtered(
            lambda a: a.res_model == UPLOAD_MODEL and a.create_uid == self.env.user)

    @api.model
    def _transient_vacuum(self, force=False):
        """With old drafts go files uploaded for them, and those uploaded for
        a composer that was never saved."""
        result = super(EmailSyncComposer, self)._transient_vacuum(force=force)
        self.env.cr.execute("""
            SELECT a.id FROM ir_attachment a
             WHERE a.res_model = %s
               AND a.create_date < (now() at time zone 'UTC') - interval '1 day'
               AND NOT EXISTS (SELECT 1 FROM email_sync_composer c WHERE c.id = a.res_id)
        """, (UPLOAD_MODEL,))
        orphans = [row[0] for row in self.env.cr.fetchall()]
        if orphans:
            self.env['ir.attachment'].sudo().browse(orphans).unlink()
        return result

    def _tracking_wanted(self):
        if self.env.user.company_id.email_sync_tracking_disabled:
            return False, False   # the company's choice wins over the user's
        return self.track_opens, self.track_clicks

    def _tracked_html(self, email, html):
        opens, clicks = self._tracking_wanted()
        if not (opens or clicks):
            return html, []
        secret = self.env['ir.config_parameter'].sudo().get_param('database.secret')
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url', '').rstrip('/')
        nonce = tracking_token.new_nonce()
        email.sudo().write({'track_opens': opens, 'track_clicks': clicks, 'tracking_nonce': nonce})
        email.sudo().thread_id.write({'tracking_enabled': True})
        urls = []
        if clicks:
            html, urls = link_tracking.rewrite_links(html, lambda index: '%s/ecs/t/c/%s' % (
                base, tracking_token.make_token(secret, email.id, nonce, 'c', index)))
        if opens:
            html = link_tracking.add_pixel(html, '%s/ecs/t/o/%s.gif' % (
                base, tracking_token.make_token(secret, email.id, nonce, 'o')))
        return html, urls

    def _store_sent(self, mailbox, raw, bcc):
        """The email in the CRM at once, as the sync would store it (without
        tracking: reading it in the CRM must not count as an open)."""
        from ..lib import mime_parser
        from ..sync.conversation_builder import ConversationBuilder, display_names
        parsed = mime_parser.parse_message(raw, mailbox._max_attachment_bytes())
        Message = self.env['email.sync.message'].sudo()
        mailbox = mailbox.sudo()
        email = Message._create_many_from_parsed(
            mailbox, mailbox._sent_folder(), [(parsed, datetime.datetime.utcnow())])[parsed.message_id]
        if bcc:
            email.write({'email_bcc': ', '.join('%s <%s>' % (n, a) if n else a for n, a in bcc)})
        # Bcc recipients are kept on the email for the owner only: no contact, no link.
        ConversationBuilder(mailbox).add({email.id: display_names(parsed)})
        return email

    def _append_to_sent(self, mailbox, raw):
        """A copy in the mailbox's Sent folder, unless the provider files one itself.
        The email is sent already: a failure here is logged, not raised."""
        mailbox = mailbox.sudo()
        folder = mailbox._sent_folder()
        if mailbox.stores_sent_copy or not folder:
            return
        try:
            with mailbox._imap_session() as session:
                session.client.append(folder.name, raw, flags=[b'\\Seen'])
        except Exception as error:  # ConnectionProblem or an IMAP error after login
            message = getattr(error, 'message', None) or str(error)
            mailbox._log('warning', 'A sent email could not be copied to "%s": %s' % (folder.name, message))
