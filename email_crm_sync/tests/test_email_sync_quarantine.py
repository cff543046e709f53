import datetime

from odoo.exceptions import AccessError

from ..lib.imap_folder import FetchedMessage
from ..lib.imap_session import FolderInfo
from ..sync.mailbox_sync import MailboxSync
from .common import EmailSyncCase
from .mail_factory import raw_mail


class TestHostileMailNeverStopsAMailbox(EmailSyncCase):
    """What the sync does with a message PostgreSQL refuses, and with mail
    that reuses, spoofs or mangles what a salesperson relies on."""

    def setUp(self):
        super(TestHostileMailNeverStopsAMailbox, self).setUp()
        self.mailbox = self.mailbox_of(self.alice).sudo()
        self.env['email.sync.folder']._merge_listing(self.mailbox, [
            FolderInfo('INBOX', '/', (), 'inbox', True), FolderInfo('Sent', '/', ('\\Sent',), 'sent', True)])
        self.inbox = self.mailbox.folder_ids.filtered(lambda f: f.name == 'INBOX')
        self.sent = self.mailbox.folder_ids.filtered(lambda f: f.name == 'Sent')
        self.uid = 0

    def fetched(self, raw):
        self.uid += 1
        return FetchedMessage(uid=self.uid, flags=(), internaldate=datetime.datetime(2026, 11, 20, 8, 0),
                              size=len(raw), raw=raw, modseq=None)

    def sync(self, folder, batch):
        engine = MailboxSync(self.mailbox, deadline=float('inf'))
        handled = engine._store_batch(folder, batch)
        return engine, handled

    def poison(self):
        """A constraint standing for any defect not known yet: the database
        refuses one kind of message."""
        self.env.cr.execute("ALTER TABLE email_sync_message ADD CONSTRAINT ecs_poison "
                            "CHECK (subject NOT LIKE '%%POISON%%') NOT VALID")

    def mail(self, number, subject='Order', sender='carla@customer.example'):
        return raw_mail(sender, 'alice@example.com', '%s %d' % (subject, number),
                        'order-%d@customer.example' % number)

    def stored_ids(self):
        return set(self.env['email.sync.message'].search(
            [('mailbox_id', '=', self.mailbox.id)]).mapped('message_id'))

    def test_one_refused_message_is_set_aside_and_the_rest_of_its_batch_is_stored(self):
        self.poison()
        batch = [self.fetched(self.mail(n, 'POISON' if n == 3 else 'Order')) for n in range(1, 7)]
        engine, handled = self.sync(self.inbox, batch)
        self.assertEqual(handled, [m.uid for m in batch], 'the folder moves past it')
        self.assertEqual(self.stored_ids(), {'order-%d@customer.example' % n for n in (1, 2, 4, 5, 6)})
        quarantined = self.mailbox.quarantine_ids
        self.assertEqual(len(quarantined), 1)
        self.assertEqual((quarantined.folder_id, int(quarantined.uid), quarantined.subject,
                          quarantined.email_from, quarantined.reason, quarantined.size),
                         (self.inbox, batch[2].uid, 'POISON 3', 'carla@customer.example', 'database',
                          batch[2].size))
        self.assertIn('ecs_poison', quarantined.detail)
        self.assertEqual(engine.quarantined, 1)
        self.assertEqual(self.mailbox.sudo(self.alice).quarantine_summary,
                         '1 message could not be stored: The database refused it ("POISON 3").')

        # Fetched again (a crash before the commit, an audit): nothing is added.
        engine, _handled = self.sync(self.inbox, batch)
        self.assertEqual((engine.fetched, engine.quarantined), (0, 0))
        self.assertEqual(quarantined.attempts, 1)
        self.assertEqual(len(self.stored_ids()), 5)

    def test_after_an_upgrade_a_quarantined_message_is_tried_again(self):
        self.poison()
        batch = [self.fetched(self.mail(1, 'POISON'))]
        self.sync(self.inbox, batch)
        self.assertEqual(self.inbox._handled_uids(self.env['email.sync.quarantine']._current_version()),
                         {batch[0].uid})
        self.env.cr.execute('ALTER TABLE email_sync_message DROP CONSTRAINT ecs_poison')
        self.mailbox.quarantine_ids.write({'module_version': 'before-upgrade'})
        version = self.env['email.sync.quarantine']._current_version()
        self.assertEqual(self.inbox._stale_quarantine_uids(version), [batch[0].uid])
        self.assertTrue(self.mailbox._has_stale_quarantine(version))
        self.sync(self.inbox, batch)
        self.assertFalse(self.mailbox.quarantine_ids)
        self.assertEqual(self.stored_ids(), {'order-1@customer.example'})

    def test_the_owner_alone_reads_what_was_set_aside(self):
        self.poison()
        self.sync(self.inbox, [self.fetched(self.mail(1, 'POISON'))])
        Quarantine = self.env['email.sync.quarantine']
        self.assertEqual(Quarantine.sudo(self.alice).search([]).mapped('subject'), ['POISON 1'])
        self.assertFalse(Quarantine.sudo(self.bob).search([]))
        self.assertFalse(Quarantine.sudo(self.manager).search([]))
        with self.assertRaises(AccessError):
            Quarantine.sudo(self.alice).search([]).write({'subject': 'x'})
        # A manager sees that the mailbox has a problem, not the subject.
        summary = self.mailbox.sudo(self.manager).quarantine_summary
        self.assertEqual(summary, '1 message could not be stored: The database refused it.')

    def test_a_failing_mailbox_never_says_in_sync(self):
        from ..lib.connection_errors import ConnectionProblem
        self.mailbox.write({'audit_summary': 'In sync: 578 of 578 messages (checked 2026-11-20 08:00)'})
        self.mailbox._sync_failed(ConnectionProblem('dropped', 'The server closed the connection.'))
        self.assertTrue(self.mailbox.audit_summary.startswith('Not in sync: syncing has failed since'))
        self.assertTrue(self.mailbox.audit_stale, 'the next successful run audits again')
        self.assertTrue(self.mailbox._audit_summary([(577, 578, 1)]).startswith(
            'Out of sync: 577 of 578 messages are in the CRM'))
        self.assertIn('1 could not be stored', self.mailbox._audit_summary([(577, 578, 1)]))
        self.assertTrue(self.mailbox._audit_summary([(578, 578, 0)]).startswith('In sync: 578 of 578'))

    def test_same_message_id_with_other_content_is_a_second_email(self):
        own = raw_mail('alice@example.com', 'carla@customer.example', 'Our offer', 'offer-1@example.com',
                       body='The real offer')
        impostor = raw_mail('alice@example.com', 'carla@customer.example', 'Our offer',
                            'offer-1@example.com', body='Pay to account 666')
        self.sync(self.sent, [self.fetched(own)])
        self.sync(self.inbox, [self.fetched(impostor)])
        emails = self.env['email.sync.message'].search([('mailbox_id', '=', self.mailbox.id)],
                                                       order='id')
        self.assertEqual([b.strip() for b in emails.mapped('body_text')],
                         ['The real offer', 'Pay to account 666'])
        self.assertEqual(emails[0].message_id, 'offer-1@example.com', "the user's own keeps its id")
        self.assertTrue(emails[1].message_id.startswith('offer-1@example.com#'))
        # The same Sent copy found again (another folder, a re-import) is no third email.
        self.sync(self.inbox, [self.fetched(own)])
        self.assertEqual(self.env['email.sync.message'].search_count(
            [('mailbox_id', '=', self.mailbox.id)]), 2)
        self.assertEqual(len(emails[0].folder_link_ids), 2)

    def test_an_outsiders_message_first_never_hides_the_users_sent_copy(self):
        impostor = raw_mail('mallory@attacker.example', 'carla@customer.example', 'Our offer',
                            'offer-2@example.com', body='Pay to account 666')
        own = raw_mail('alice@example.com', 'carla@customer.example', 'Our offer', 'offer-2@example.com',
                       body='The real offer')
        self.sync(self.inbox, [self.fetched(impostor), self.fetched(own)])
        self.sync(self.sent, [self.fetched(own)])
        emails = self.env['email.sync.message'].search([('mailbox_id', '=', self.mailbox.id)])
        self.assertEqual(sorted(b.strip() for b in emails.mapped('body_text')),
                         ['Pay to account 666', 'The real offer'])
        mine = emails.filtered(lambda e: e.body_text.strip() == 'The real offer')
        self.assertEqual(mine.direction, 'out')
        self.assertEqual(sorted(mine.folder_link_ids.mapped('folder_id.name')), ['INBOX', 'Sent'])

    def test_a_display_name_that_looks_like_an_address_is_shown_as_a_name(self):
        raw = raw_mail('support@bank.example <evil@attacker.example>', 'alice@example.com',
                       'Urgent', 'spoof-1@attacker.example')
        self.sync(self.inbox, [self.fetched(raw)])
        email = self.env['email.sync.message'].search([('message_id', '=', 'spoof-1@attacker.example')])
        self.assertEqual(email.from_address, 'evil@attacker.example')
        self.assertEqual(email.email_from, '"support@bank.example" via <evil@attacker.example>')
        contact = email.thread_id.partner_ids
        self.assertEqual(contact.mapped('email'), ['evil@attacker.example'])
        self.assertNotIn('bank', contact.name)

    def test_inline_images_are_found_whatever_the_case_of_their_cid(self):
        raw = (b'From: carla@customer.example\r\nTo: alice@example.com\r\nSubject: Logo\r\n'
               b'Message-ID: <logo-1@customer.example>\r\nMIME-Version: 1.0\r\n'
               b'Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\n'
               b'Content-Type: text/html\r\n\r\n<p><img src="cid:My%20Logo@X"></p>\r\n--r\r\n'
               b'Content-Type: image/png\r\nContent-ID: <my logo@x>\r\n'
               b'Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n')
        self.sync(self.inbox, [self.fetched(raw)])
        email = self.env['email.sync.message'].search([('message_id', '=', 'logo-1@customer.example')])
        image = email.attachment_ids
        self.assertIn('/web/image/%d' % image.id, email.body_html)
        self.assertNotIn('cid:', email.body_html)

    def test_crowd_mail_creates_a_bounded_number_of_contacts(self):
        from ..sync.contact_linker import MAX_NEW_CONTACTS
        crowd = ['Person %d <p%d@crowd%d.example>' % (n, n, n) for n in range(MAX_NEW_CONTACTS + 30)]
        raw = raw_mail('Carla <carla@customer.example>', ['alice@example.com'] + crowd, 'Hello all',
                       'crowd-1@customer.example')
        self.sync(self.inbox, [self.fetched(raw)])
        email = self.env['email.sync.message'].search([('message_id', '=', 'crowd-1@customer.example')])
        self.assertEqual(len(email.thread_id.partner_ids), MAX_NEW_CONTACTS)
        self.assertIn('carla@customer.example', email.thread_id.partner_ids.mapped('email'))
