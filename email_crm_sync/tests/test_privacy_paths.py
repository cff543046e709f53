"""The side paths of Odoo 11 that used to show or change private mail: each
test asks the way an attacker would, as a real user (never uid 1), and
expects a refusal or nothing hidden in the answer."""
import base64
import json

from odoo.exceptions import AccessError

from .mail_factory import deliver, raw_mail
from .test_sharing import CARL, SharingCase

ALICE = 'Alice <alice@example.com>'
SUBJECT = 'Secret pricing'


def dump(value):
    return json.dumps(value, default=str)


class PrivacyCase(SharingCase):

    def setUp(self):
        super(PrivacyCase, self).setUp()
        Users = self.env['res.users'].with_context(no_reset_password=True)
        self.portal = Users.create({'name': 'Pat Portal', 'login': 'pat@test',
                                    'groups_id': [(6, 0, [self.env.ref('base.group_portal').id])]})

    def text_attachment(self, email, text='internal price list 40 percent'):
        return self.env['ir.attachment'].create({
            'name': 'prices.txt', 'datas_fname': 'prices.txt', 'mimetype': 'text/plain',
            'datas': base64.b64encode(text.encode()), 'res_model': 'email.sync.message',
            'res_id': email.id})


class TestCountsAndGroups(PrivacyCase):

    def test_read_group_counts_tell_no_true_guess_from_a_false_one(self):
        self.share(level='metadata')
        self.conversation()
        Email, Thread = self.as_(self.bob), self.as_(self.bob, 'email.sync.thread')
        for Model, field, truth in ((Email, 'subject', 'Secret'), (Email, 'body_text', 'discount'),
                                    (Email, 'message_id', 's1@c'), (Email, 'headers', 'Subject'),
                                    (Thread, 'name', 'Secret'), (Thread, 'subject_key', 'secret')):
            counts = [sum(g['__count'] for g in Model.read_group(
                [(field, 'ilike', guess)], ['direction' if Model is Email else 'has_incoming'],
                ['direction' if Model is Email else 'has_incoming'], lazy=False))
                for guess in (truth, 'no such text at all')]
            self.assertEqual(counts[0], counts[1], field)

    def test_groups_by_conversation_are_named_as_the_reader_sees_them(self):
        self.share(level='metadata')
        self.conversation()
        groups = self.as_(self.bob).read_group([], ['thread_id'], ['thread_id'])
        self.assertNotIn(SUBJECT, dump(groups))
        own = self.as_(self.alice).read_group([], ['thread_id'], ['thread_id'])
        self.assertIn(SUBJECT, dump(own))

    def test_sums_of_the_senders_figures_are_not_shown(self):
        self.share(level='full')
        email, thread = self.conversation()
        email.sudo().write({'open_count': 7, 'click_count': 3})
        groups = self.as_(self.bob).read_group([], ['direction', 'open_count', 'click_count'],
                                               ['direction'])
        self.assertNotIn(7, [g.get('open_count') for g in groups])
        values = email.sudo(self.bob).read(['open_count', 'click_count', 'first_open_date'])[0]
        self.assertEqual((values['open_count'], values['click_count']), (0, 0))


class TestBcc(PrivacyCase):

    def test_bcc_recipients_are_no_participants_and_become_no_contacts(self):
        self.share(level='full')
        self.env['res.partner'].create({'name': 'Carl', 'email': 'carl@customer.example'})
        raw = raw_mail(ALICE, CARL, 'Offer', 'bcc1@a').replace(
            b'Subject:', b'Bcc: Hidden Boss <boss@rival.example>\r\nSubject:')
        email, = deliver(self.mailbox, self.sent, raw)
        self.assertIn('boss@rival.example', email.email_bcc)   # the owner keeps it
        thread = email.thread_id
        for text in (email.participants, thread.participants, thread.correspondents):
            self.assertNotIn('boss@rival.example', text or '')
        self.assertFalse(self.partner('boss@rival.example'))
        seen = email.sudo(self.bob).read()[0]
        seen.update(thread.sudo(self.bob).read()[0])
        self.assertNotIn('boss@rival', dump(seen))
        self.assertNotIn('Hidden Boss', dump(seen))


