"""Writing from the CRM: what the composer proposes, what goes over SMTP (to
a real SMTP server on loopback), what the CRM keeps, and tracking."""
import base64
import email
import email.policy
import json
import re
import socket

from aiosmtpd.controller import Controller

from odoo.exceptions import UserError

from ..lib import tracking_token
from .mail_factory import deliver, raw_mail
from .test_email_sync_thread import ALICE, CARL, DORA, ConversationCase


class _Inbox:
    """An SMTP server's handler: keeps every envelope it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return '250 OK'


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class ComposerCase(ConversationCase):

    def setUp(self):
        super(ComposerCase, self).setUp()
        self.smtp = _Inbox()
        self.server = Controller(self.smtp, hostname='127.0.0.1', port=_free_port())
        self.server.start()
        self.addCleanup(self.server.stop)
        self.mailbox.sudo().write({'smtp_host': '127.0.0.1', 'smtp_port': self.server.port,
                                   'smtp_security': 'none'})
        self.mailbox.sudo().write({'state': 'ok', 'signature': '<p>-- Alice, Sales</p>'})
        self.alice.groups_id |= self.env.ref('sales_team.group_sale_salesman_all_leads')

    def composer(self, **context):
        Composer = self.env['email.sync.composer'].sudo(self.alice).with_context(**context)
        values = Composer.default_get(list(Composer._fields))
        values.setdefault('mailbox_id', self.mailbox.id)
        return Composer.create(values)

    def last_sent(self):
        envelope = self.smtp.envelopes[-1]
        return envelope, email.message_from_bytes(envelope.content, policy=email.policy.default)


class TestComposing(ComposerCase):

    def setUp(self):
        super(TestComposing, self).setUp()
        self.first, = deliver(self.mailbox, self.inbox, raw_mail(
            CARL, ALICE, 'RE: [deals] Quote 2027', 'q1@c', cc=[DORA], references=['q0@c'],
            attachment=True))
        self.thread = self.first.thread_id

    def test_a_reply_threads_and_goes_to_the_sender_only(self):
        composer = self.composer(active_model='email.sync.thread', active_id=self.thread.id,
                                 default_mode='reply')
        self.assertEqual(composer.to_partner_ids.mapped('email'), ['carl@customer.example'])
        self.assertFalse(composer.cc_partner_ids)
        self.assertEqual(composer.subject, 'Re: Quote 2027')
        self.assertIn('-- Alice, Sales', composer.body)
        composer.write({'body': '<p>Here is our offer.</p>', 'track_opens': False, 'track_clicks': False})
        action = composer.action_send()
        envelope, sent = self.last_sent()
        self.assertEqual(envelope.rcpt_tos, ['carl@customer.example'])
        self.assertEqual(sent['In-Reply-To'], '<q1@c>')
        self.assertEqual(sent['References'], '<q0@c> <q1@c>')
        self.assertTrue(sent['Message-ID'].endswith('@example.com>'))
        # In the conversation at once, as outgoing mail.
        self.assertEqual(action['res_id'], self.thread.id)
        self.assertEqual(self.thread.message_count, 2)
        reply = self.thread.email_ids.filtered(lambda m: m.direction == 'out')
        self.assertEqual(reply.message_id, sent['Message-ID'].strip('<>'))
        self.assertIn('Here is our offer', reply.body_html)

    def test_reply_all_copies_everyone_but_the_user(self):
        composer = self.composer(active_model='email.sync.thread', active_id=self.thread.id,
                                 default_mode='reply_all')
        self.assertEqual(composer.to_partner_ids.mapped('email'), ['carl@customer.example'])
        self.assertEqual(composer.cc_partner_ids.mapped('email'), ['dora@customer.example'])
        composer.action_send()
        envelope, sent = self.last_sent()
        self.assertEqual(sorted(envelope.rcpt_tos), ['carl@customer.example', 'dora@customer.example'])

    def test_forward_keeps_the_attachments_and_asks_for_recipients(self):
        composer = self.composer(active_model='email.sync.thread', active_id=self.thread.id,
                                 default_mode='forward')
        self.assertEqual(composer.subject, 'Fwd: Quote 2027')
        self.assertFalse(composer.to_partner_ids)
        self.assertEqual(composer.attachment_ids.mapped('name'), ['offer.pdf'])
        with self.assertRaises(UserError):
            composer.action_send()
        composer.to_partner_ids = self.env['res.partner'].create({'name': 'Eve', 'email': 'eve@x.example'})
        composer.action_send()
        envelope, sent = self.last_sent()
        self.assertEqual(envelope.rcpt_tos, ['eve@x.example'])
        self.assertEqual([p.get_filename() for p in sent.iter_attachments()], ['offer.pdf'])

    def test_bcc_recipients_receive_it_without_appearing_in_it(self):
        composer = self.composer(active_model='email.sync.thread', active_id=self.thread.id,
                                 default_mode='reply')
        boss = self.env['res.partner'].create({'name': 'Boss', 'email': 'boss@example.org'})
        composer.bcc_partner_ids = boss
        composer.action_send()
        envelope, sent = self.last_sent()
        self.assertIn('boss@example.org', envelope.rcpt_tos)
        self.assertNotIn('boss@example.org', envelope.content.decode('utf-8', 'replace'))
        stored = self.thread.email_ids.filtered(lambda m: m.direction == 'out')
        self.assertIn('boss@example.org', stored.email_bcc)

    def test_right_to_left_text_is_sent_with_automatic_direction(self):
        composer = self.composer(active_model='res.partner',
                                 active_id=self.env['res.partner'].create(
                                     {'name': 'Samir', 'email': 'samir@client.example'}).id)
        composer.write({'subject': 'عرض السعر', 'body': '<p>مرحبا، هذا هو العرض</p>'})
        composer.action_send()
        envelope, sent = self.last_sent()
        html = sent.get_body(('html',)).get_content()
        self.assertIn('<div dir="auto"><p>مرحبا، هذا هو العرض</p>', html)
        self.assertEqual(sent['Subject'], 'عرض السعر')

    def test_a_template_fills_in_the_deal(self):
        partner = self.env['res.partner'].create({'name': 'Fiona', 'email': 'fiona@client.example'})
        deal = self.env['crm.lead'].create({'name': '40 desks', 'type': 'opportunity',
                                            'partner_id': partner.id})
        template = self.env['mail.template'].create({
            'name': 'Offer', 'model_id': self.env.ref('crm.model_crm_lead').id,
            'subject': 'Offer for ${object.name}',
            'body_html': '<p>Dear ${object.partner_id.name},</p>'})
        composer = self.composer(active_model='crm.lead', active_id=deal.id)
        self.assertEqual(composer.to_partner_ids, partner)
        composer.template_id = template
        composer._onchange_template_id()
        self.assertEqual(composer.subject, 'Offer for 40 desks')
        self.assertIn('Dear Fiona,', composer.body)
        composer.action_send()
        thread = self.env['email.sync.thread'].search([('name', '=', 'Offer for 40 desks')])
        self.assertEqual(thread.lead_id, deal)

    def test_attachments_over_the_providers_limit_are_refused_before_sending(self):
        composer = self.composer(active_model='email.sync.thread', active_id=self.thread.id)
        big = self.env['ir.attachment'].create({'name': 'video.mp4', 'datas_fname': 'video.mp4',
                                                'datas': base64.b64encode(b'x' * (26 * 1024 * 1024))})
        composer.attachment_ids = big
        with self.assertRaisesRegex(UserError, 'at most 25 MB'):
            composer.action_send()
        self.assertFalse(self.smtp.envelopes)

    def test_an_smtp_failure_keeps_the_draft_and_says_why(self):
        self.mailbox.sudo().write({'smtp_port': _free_port(), 'state': 'ok'})
        composer = self.composer(active_model='email.sync.thread', active_id=self.thread.id)
        composer.body = '<p>Draft text</p>'
        with self.assertRaisesRegex(UserError, 'not sent: Nothing accepts connections'):
            with self.env.cr.savepoint():  # the request's transaction, rolled back
                composer.action_send()
        self.env.cache.invalidate()  # as the next request sees it
        self.assertIn('Draft text', composer.body)
        self.assertEqual(self.thread.message_count, 1)


class TestTracking(ComposerCase):

    def send(self, body, **values):
        partner = self.env['res.partner'].create({'name': 'Gina', 'email': 'gina@client.example'})
        composer = self.composer(active_model='res.partner', active_id=partner.id)
        composer.write(dict({'subject': 'Tracked offer', 'body': body}, **values))
        composer.action_send()
        envelope, sent = self.last_sent()
        stored = self.env['email.sync.message'].search([('subject', '=', 'Tracked offer')],
                                                        order='id desc', limit=1)
        return sent.get_body(('html',)).get_content(), stored

    def test_opens_and_clicks_are_tracked_with_signed_tokens(self):
        html, stored = self.send('<p>See <a href="https://shop.example/offer?a=1&amp;b=2">the offer</a> '
                                 'or <a href="mailto:x@y.example">write</a></p>',
                                 track_opens=True, track_clicks=True)
        secret = self.env['ir.config_parameter'].get_param('database.secret')
        pixel = re.search(r'/ecs/t/o/([^"]+)\.gif', html).group(1)
        click = re.search(r'/ecs/t/c/([^"]+)"', html).group(1)
        self.assertTrue(tracking_token.verify(secret, pixel, stored.tracking_nonce, 'o'))
        self.assertTrue(tracking_token.verify(secret, click, stored.tracking_nonce, 'c'))
        self.assertFalse(tracking_token.verify(secret, click, stored.tracking_nonce, 'o'))
        self.assertIn('mailto:x@y.example', html)
        self.assertEqual(json.loads(stored.tracked_urls), ['https://shop.example/offer?a=1&b=2'])
        # The CRM's copy carries no tracking: reading it there is not an open.
        self.assertNotIn('/ecs/t/', stored.body_html)
        self.assertTrue(stored.thread_id.tracking_enabled)

    def test_tracking_off_means_no_pixel_and_no_rewritten_link(self):
        html, stored = self.send('<p><a href="https://shop.example/">shop</a></p>',
                                 track_opens=False, track_clicks=False)
        self.assertNotIn('/ecs/t/', html)
        self.assertIn('href="https://shop.example/"', html)
        self.assertFalse(stored.track_opens or stored.tracking_nonce or stored.thread_id.tracking_enabled)

    def test_the_company_kill_switch_wins_over_the_users_choice(self):
        self.alice.write({'email_sync_track_opens': True, 'email_sync_track_clicks': True})
        self.company.email_sync_tracking_disabled = True
        composer = self.composer()
        self.assertFalse(composer.tracking_allowed)
        html, stored = self.send('<p><a href="https://shop.example/">shop</a></p>',
                                 track_opens=True, track_clicks=True)
        self.assertNotIn('/ecs/t/', html)

    def events(self, stored, *rows):
        for kind, machine, seconds in rows:
            self.env.cr.execute("""
                INSERT INTO email_sync_tracking_event (message_id, user_id, kind, event_date, url,
                                                       machine, processed)
                VALUES (%s, %s, %s, (now() at time zone 'UTC') + %s * interval '1 second', %s, %s, false)
            """, (stored.id, stored.user_id.id, kind, seconds,
                  'https://shop.example/' if kind == 'click' else None, machine))
        return self.env['email.sync.tracking.event']._cron_process()

    def notes(self, stored):
        """The sender's inbox messages about tracking."""
        return self.env['mail.message'].sudo(self.alice).search(
            [('needaction', '=', True), ('record_name', '=', 'Email tracking')], order='id').mapped('body')

    def feed(self, stored):
        return self.env['mail.message'].search([
            ('model', '=', 'email.sync.thread'), ('res_id', '=', stored.thread_id.id),
            ('body', 'ilike', 'your email')]).mapped('body')

    def test_the_sender_is_told_of_the_first_human_open_and_of_each_click(self):
        html, stored = self.send('<p><a href="https://shop.example/">shop</a></p>',
                                 track_opens=True, track_clicks=True)
        self.events(stored, ('open', True, 1))              # a proxy, right after sending
        self.assertEqual((stored.open_count, self.notes(stored)), (0, []))
        self.events(stored, ('open', False, 60), ('open', False, 120))
        self.assertEqual(stored.open_count, 2)
        self.assertTrue(stored.thread_id.opened)
        self.assertEqual(len(self.notes(stored)), 1)
        self.assertIn('was opened', self.notes(stored)[0])
        self.events(stored, ('click', False, 180))
        self.assertEqual(stored.click_count, 1)
        self.assertEqual(len(self.notes(stored)), 2)
        self.assertIn('was clicked: https://shop.example/', self.notes(stored)[1])
        # The conversation's feed, which colleagues may read, says nothing of it.
        self.assertEqual(self.feed(stored), [])
        # Only the sender can read the inbox message with the link.
        self.assertFalse(self.env['mail.message'].sudo(self.bob).search([('body', 'ilike', 'shop.example')]))
        self.assertIn('fa-eye', stored.thread_id.conversation_html)
        self.assertIn('1 click(s)', stored.thread_id.conversation_html)

    def test_a_click_turns_the_earlier_machine_open_into_a_human_one(self):
        html, stored = self.send('<p><a href="https://shop.example/">shop</a></p>',
                                 track_opens=True, track_clicks=True)
        self.events(stored, ('open', True, 2), ('click', False, 90))
        self.assertEqual((stored.open_count, stored.click_count), (1, 1))
        self.assertFalse(stored.tracking_event_ids.filtered('machine'))
