"""Conversations as the sync builds them: threading, the mail rules,
contacts and deals, on the real database and the sync's own storing path."""
from odoo.exceptions import AccessError

from ..lib.imap_session import FolderInfo
from .common import EmailSyncCase
from .mail_factory import deliver, raw_mail

ALICE = 'Alice <alice@example.com>'
CARL = 'Carl Customer <carl@customer.example>'
DORA = 'Dora Buyer <dora@customer.example>'


class ConversationCase(EmailSyncCase):

    def setUp(self):
        super(ConversationCase, self).setUp()
        self.company = self.alice.company_id
        self.alice.groups_id |= self.env.ref('sales_team.group_sale_salesman_all_leads')
        self.company.write({'email_sync_internal_domains': 'example.com',
                            'email_sync_create_contacts': True, 'email_sync_never_log': False})
        self.mailbox = self.mailbox_of(self.alice)
        self.env['email.sync.folder']._merge_listing(self.mailbox, [
            FolderInfo('INBOX', '/', (), 'inbox', True), FolderInfo('Sent', '/', ('\\Sent',), 'sent', True)])
        self.inbox = self.mailbox.folder_ids.filtered(lambda f: f.name == 'INBOX')
        self.sent = self.mailbox.folder_ids.filtered(lambda f: f.name == 'Sent')
        self.Partner = self.env['res.partner'].with_context(active_test=False)
        self.Thread = self.env['email.sync.thread'].sudo().with_context(active_test=False)

    def deliver(self, *raws, folder=None):
        return deliver(self.mailbox, folder or self.inbox, *raws)

    def partner(self, address):
        return self.Partner.search([('email_sync_normalized', '=', address)])

    def threads(self):
        return self.Thread.search([('mailbox_id', '=', self.mailbox.id)])


