from odoo import _, models


class ResGroups(models.Model):
    """Changes to groups (members, implied groups) go to the email sync audit log."""
    _name = 'res.groups'
    _inherit = ['res.groups', 'email.sync.audited.mixin']
    _audit_kind = 'group'

    def _audit_description(self):
        return _('Group "%s": %d members, implies %s') % (
            self.full_name, len(self.users), ', '.join(self.implied_ids.mapped('full_name')) or '-')