class TestAttachments(PrivacyCase):

    def test_grouping_attachments_shows_nothing_of_private_mail(self):
        email, thread = self.conversation()
        self.text_attachment(email)
        for user in (self.bob, self.admin, self.portal):
            Attachment = self.env['ir.attachment'].sudo(user)
            for groupby in ('res_name', 'name', 'datas_fname', 'mimetype', 'res_model'):
                groups = Attachment.read_group([('res_model', '=', 'email.sync.message')],
                                               [groupby], [groupby])
                self.assertFalse(groups, (user.name, groupby))
            self.assertFalse(Attachment.read_group([('index_content', 'ilike', '40 percent')],
                                                   ['name'], ['name']))

    def test_attachments_of_mail_carry_a_neutral_name_and_no_indexed_text(self):
        email, thread = self.conversation()
        attachment = self.text_attachment(email)
        self.assertNotIn(SUBJECT, attachment.res_name or '')
        for record in email.attachment_ids | attachment:
            self.env.cr.execute('SELECT index_content, res_name FROM ir_attachment WHERE id = %s',
                                (record.id,))
            index_content, res_name = self.env.cr.fetchone()
            self.assertFalse(index_content)
            self.assertNotIn(SUBJECT, res_name or '')

    def test_uploads_for_a_composer_are_their_uploaders_alone(self):
        upload = self.env['ir.attachment'].sudo(self.alice).create({
            'name': 'draft.pdf', 'datas_fname': 'draft.pdf', 'datas': base64.b64encode(b'%PDF-1.4 x'),
            'res_model': 'email.sync.composer', 'res_id': 0})
        with self.assertRaises(AccessError):
            upload.sudo(self.bob).read(['datas'])
        self.assertFalse(self.env['ir.attachment'].sudo(self.bob).search([('id', '=', upload.id)]))
        self.assertTrue(upload.sudo(self.alice).read(['datas'])[0]['datas'])

    def test_posting_someone_elses_attachment_on_a_note_is_refused(self):
        self.share(level='metadata')
        email, thread = self.conversation()
        with self.assertRaises(AccessError):
            thread.sudo(self.bob).message_post(body='look', attachment_ids=email.attachment_ids.ids)


class TestChatterNames(PrivacyCase):

    def test_notes_and_activities_on_a_conversation_carry_no_subject(self):
        self.share(level='metadata')
        email, thread = self.conversation()
        note = thread.sudo(self.alice).message_post(body='my own note', subtype='mail.mt_note')
        activity = self.env['mail.activity'].sudo(self.alice).create({
            'res_model_id': self.env.ref('email_crm_sync.model_email_sync_thread').id,
            'res_id': thread.id, 'user_id': self.alice.id, 'summary': 'call back'})
        self.assertNotIn(SUBJECT, note.sudo().record_name or '')
        self.assertNotIn(SUBJECT, activity.sudo().res_name or '')

    def test_notes_are_for_full_content_readers_and_activities_for_their_people(self):
        self.share(level='metadata')
        email, thread = self.conversation()
        note = thread.sudo(self.alice).message_post(body='Carl wants 45 percent', subtype='mail.mt_note')
        activity = self.env['mail.activity'].sudo(self.alice).create({
            'res_model_id': self.env.ref('email_crm_sync.model_email_sync_thread').id,
            'res_id': thread.id, 'user_id': self.alice.id, 'summary': 'counter 45 percent'})
        Message = self.env['mail.message'].sudo(self.bob)
        self.assertFalse(Message.search([('body', 'ilike', '45 percent')]))
        with self.assertRaises(AccessError):
            note.sudo(self.bob).read(['body'])
        self.assertFalse(self.env['mail.activity'].sudo(self.bob).search([('id', '=', activity.id)]))
        with self.assertRaises(AccessError):
            thread.sudo(self.bob).message_post(body='mine too', subtype='mail.mt_note')
        thread.sudo(self.alice).write({'share_level': 'full'})
        self.assertEqual(Message.search([('body', 'ilike', '45 percent')]), note)

    def test_conversations_have_no_followers_to_list(self):
        email, thread = self.conversation()
        thread.sudo(self.alice).message_post(body='note', subtype='mail.mt_note')
        self.assertFalse(self.env['mail.followers'].sudo().search(
            [('res_model', '=', 'email.sync.thread'), ('res_id', '=', thread.id)]))
        for user in (self.portal, self.admin, self.bob):
            self.assertFalse(self.env['mail.followers'].sudo(user).search(
                [('res_model', '=', 'email.sync.thread')]))


