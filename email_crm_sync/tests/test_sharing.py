"""Private and shared mail, enforced by the server: who reaches a
conversation, and which of its fields they see, for every way of reading."""
from odoo.exceptions import AccessError

from .mail_factory import deliver, raw_mail
from .test_email_sync_thread import ALICE, ConversationCase

CARL = 'Carl Customer <carl@customer.example>'
PLACEHOLDER = '(Private content)'


class SharingCase(ConversationCase):

    def setUp(self):
        super(SharingCase, self).setUp()
        salesman = self.env.ref('sales_team.group_sale_salesman')
        self.bob.groups_id |= salesman
        Users = self.env['res.users'].with_context(no_reset_password=True)
        self.carol = Users.create({'name': 'Carol', 'login': 'carol@test', 'email': 'carol@example.com',
                                   'groups_id': [(6, 0, [self.env.ref('base.group_user').id, salesman.id])]})
        self.company.email_sync_create_contacts = False
        # A deal of Bob's (Carol, a salesperson on her own deals, cannot read it).
        self.deal = self.env['crm.lead'].create({'name': 'Big deal', 'type': 'opportunity',
                                                 'user_id': self.bob.id})

    def share(self, visibility='shared', level='metadata'):
        self.mailbox.write({'sharing': visibility, 'share_level': level})

    def conversation(self, message_id='s1@c', link_deal=True, subject='Secret pricing'):
        email, = deliver(self.mailbox, self.inbox, raw_mail(
            CARL, ALICE, subject, message_id, body='The discount is 40 percent',
            attachment=True))
        thread = email.thread_id
        if link_deal:
            thread.sudo(self.alice).write({'lead_id': self.deal.id})
        return email, thread

    def as_(self, user, model='email.sync.message'):
        return self.env[model].sudo(user)


class TestWhoReachesWhat(SharingCase):

    def test_private_mail_is_seen_by_its_owner_only(self):
        email, thread = self.conversation()
        for user in (self.bob, self.carol, self.manager, self.admin):
            self.assertFalse(self.as_(user).search([]), user.name)
            self.assertFalse(self.as_(user, 'email.sync.thread').search([]), user.name)
            with self.assertRaises(AccessError):
                email.sudo(user).read(['date'])
            with self.assertRaises(AccessError):
                email.attachment_ids.sudo(user).read(['datas'])
        self.assertEqual(email.sudo(self.alice).read(['subject'])[0]['subject'], 'Secret pricing')

    def test_shared_mail_reaches_those_who_can_read_the_linked_deal(self):
        self.share(level='full')
        email, thread = self.conversation()
        self.assertEqual(self.as_(self.bob).search([]), email)
        for user in (self.carol, self.manager, self.admin):
            self.assertFalse(self.as_(user).search([]), user.name)
            self.assertFalse(self.as_(user, 'email.sync.thread').search([]), user.name)

    def test_shared_mail_linked_to_a_contact_reaches_everyone_who_can_read_contacts(self):
        self.share(level='full')
        self.env['res.partner'].create({'name': 'Carl', 'email': 'carl@customer.example'})
        email, thread = self.conversation(link_deal=False)
        for user in (self.bob, self.carol, self.manager, self.admin):
            self.assertEqual(self.as_(user).search([]), email, user.name)

    def test_unlinking_the_deal_takes_the_conversation_away_from_colleagues(self):
        self.share(level='full')
        email, thread = self.conversation()
        thread.sudo(self.alice).write({'lead_id': False})
        self.assertFalse(self.as_(self.bob).search([]))

    def test_colleagues_neither_link_nor_unlink_a_conversation(self):
        self.share(level='full')
        email, thread = self.conversation()
        other = self.env['crm.lead'].create({'name': 'Everyone sees this', 'type': 'opportunity'})
        for lead in (other, self.env['crm.lead']):
            with self.assertRaises(AccessError):
                thread.sudo(self.bob).write({'lead_id': lead.id})
        with self.assertRaises(AccessError):
            thread.sudo(self.bob).action_unlink_deal()
        self.assertEqual(thread.lead_id, self.deal)