class TestThreading(ConversationCase):

    def test_a_reply_joins_the_thread_it_answers(self):
        first, = self.deliver(raw_mail(CARL, ALICE, 'Quote', 'q1@c'))
        reply, = self.deliver(raw_mail(ALICE, CARL, 'Re: Quote', 'q2@a', in_reply_to='q1@c',
                                       date='Wed, 25 Nov 2026 10:00:00 +0000'), folder=self.sent)
        self.assertEqual(reply.thread_id, first.thread_id)
        thread = first.thread_id
        self.assertEqual((thread.name, thread.message_count), ('Quote', 2))
        self.assertTrue(thread.has_incoming and thread.has_outgoing)
        self.assertEqual(thread.last_date, '2026-11-25 10:00:00')

    def test_a_late_parent_joins_its_childrens_thread_and_names_it(self):
        child, = self.deliver(raw_mail(ALICE, CARL, 'Re: Price list', 'p2@a', in_reply_to='p1@c',
                                       references=['p1@c'], date='Wed, 25 Nov 2026 10:00:00 +0000'))
        parent, = self.deliver(raw_mail(CARL, ALICE, 'Price list', 'p1@c'))
        self.assertEqual(parent.thread_id, child.thread_id)
        self.assertEqual(child.thread_id.name, 'Price list')
        self.assertEqual(child.thread_id.first_date, '2026-11-24 09:30:00')

    def test_same_subject_and_two_common_people_with_the_sender_thread_together(self):
        one, = self.deliver(raw_mail(CARL, ALICE, 'Proposal 2027', 's1@c'))
        two, = self.deliver(raw_mail(ALICE, [CARL], 'AW: Re: Proposal 2027', 's2@a'))
        self.assertEqual(one.thread_id, two.thread_id)

    def test_same_subject_between_other_people_is_another_thread(self):
        one, = self.deliver(raw_mail(CARL, ALICE, 'Proposal 2027', 's1@c'))
        two, = self.deliver(raw_mail(DORA, ALICE, 'Re: Proposal 2027', 's2@d'))
        self.assertNotEqual(one.thread_id, two.thread_id)

    def test_generic_subjects_never_thread_by_subject(self):
        one, = self.deliver(raw_mail(CARL, ALICE, 'Hello', 'h1@c'))
        two, = self.deliver(raw_mail(ALICE, CARL, 'Re: hello', 'h2@a'))
        self.assertNotEqual(one.thread_id, two.thread_id)

    def test_a_message_touching_two_threads_joins_the_oldest_and_nothing_moves(self):
        a, = self.deliver(raw_mail(CARL, ALICE, 'Topic A', 'a1@c'))
        b, = self.deliver(raw_mail(DORA, ALICE, 'Topic B', 'b1@d'))
        both, = self.deliver(raw_mail(ALICE, [CARL, DORA], 'Re: Topic A and B', 'ab@a',
                                      references=['b1@d', 'a1@c']))
        self.assertEqual(both.thread_id, a.thread_id)
        self.assertEqual(b.thread_id.message_count, 1)
        self.assertNotEqual(a.thread_id, b.thread_id)

    def test_the_same_email_in_two_folders_is_one_email_in_one_thread(self):
        raw = raw_mail(ALICE, CARL, 'Offer', 'o1@a')
        one, = self.deliver(raw)
        two, = self.deliver(raw, folder=self.sent)
        self.assertEqual(one, two)
        self.assertEqual(len(self.threads()), 1)
        self.assertEqual(self.threads().message_count, 1)

    def test_a_batch_threads_replies_to_messages_of_the_same_batch(self):
        stored = self.deliver(
            raw_mail(ALICE, CARL, 'Re: Re: Demo', 'd3@a', in_reply_to='d2@c', references=['d1@a', 'd2@c'],
                     date='Thu, 26 Nov 2026 09:00:00 +0000'),
            raw_mail(ALICE, CARL, 'Demo', 'd1@a'),
            raw_mail(CARL, ALICE, 'Re: Demo', 'd2@c', in_reply_to='d1@a',
                     date='Wed, 25 Nov 2026 09:00:00 +0000'))
        self.assertEqual(len(stored.mapped('thread_id')), 1)
        self.assertEqual(stored.mapped('thread_id').message_count, 3)
        self.assertEqual(stored.mapped('thread_id').name, 'Demo')


