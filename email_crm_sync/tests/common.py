from odoo.tests.common import TransactionCase


class EmailSyncCase(TransactionCase):
    """Users as they exist in a company: two salespeople, an email-sync
    manager and a Settings administrator (uid 1 bypasses every rule, so it
    proves nothing about access)."""

    def setUp(self):
        super(EmailSyncCase, self).setUp()
        Users = self.env['res.users'].with_context(no_reset_password=True)
        user_group = self.env.ref('base.group_user')
        self.alice = Users.create({'name': 'Alice', 'login': 'alice@test', 'email': 'alice@example.com',
                                   'groups_id': [(6, 0, [user_group.id])]})
        self.bob = Users.create({'name': 'Bob', 'login': 'bob@test', 'email': 'bob@example.com',
                                 'groups_id': [(6, 0, [user_group.id])]})
        self.manager = Users.create({
            'name': 'Mona Manager', 'login': 'mona@test',
            'groups_id': [(6, 0, [user_group.id, self.env.ref('email_crm_sync.group_email_sync_manager').id])]})
        self.admin = Users.create({
            'name': 'Sam Settings', 'login': 'sam@test',
            'groups_id': [(6, 0, [user_group.id, self.env.ref('base.group_system').id])]})
        self.gmail = self.env.ref('email_crm_sync.email_sync_provider_gmail')

    def mailbox_of(self, user, **values):
        values = dict({'email': '%s' % user.email, 'provider_id': self.gmail.id,
                       'password': 'correct horse battery staple'}, **values)
        return self.env['email.sync.mailbox'].sudo(user).create(values)