class TestComposer(PrivacyCase):

    def compose_as_bob(self, **values):
        if not getattr(self, 'bob_box', None):
            self.bob_box = self.mailbox_of(self.bob)
            self.bob_box.sudo().state = 'ok'
        return self.env['email.sync.composer'].sudo(self.bob).create(dict(
            {'mailbox_id': self.bob_box.id, 'subject': 'x'}, **values))

    def test_a_composer_cannot_point_at_mail_the_writer_may_not_read(self):
        email, thread = self.conversation()
        for values in ({'parent_id': email.id}, {'thread_id': thread.id},
                       {'attachment_ids': [(6, 0, email.attachment_ids.ids)]}):
            with self.assertRaises(AccessError):
                self.compose_as_bob(**values)

    def test_answering_mail_shared_below_full_content_is_refused(self):
        self.share(level='metadata')
        email, thread = self.conversation()
        Composer = self.env['email.sync.composer'].sudo(self.bob).with_context(
            active_model='email.sync.thread', active_id=thread.id, default_mode='reply')
        with self.assertRaises(AccessError):
            Composer.default_get(['subject', 'body', 'parent_id'])
        with self.assertRaises(AccessError):
            self.compose_as_bob(parent_id=email.id)

    def test_opening_forward_leaves_no_copy_of_the_files(self):
        email, thread = self.conversation()
        before = self.env['ir.attachment'].sudo().search_count([])
        values = self.env['email.sync.composer'].sudo(self.alice).with_context(
            active_model='email.sync.thread', active_id=thread.id, default_mode='forward',
        ).default_get(['subject', 'body', 'attachment_ids', 'parent_id', 'mode'])
        self.assertEqual(values['attachment_ids'], [(6, 0, email.attachment_ids.ids)])
        self.assertEqual(self.env['ir.attachment'].sudo().search_count([]), before)


class TestRelationsAndMethods(PrivacyCase):

    def test_linking_a_conversation_from_the_contact_is_refused(self):
        email, thread = self.conversation()
        bobs_contact = self.env['res.partner'].sudo(self.bob).create({'name': 'Bob contact'})
        for command in ([(4, thread.id)], [(6, 0, [thread.id])]):
            with self.assertRaises(AccessError):
                bobs_contact.write({'email_sync_thread_ids': command})
        self.assertFalse(self.as_(self.bob, 'email.sync.thread').search([]))
        self.assertNotIn(bobs_contact, thread.partner_ids)
        with self.assertRaises(AccessError):
            self.deal.sudo(self.bob).write({'email_sync_thread_ids': [(4, thread.id)]})

    def test_portal_users_reach_nothing_and_change_nothing(self):
        self.share(level='full')
        email, thread = self.conversation()
        for model in ('email.sync.message', 'email.sync.thread', 'email.sync.mailbox',
                      'email.sync.folder', 'email.sync.tracking.event'):
            with self.assertRaises(AccessError):
                self.env[model].sudo(self.portal).search([])
        for method in ('action_delete_email', 'action_archive_email', 'action_restore_email'):
            with self.assertRaises(AccessError):
                getattr(email.sudo(self.portal), method)()
        with self.assertRaises(AccessError):
            self.mailbox.sudo(self.portal).action_sync_now()
        self.assertTrue(email.active and email.body_text and email.attachment_ids)

    def test_only_the_owner_gives_a_mailbox_its_password(self):
        with self.assertRaises(AccessError):
            self.mailbox.sudo(self.manager).write({'password': 'overwritten'})
        for method in ('action_test_connection', 'action_sync_now', 'action_forget_certificate'):
            with self.assertRaises(AccessError):
                getattr(self.mailbox.sudo(self.manager), method)()
        self.assertEqual(self.mailbox.sudo()._get_password(), 'correct horse battery staple')

    def test_a_block_list_is_its_owners_alone(self):
        self.alice.sudo(self.alice).write({'email_sync_blocked': 'rival.example'})
        self.assertEqual(self.alice.sudo(self.alice).read(['email_sync_blocked'])[0]
                         ['email_sync_blocked'], 'rival.example')
        self.assertFalse(self.alice.sudo(self.bob).read(['email_sync_blocked'])[0]['email_sync_blocked'])
        with self.assertRaises(AccessError):
            self.alice.sudo(self.admin).write({'email_sync_blocked': 'x.example'})


class TestTemplates(PrivacyCase):

    CODE = "${object.env['email.sync.message'].sudo().search([]).mapped('body_text')}"

    def test_template_code_is_for_template_editors(self):
        email, thread = self.conversation()
        Template = self.env['mail.template']
        for user in (self.bob, self.portal):
            with self.assertRaises(AccessError):
                Template.sudo(user).render_template(self.CODE, 'res.partner', [user.partner_id.id])
            with self.assertRaises(AccessError):
                Template.sudo(user).create({'name': 'Leak', 'model_id': self.env.ref(
                    'base.model_res_partner').id, 'body_html': self.CODE})
        rendered = Template.sudo(self.admin).render_template(
            '${object.name}', 'res.partner', [self.bob.partner_id.id])
        self.assertEqual(rendered[self.bob.partner_id.id], 'Bob')

    def test_templates_that_exist_keep_working_for_everybody(self):
        template = self.env['mail.template'].create({
            'name': 'Hello', 'model_id': self.env.ref('base.model_res_partner').id,
            'subject': 'Hello ${object.name}', 'body_html': '<p>Dear ${object.name}</p>'})
        with self.assertRaises(AccessError):
            template.sudo(self.bob).write({'body_html': self.CODE})
        values = template.sudo(self.bob).generate_email(self.bob.partner_id.id, ['subject', 'body_html'])
        self.assertEqual(values['subject'], 'Hello Bob')