class TestWhatShowsAtEachLevel(SharingCase):

    def read_as_bob(self, level):
        self.share(level=level)
        email, thread = self.conversation(message_id='%s@c' % level)
        return email.sudo(self.bob), thread.sudo(self.bob)

    def test_metadata_only(self):
        email, thread = self.read_as_bob('metadata')
        values = email.read(['subject', 'email_from', 'date', 'direction', 'body_html', 'body_text',
                             'attachment_ids', 'email_bcc', 'folder_id', 'message_id', 'thread_id',
                             'content_hidden'])[0]
        self.assertEqual(values['email_from'], 'Carl Customer <carl@customer.example>')
        self.assertEqual(values['direction'], 'in')
        self.assertTrue(values['date'])
        self.assertEqual(values['subject'], PLACEHOLDER)
        self.assertNotIn('discount', values['body_html'] or '')
        self.assertFalse(values['body_text'] or values['attachment_ids'] or values['folder_id']
                         or values['message_id'])
        self.assertEqual(values['thread_id'][1], PLACEHOLDER)
        self.assertTrue(values['content_hidden'])
        self.assertEqual(thread.read(['name'])[0]['name'], PLACEHOLDER)
        self.assertNotIn('discount', thread.conversation_html)
        self.assertEqual(email.name_get()[0][1], PLACEHOLDER)
        self.assertEqual(thread.name_get()[0][1], PLACEHOLDER)
        exported = email.export_data(['subject', 'body_text', 'email_from'])['datas'][0]
        self.assertEqual(exported[:2], [PLACEHOLDER, ''])

    def test_metadata_only_hides_attachments_from_every_path(self):
        email, thread = self.read_as_bob('metadata')
        attachments = email.sudo().attachment_ids
        self.assertTrue(attachments)
        with self.assertRaises(AccessError):
            attachments.sudo(self.bob).read(['datas'])
        self.assertFalse(self.env['ir.attachment'].sudo(self.bob).search(
            [('res_model', '=', 'email.sync.message')]))

    def test_searching_hidden_fields_matches_nothing(self):
        email, thread = self.read_as_bob('metadata')
        Email, Thread = self.as_(self.bob), self.as_(self.bob, 'email.sync.thread')
        self.assertFalse(Email.search([('subject', 'ilike', 'pricing')]))
        self.assertFalse(Email.search([('body_text', 'ilike', 'discount')]))
        self.assertFalse(Email.search(['!', ('subject', 'ilike', 'nothing like this')]))
        self.assertFalse(Email.search([('subject', 'not ilike', 'nothing like this')]))
        self.assertFalse(Email.search([('subject', '!=', False)]))
        self.assertFalse(Email.name_search('pricing'))
        self.assertFalse(Thread.search([('name', 'ilike', 'pricing')]))
        self.assertFalse(Thread.search([('email_ids.body_text', 'ilike', 'discount')]))
        self.assertFalse(Email.search([('thread_id.name', 'ilike', 'pricing')]))
        self.assertFalse(Email.search_count([('subject', '=', 'Secret pricing')]))
        # What is shared can be searched.
        self.assertEqual(Email.search([('email_from', 'ilike', 'carl')]), email)
        # The owner searches everything.
        self.assertEqual(self.as_(self.alice).search([('body_text', 'ilike', 'discount')]), email)

    def test_grouping_by_a_hidden_field_shows_one_private_group(self):
        self.read_as_bob('metadata')
        groups = self.as_(self.bob).read_group([], ['subject'], ['subject'])
        self.assertEqual([(g['subject'], g['subject_count']) for g in groups], [(PLACEHOLDER, 1)])
        groups = self.as_(self.bob, 'email.sync.thread').read_group([], ['name'], ['name'])
        self.assertEqual([g['name'] for g in groups], [PLACEHOLDER])

    def test_sorting_by_a_hidden_field_is_ignored(self):
        self.read_as_bob('metadata')
        self.assertTrue(self.as_(self.bob).search([], order='subject desc'))

    def test_subject_level_shows_the_subject_not_the_body(self):
        email, thread = self.read_as_bob('subject')
        values = email.read(['subject', 'body_text', 'attachment_ids'])[0]
        self.assertEqual(values['subject'], 'Secret pricing')
        self.assertFalse(values['body_text'] or values['attachment_ids'])
        self.assertEqual(self.as_(self.bob).search([('subject', 'ilike', 'pricing')]), email)
        self.assertFalse(self.as_(self.bob).search([('body_text', 'ilike', 'discount')]))
        self.assertEqual(thread.name, 'Secret pricing')

    def test_full_content_shows_bodies_and_attachments_but_not_the_owners_own_fields(self):
        email, thread = self.read_as_bob('full')
        values = email.read(['subject', 'body_text', 'attachment_ids', 'email_bcc', 'folder_id',
                             'headers'])[0]
        self.assertIn('discount', values['body_text'])
        self.assertEqual(len(values['attachment_ids']), 1)
        self.assertTrue(email.sudo(self.bob).attachment_ids.read(['datas'])[0]['datas'])
        self.assertFalse(values['folder_id'] or values['headers'])
        self.assertIn('discount', thread.conversation_html)


class TestOverridesAndDefaults(SharingCase):

    def test_the_owner_overrides_one_conversation(self):
        self.share(level='full')
        email, thread = self.conversation()
        thread.sudo(self.alice).write({'visibility': 'private'})
        self.assertFalse(self.as_(self.bob).search([]))
        thread.sudo(self.alice).write({'visibility': 'shared', 'share_level': 'subject'})
        self.assertEqual(email.sudo(self.bob).subject, 'Secret pricing')
        self.assertFalse(email.sudo(self.bob).body_text)

    def test_colleagues_cannot_change_the_sharing(self):
        self.share(level='metadata')
        email, thread = self.conversation()
        with self.assertRaises(AccessError):
            thread.sudo(self.bob).write({'share_level': 'full'})
        with self.assertRaises(AccessError):
            email.sudo(self.bob).action_archive_email()

    def test_a_new_default_applies_to_new_mail_only(self):
        email, thread = self.conversation('d1@c')
        self.share(level='full')
        later, later_thread = self.conversation('d2@c', subject='Next quarter')
        self.assertEqual((thread.visibility, later_thread.visibility), ('private', 'shared'))
        self.assertEqual(self.as_(self.bob).search([]), later)
        # A reply to the private conversation stays private with it.
        reply, = deliver(self.mailbox, self.inbox, raw_mail(
            CARL, ALICE, 'Re: Secret pricing', 'd3@c', in_reply_to='d1@c'))
        self.assertEqual(reply.thread_id, thread)
        self.assertEqual(self.as_(self.bob).search([]), later)

    def test_new_mailboxes_take_the_company_default(self):
        self.company.write({'email_sync_default_sharing': 'shared',
                            'email_sync_default_share_level': 'subject'})
        mailbox = self.mailbox_of(self.bob, email='bob2@example.com')
        self.assertEqual((mailbox.sharing, mailbox.share_level), ('shared', 'subject'))

    def test_the_deal_link_note_names_no_subject(self):
        self.share(level='metadata')
        email, thread = self.conversation()
        note = thread.message_ids[0]
        self.assertNotIn('Secret', note.record_name or '')
        self.assertNotIn('Secret', note.body)
