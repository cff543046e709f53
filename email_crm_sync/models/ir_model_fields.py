from odoo import _, models


class IrModelFields(models.Model):
    """Custom fields (their computation runs Python code) go to the email sync
    audit log."""
    _name = 'ir.model.fields'
    _inherit = ['ir.model.fields', 'email.sync.audited.mixin']
    _audit_kind = 'field'

    def _audited_records(self):
        return self.filtered(lambda f: f.state == 'manual')

    def _audit_description(self):
        return _('Custom field "%s" on %s; computed by:\n%s') % (
            self.name, self.model, self.compute or self.related or '-')
