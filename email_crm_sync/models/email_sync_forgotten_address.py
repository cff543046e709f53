from odoo import fields, models


class EmailSyncForgottenAddress(models.Model):
    """An address of a deleted contact: synced mail never creates it again."""
    _name = 'email.sync.forgotten.address'
    _description = 'Address of a deleted contact'
    _order = 'create_date desc, id desc'
    _rec_name = 'email'

    email = fields.Char(required=True, index=True, readonly=True)
    contact_name = fields.Char('Deleted contact', readonly=True)

    _sql_constraints = [
        ('email_unique', 'unique(email)', 'This address is remembered already.'),
    ]

    def _remember(self, addresses_with_names):
        """Remember {address: contact name}; addresses remembered already stay as they are."""
        if not addresses_with_names:
            return
        self.env.cr.execute(
            'INSERT INTO email_sync_forgotten_address (email, contact_name, create_uid, create_date, '
            "write_uid, write_date) SELECT a, n, %s, now() at time zone 'UTC', %s, "
            "now() at time zone 'UTC' FROM unnest(%s, %s) AS t(a, n) ON CONFLICT (email) DO NOTHING",
            (self.env.uid, self.env.uid, list(addresses_with_names), list(addresses_with_names.values())))

    def _forgotten_among(self, addresses):
        if not addresses:
            return set()
        self.env.cr.execute('SELECT email FROM email_sync_forgotten_address WHERE email IN %s',
                            (tuple(addresses),))
        return {row[0] for row in self.env.cr.fetchall()}