class TestAuditLog(PrivacyCase):

    def entries(self):
        return self.env['email.sync.audit.log'].sudo().search([])

    def test_changes_that_could_open_mail_are_recorded(self):
        before = self.entries()
        Rule = self.env['ir.rule'].sudo(self.admin)
        Rule.create({'name': 'Open everything', 'domain_force': '[(1, "=", 1)]',
                     'model_id': self.env.ref('email_crm_sync.model_email_sync_message').id})
        self.env['ir.actions.server'].sudo(self.admin).create({
            'name': 'Read all mail', 'state': 'code',
            'model_id': self.env.ref('email_crm_sync.model_email_sync_message').id,
            'code': "env['email.sync.message'].sudo().search([])"})
        self.bob.sudo(self.admin).write({'groups_id': [(4, self.env.ref('base.group_system').id)]})
        new = self.entries() - before
        self.assertEqual(sorted(new.mapped('kind')), ['code', 'membership', 'rule'])
        self.assertEqual(set(new.mapped('user_id')), {self.admin})
        self.assertIn('Open everything', ' '.join(new.mapped('description')))

    def test_the_log_is_read_by_managers_and_administrators_and_changed_by_nobody(self):
        self.env['ir.rule'].sudo(self.admin).create({
            'name': 'x', 'model_id': self.env.ref('email_crm_sync.model_email_sync_message').id})
        entry = self.entries()[:1]
        for user in (self.manager, self.admin):
            self.assertTrue(entry.sudo(user).read(['description']))
            with self.assertRaises(AccessError):
                entry.sudo(user).unlink()
            with self.assertRaises(AccessError):
                entry.sudo(user).write({'description': 'nothing happened'})
        with self.assertRaises(AccessError):
            entry.sudo(self.bob).read(['description'])


class TestUpgrade(PrivacyCase):
    """Mail stored by 11.0.1.0.0 (Bcc in participants, a contact linked for it,
    indexed attachment text) is brought in line by the upgrade."""

    def migrate(self):
        import importlib.util
        import os
        path = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                            'migrations', '11.0.1.1.0', 'post-migration.py')
        spec = importlib.util.spec_from_file_location('ecs_post_migration_11_0_1_1_0', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, '11.0.1.0.0')
        self.env.cache.invalidate()

    def test_bcc_and_indexed_text_from_an_earlier_version_are_removed(self):
        raw = raw_mail(ALICE, CARL, 'Offer', 'old1@a').replace(
            b'Subject:', b'Bcc: Hidden Boss <boss@rival.example>\r\nSubject:')
        email, = deliver(self.mailbox, self.sent, raw)
        thread = email.thread_id
        boss = self.env['res.partner'].create({'name': 'Hidden Boss', 'email': 'boss@rival.example'})
        attachment = self.text_attachment(email)
        self.env.cr.execute("UPDATE email_sync_message SET participants = participants || "
                            "E'\\nboss@rival.example' WHERE id = %s", (email.id,))
        self.env.cr.execute("UPDATE email_sync_thread SET participants = participants || "
                            "E'\\nboss@rival.example', correspondents = correspondents || "
                            "', Hidden Boss' WHERE id = %s", (thread.id,))
        self.env.cr.execute('INSERT INTO email_sync_thread_partner_rel VALUES (%s, %s)',
                            (thread.id, boss.id))
        self.env.cr.execute("UPDATE ir_attachment SET index_content = 'price list', "
                            "res_name = 'Offer' WHERE id = %s", (attachment.id,))
        self.migrate()
        self.assertNotIn('boss@rival.example', email.participants + thread.participants)
        self.assertNotIn('Hidden Boss', thread.correspondents)
        self.assertNotIn(boss, thread.partner_ids)
        self.assertIn('carl@customer.example', thread.participants)
        self.env.cr.execute('SELECT index_content, res_name FROM ir_attachment WHERE id = %s',
                            (attachment.id,))
        self.assertEqual(self.env.cr.fetchone(), (None, 'Email'))