class TestMailRules(ConversationCase):

    def test_internal_mail_is_not_synced(self):
        email, = self.deliver(raw_mail(ALICE, 'Bob <bob@example.com>', 'Lunch?', 'i1@a'))
        self.assertEqual(email.filtered_reason, 'internal')
        self.assertFalse(email.active or email.subject or email.participants or email.thread_id)
        self.assertFalse(self.threads())

    def test_a_customer_in_cc_makes_internal_mail_external(self):
        email, = self.deliver(raw_mail(ALICE, 'bob@example.com', 'Deal review', 'i2@a', cc=[CARL]))
        self.assertFalse(email.filtered_reason)
        self.assertTrue(email.thread_id)

    def test_free_mail_domains_never_count_as_the_company_domain(self):
        self.company.email_sync_internal_domains = 'gmail.com'
        email, = self.deliver(raw_mail('Friend <friend@gmail.com>', 'alice@gmail.com', 'Hi there', 'g1@g'))
        self.assertFalse(email.filtered_reason)

    def test_a_blocked_sole_sender_is_not_synced(self):
        self.alice.email_sync_blocked = 'news@shop.example\nspam.example'
        news, = self.deliver(raw_mail('news@shop.example', ALICE, 'Sale', 'n1@s'))
        spam, = self.deliver(raw_mail('x@spam.example', ALICE, 'Win', 'n2@s'))
        self.assertEqual((news.filtered_reason, spam.filtered_reason), ('blocked', 'blocked'))

    def test_blocked_sender_writing_to_someone_else_too_is_kept(self):
        self.alice.email_sync_blocked = 'news@shop.example'
        email, = self.deliver(raw_mail('news@shop.example', [ALICE, CARL], 'Sale', 'n3@s'))
        self.assertFalse(email.filtered_reason)

    def test_never_log_addresses_are_not_synced_whoever_writes(self):
        self.company.email_sync_never_log = 'lawyer@law.example'
        email, = self.deliver(raw_mail(ALICE, ['lawyer@law.example', CARL], 'Contract', 'l1@a'))
        self.assertEqual(email.filtered_reason, 'never_log')

    def test_a_filtered_email_seen_again_in_another_folder_stays_filtered(self):
        raw = raw_mail(ALICE, 'bob@example.com', 'Lunch?', 'i3@a')
        self.deliver(raw)
        email, = self.deliver(raw, folder=self.sent)
        self.assertFalse(email.active)
        self.assertEqual(email.filtered_reason, 'internal')

    def test_reapplying_the_rules_hides_and_restores_stored_conversations(self):
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'r1@c'))
        self.deliver(raw_mail(DORA, ALICE, 'Other', 'r2@d'))
        self.company.email_sync_never_log = 'customer.example'
        self.assertEqual(self.Thread._reapply_rules(), (2, 0))
        self.assertEqual(set(self.threads().mapped('hidden_reason')), {'never_log'})
        self.assertFalse(self.env['email.sync.thread'].sudo().search([('mailbox_id', '=', self.mailbox.id)]))
        self.company.email_sync_never_log = 'dora@customer.example'
        self.assertEqual(self.Thread._reapply_rules(), (0, 1))
        self.assertEqual(self.threads().filtered('active').name, 'Quote')

    def test_settings_reapply_reports_what_it_did(self):
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'r3@c'))
        settings = self.env['res.config.settings'].create({'email_sync_never_log': 'carl@customer.example'})
        settings.action_email_sync_reapply_rules()
        self.assertIn('1 conversation(s) hidden, 0 restored',
                      self.env['ir.config_parameter'].get_param('email_crm_sync.last_reapply'))


