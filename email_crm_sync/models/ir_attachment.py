from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError

from ..lib import visibility as sharing

EMAIL_MODEL = 'email.sync.message'


class IrAttachment(models.Model):
    """Attachments of synced emails are content: a colleague who sees an email
    below "full content" may neither list nor download them (/web/content,
    /web/image and RPC all go through ``check`` and ``_search``)."""
    _inherit = 'ir.attachment'

    def _email_sync_hidden(self, attachment_ids):
        """Ids among ``attachment_ids`` belonging to emails whose content the user may not see."""
        if self.env.uid == SUPERUSER_ID or not attachment_ids:
            return set()
        self.env.cr.execute('SELECT id, res_id FROM ir_attachment WHERE id IN %s AND res_model = %s',
                            (tuple(attachment_ids), EMAIL_MODEL))
        by_email = {}
        for attachment_id, email_id in self.env.cr.fetchall():
            by_email.setdefault(email_id, []).append(attachment_id)
        if not by_email:
            return set()
        visible = self.env[EMAIL_MODEL].browse(list(by_email))._visible_ids(sharing.FULL)
        return {a for email_id, ids in by_email.items() if email_id not in visible for a in ids}

    def check(self, mode, values=None):
        super(IrAttachment, self).check(mode, values=values)
        if self and self._email_sync_hidden(self.ids):
            raise AccessError(_('This attachment belongs to an email whose content is private.'))
        if values and values.get('res_model') == EMAIL_MODEL and self.env.uid != SUPERUSER_ID:
            raise AccessError(_('Attachments of synced emails come from the mailbox only.'))

    @api.model
    def _search(self, args, offset=0, limit=None, order=None, count=False, access_rights_uid=None):
        ids = super(IrAttachment, self)._search(args, offset=offset, limit=limit, order=order,
                                                count=False, access_rights_uid=access_rights_uid)
        hidden = self._email_sync_hidden(list(ids))
        if hidden:
            ids = [i for i in ids if i not in hidden]
        return len(ids) if count else ids
