import base64

from odoo.exceptions import AccessError

from ..lib.imap_session import FolderInfo
from ..lib.mime_parser import parse_message
from .common import EmailSyncCase

PNG = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')


def customer_mail(attachment_size=10, html='<p>Hello <b>Alice</b></p>'):
    pdf = b'%PDF-1.4 ' + b'x' * attachment_size
    return ('''From: "Carl Customer" <Carl@Customer.example>
To: Alice <alice@example.com>
Cc: boss@customer.example
Subject: =?utf-8?q?Quote_for_caf=C3=A9?=
Date: Tue, 24 Nov 2026 09:30:00 +0100
Message-ID: <quote-1@customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

%s<img src="cid:logo@customer"><script>alert(1)</script>
--rel
Content-Type: image/png
Content-ID: <logo@customer>
Content-Transfer-Encoding: base64

%s
--rel--
--mixed
Content-Type: application/pdf; name="quote.pdf"
Content-Disposition: attachment; filename="quote.pdf"
Content-Transfer-Encoding: base64

%s
--mixed--
''' % (html, base64.b64encode(PNG).decode(), base64.b64encode(pdf).decode())).replace('\n', '\r\n').encode()


class TestStoringEmail(EmailSyncCase):

    def setUp(self):
        super(TestStoringEmail, self).setUp()
        self.mailbox = self.mailbox_of(self.alice)
        self.env['email.sync.folder']._merge_listing(self.mailbox, [
            FolderInfo('INBOX', '/', (), 'inbox', True), FolderInfo('Sent', '/', ('\\Sent',), 'sent', True)])
        folders = self.mailbox.folder_ids
        self.inbox = folders.filtered(lambda f: f.name == 'INBOX')
        self.sent = folders.filtered(lambda f: f.name == 'Sent')
        self.Message = self.env['email.sync.message'].sudo()

    def store(self, raw, folder=None, limit=50 * 1024 * 1024):
        return self.Message._create_from_parsed(self.mailbox, parse_message(raw, limit), folder or self.inbox)

    def test_customer_email_is_stored_as_the_user_reads_it(self):
        message = self.store(customer_mail())
        self.assertEqual(message.subject, 'Quote for café')
        self.assertEqual(message.email_from, 'Carl Customer <carl@customer.example>')
        self.assertEqual(message.direction, 'in')
        self.assertEqual(message.participants.split('\n'),
                         ['alice@example.com', 'boss@customer.example', 'carl@customer.example'])
        self.assertEqual(message.date, '2026-11-24 08:30:00')
        self.assertEqual(message.user_id, self.alice)
        self.assertTrue(message.has_attachments)
        self.assertEqual(sorted(message.attachment_ids.mapped('mimetype')), ['application/pdf', 'image/png'])

    def test_html_is_sanitised_and_inline_images_point_to_stored_attachments(self):
        message = self.store(customer_mail())
        image = message.attachment_ids.filtered(lambda a: a.mimetype == 'image/png')
        self.assertIn('/web/image/%d' % image.id, message.body_html)
        self.assertNotIn('cid:', message.body_html)
        self.assertNotIn('<script', message.body_html)
        self.assertIn('<b>Alice</b>', message.body_html)

    def test_mail_in_sent_or_from_the_owner_is_outgoing(self):
        self.assertEqual(self.store(customer_mail(), self.sent).direction, 'out')
        raw = customer_mail().replace(b'"Carl Customer" <Carl@Customer.example>', b'alice@example.com') \
            .replace(b'quote-1@', b'quote-2@')
        self.assertEqual(self.store(raw).direction, 'out')

    def test_attachment_over_the_limit_is_named_not_stored(self):
        message = self.store(customer_mail(attachment_size=5000), limit=1000)
        self.assertEqual(message.attachment_ids.mapped('mimetype'), ['image/png'])
        self.assertIn('quote.pdf', message.skipped_attachments)

    def test_same_email_twice_in_a_mailbox_is_stored_once(self):
        first = self.store(customer_mail())
        again = self.store(customer_mail(), self.sent)
        self.assertEqual(again, first)
        self.assertEqual(self.Message.search_count([('mailbox_id', '=', self.mailbox.id)]), 1)
        self.assertEqual(len(first.attachment_ids), 2, 'no second copy of the attachments')
        # And the database itself refuses a duplicate, whatever the code path.
        with self.assertRaises(Exception), self.env.cr.savepoint():
            self.env.cr.execute(
                'INSERT INTO email_sync_message (mailbox_id, user_id, message_id, direction) '
                'VALUES (%s, %s, %s, %s)', (self.mailbox.id, self.alice.id, first.message_id, 'in'))

    def test_colleague_can_neither_read_the_email_nor_download_its_attachments(self):
        message = self.store(customer_mail())
        with self.assertRaises(AccessError):
            message.sudo(self.bob).read(['subject'])
        self.assertFalse(self.env['email.sync.message'].sudo(self.bob).search([]))
        with self.assertRaises(AccessError):
            message.attachment_ids.sudo(self.bob).read(['datas'])
        self.assertEqual(message.sudo(self.alice).read(['subject'])[0]['subject'], 'Quote for café')
        self.assertTrue(message.attachment_ids.sudo(self.alice).read(['datas'])[0]['datas'])

    def test_unreadable_mail_is_kept_with_its_headers(self):
        message = self.store(b'Subject: broken\r\nContent-Type: multipart/mixed\r\n\r\n\xff\xfe garbage')
        self.assertEqual(message.subject, 'broken')
        self.assertIn('Subject: broken', message.headers)
