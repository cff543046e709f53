from odoo import api, models


class EmailSyncAuditedMixin(models.AbstractModel):
    """Security records whose every change goes to the audit log."""
    _name = 'email.sync.audited.mixin'
    _description = 'Changes recorded in the email sync audit log'
    _audit_kind = None

    def _audit_description(self):
        return self.display_name

    def _audited_records(self):
        """The records whose change is worth a line (all, unless a model says)."""
        return self

    def _audit(self, operation):
        self.env['email.sync.audit.log']._record(self._audit_kind, operation,
                                                 self._audited_records(),
                                                 lambda record: record._audit_description())

    @api.model
    def create(self, values):
        record = super(EmailSyncAuditedMixin, self).create(values)
        record._audit('create')
        return record

    @api.multi
    def write(self, values):
        result = super(EmailSyncAuditedMixin, self).write(values)
        self._audit('write')
        return result

    @api.multi
    def unlink(self):
        self._audit('unlink')
        return super(EmailSyncAuditedMixin, self).unlink()
