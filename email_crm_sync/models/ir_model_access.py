from odoo import _, models


class IrModelAccess(models.Model):
    """Changes to access rights go to the email sync audit log."""
    _name = 'ir.model.access'
    _inherit = ['ir.model.access', 'email.sync.audited.mixin']
    _audit_kind = 'access'

    def _audit_description(self):
        return _('Access right "%s" on %s for %s: read %s, write %s, create %s, delete %s') % (
            self.name or '', self.model_id.model, self.group_id.full_name or _('everyone'),
            self.perm_read, self.perm_write, self.perm_create, self.perm_unlink)