class TestContacts(ConversationCase):

    def test_unknown_outside_people_become_contacts_named_after_their_display_name(self):
        self.deliver(raw_mail(CARL, [ALICE, 'bob@example.com'], 'Quote', 'c1@c',
                              cc=['mary.o-neil@customer.example']))
        self.assertEqual(self.partner('carl@customer.example').name, 'Carl Customer')
        self.assertEqual(self.partner('mary.o-neil@customer.example').name, 'Mary O-Neil')
        # Neither the user nor a colleague becomes a contact of the thread.
        thread = self.threads()
        self.assertEqual(sorted(thread.partner_ids.mapped('email')),
                         ['carl@customer.example', 'mary.o-neil@customer.example'])

    def test_impersonal_addresses_never_become_contacts_but_the_mail_is_kept(self):
        email, = self.deliver(raw_mail('Shop <no-reply@shop.example>', ALICE, 'Your order', 'c2@s',
                                       cc=['info@shop.example', 'support+eu@shop.example']))
        self.assertTrue(email.thread_id)
        for address in ('no-reply@shop.example', 'info@shop.example', 'support+eu@shop.example'):
            self.assertFalse(self.partner(address), address)

    def test_the_admin_can_extend_the_impersonal_list(self):
        self.company.email_sync_impersonal = '*noreply*\nsales'
        self.deliver(raw_mail('sales@vendor.example', ALICE, 'Offer', 'c3@v', cc=['info@vendor.example']))
        self.assertFalse(self.partner('sales@vendor.example'))
        self.assertTrue(self.partner('info@vendor.example'))  # no longer on the list

    def test_no_contacts_are_created_when_the_company_says_so(self):
        self.company.email_sync_create_contacts = False
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c4@c'))
        self.assertFalse(self.partner('carl@customer.example'))
        self.assertFalse(self.threads().partner_ids)

    def test_an_additional_address_links_to_its_contact(self):
        carl = self.Partner.create({'name': 'Carl', 'email': 'carl@old-job.example',
                                    'email_sync_address_ids': [(0, 0, {'email': 'Carl@Customer.example'})]})
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c5@c'))
        self.assertEqual(self.threads().partner_ids, carl)
        self.assertFalse(self.partner('carl@customer.example'))

    def test_primary_beats_additional(self):
        additional = self.Partner.create({'name': 'Old', 'email_sync_address_ids': [(0, 0, {'email': 'carl@customer.example'})]})
        primary = self.Partner.create({'name': 'Carl', 'email': 'carl@customer.example'})
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c6@c'))
        self.assertEqual(self.threads().partner_ids, primary)
        self.assertNotEqual(primary, additional)

    def test_additional_on_two_contacts_goes_to_the_oldest(self):
        older = self.Partner.create({'name': 'Older', 'email_sync_address_ids': [(0, 0, {'email': 'carl@customer.example'})]})
        self.env.cr.execute("UPDATE res_partner SET create_date = '2020-01-01' WHERE id = %s", (older.id,))
        self.Partner.create({'name': 'Newer', 'email_sync_address_ids': [(0, 0, {'email': 'carl@customer.example'})]})
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c7@c'))
        self.assertEqual(self.threads().partner_ids, older)

    def test_archived_contacts_stay_linked(self):
        carl = self.Partner.create({'name': 'Carl', 'email': 'carl@customer.example', 'active': False})
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c8@c'))
        self.assertEqual(self.threads().partner_ids, carl)
        self.assertEqual(len(self.partner('carl@customer.example')), 1)

    def test_a_deleted_contact_is_not_recreated_and_its_mail_is_rematched(self):
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c9@c'))
        carl = self.partner('carl@customer.example')
        other = self.Partner.create({'name': 'Carl at home', 'email': 'carl@home.example',
                                     'email_sync_address_ids': [(0, 0, {'email': 'carl@customer.example'})]})
        carl.unlink()
        self.assertEqual(self.threads().partner_ids, other)
        other.unlink()
        self.assertFalse(self.threads().partner_ids)
        self.deliver(raw_mail(CARL, ALICE, 'Next quote', 'c10@c'))
        self.assertFalse(self.partner('carl@customer.example'))
        forgotten = self.env['email.sync.forgotten.address'].search([]).mapped('email')
        self.assertIn('carl@customer.example', forgotten)

    def test_a_company_shows_the_conversations_of_its_people(self):
        company = self.Partner.create({'name': 'Customer Inc', 'is_company': True})
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'c11@c'))
        self.partner('carl@customer.example').parent_id = company
        action = company.action_view_email_sync_threads()
        self.assertEqual(self.env['email.sync.thread'].sudo(self.alice).search(action['domain']).name, 'Quote')
        self.assertEqual(company.sudo(self.alice).email_sync_thread_count, 1)


class TestDeals(ConversationCase):

    def deal(self, partner, name='Deal', **values):
        return self.env['crm.lead'].create(dict(
            {'name': name, 'type': 'opportunity', 'partner_id': partner.id, 'user_id': self.alice.id},
            **values))

    def setUp(self):
        super(TestDeals, self).setUp()
        self.carl = self.Partner.create({'name': 'Carl', 'email': 'carl@customer.example'})

    def test_the_only_open_deal_is_linked_automatically_and_logged(self):
        deal = self.deal(self.carl)
        self.deal(self.carl, name='Won deal', probability=100)
        self.deal(self.carl, name='Lost deal', active=False)
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'l1@c'))
        thread = self.threads()
        self.assertEqual((thread.lead_id, thread.lead_link_mode), (deal, 'auto'))
        self.assertIn('Linked to Deal', thread.message_ids[0].body)
        self.assertEqual(deal.email_sync_thread_count, 1)

    def test_several_open_deals_are_suggested_not_linked(self):
        deals = self.deal(self.carl, name='A') | self.deal(self.carl, name='B')
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'l2@c'))
        thread = self.threads()
        self.assertFalse(thread.lead_id)
        self.assertEqual(thread.suggested_lead_ids, deals)

    def test_manual_mode_never_links_by_itself(self):
        self.alice.email_sync_deal_link_mode = 'manual'
        deal = self.deal(self.carl)
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'l3@c'))
        thread = self.threads()
        self.assertFalse(thread.lead_id)
        self.assertEqual(thread.suggested_lead_ids, deal)
        thread.sudo(self.alice).action_link_suggested()
        self.assertEqual((thread.lead_id, thread.lead_link_mode), (deal, 'manual'))

    def test_replies_stay_linked_and_an_unlinked_thread_is_not_relinked(self):
        deal = self.deal(self.carl)
        first, = self.deliver(raw_mail(CARL, ALICE, 'Quote', 'l4@c'))
        reply, = self.deliver(raw_mail(ALICE, CARL, 'Re: Quote', 'l5@a', in_reply_to='l4@c'))
        self.assertEqual(reply.thread_id.lead_id, deal)
        reply.thread_id.sudo(self.alice).action_unlink_deal()
        self.deliver(raw_mail(CARL, ALICE, 'Re: Quote', 'l6@c', in_reply_to='l5@a'))
        self.assertFalse(first.thread_id.lead_id)
        self.assertIn('Unlinked from Deal by Alice', first.thread_id.message_ids[0].body)

    def test_the_owner_links_a_thread_to_any_lead_by_hand(self):
        lead = self.env['crm.lead'].create({'name': 'Fresh lead', 'type': 'lead'})
        self.deliver(raw_mail(DORA, ALICE, 'Question', 'l7@d'))
        thread = self.threads().sudo(self.alice)
        thread.write({'lead_id': lead.id})
        self.assertEqual((thread.lead_id, thread.lead_link_mode), (lead, 'manual'))
        self.assertIn('Linked to Fresh lead by Alice', thread.message_ids[0].body)


class TestUnplacedMail(ConversationCase):

    def test_mail_stored_without_a_thread_is_threaded_by_the_next_sync(self):
        from ..sync.conversation_builder import ConversationBuilder
        first, = self.deliver(raw_mail(CARL, ALICE, 'Quote', 'u1@c'))
        reply, = self.deliver(raw_mail(ALICE, CARL, 'Re: Quote', 'u2@a', in_reply_to='u1@c'))
        # As left by a version without conversations:
        self.env.cr.execute('UPDATE email_sync_message SET thread_id = NULL WHERE id IN %s',
                            ((first.id, reply.id),))
        self.env.cr.execute('DELETE FROM email_sync_thread WHERE mailbox_id = %s', (self.mailbox.id,))
        self.env.cr.execute("DELETE FROM res_partner WHERE email_sync_normalized = 'carl@customer.example'")
        self.env.cache.invalidate()
        self.assertEqual(ConversationBuilder(self.mailbox.sudo()).add_unplaced(), 2)
        self.assertEqual(first.thread_id, reply.thread_id)
        self.assertEqual(first.thread_id.message_count, 2)
        self.assertEqual(self.partner('carl@customer.example').name, 'Carl Customer')
        self.assertEqual(ConversationBuilder(self.mailbox.sudo()).add_unplaced(), 0)


class TestReapplyingMyBlockList(ConversationCase):

    def test_a_user_reapplies_their_own_block_list_to_their_stored_mail(self):
        self.deliver(raw_mail('news@shop.example', ALICE, 'Sale', 'b1@s'))
        self.deliver(raw_mail(CARL, ALICE, 'Quote', 'b2@c'))
        alice = self.alice.sudo(self.alice)
        alice.write({'email_sync_blocked': 'shop.example'})
        alice.action_email_sync_reapply_rules()
        self.assertIn('1 conversation(s) hidden, 0 restored', self.alice.email_sync_last_reapply)
        self.assertEqual(self.threads().filtered('active').mapped('name'), ['Quote'])
        with self.assertRaises(AccessError):
            self.bob.sudo(self.alice).action_email_sync_reapply_rules()
