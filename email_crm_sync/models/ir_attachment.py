from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError

from ..lib import visibility as sharing

EMAIL_MODEL = 'email.sync.message'
# Attachments of these models are mail content, drafts of it, or files of
# notes about it.
CONTENT_MODELS = (EMAIL_MODEL, 'email.sync.thread')
MAIL_MODELS = CONTENT_MODELS + ('email.sync.composer', 'email.sync.mailbox')


class IrAttachment(models.Model):
    """Attachments of synced emails are content, and drafts are their writer's:

    - a user who sees an email below "full content" may neither list, count,
      group nor download its attachments (/web/content, /web/image, RPC and
      ``read_group`` all go through ``check`` and ``_search`` here);
    - files uploaded in the composer before it is saved (no ``res_id``, which
      Odoo 11 shows to every employee) are their uploader's alone;
    - nothing Odoo keeps beside an attachment tells its email apart: the
      record name is neutral and the text of text files is not indexed.
    """
    _inherit = 'ir.attachment'

    def _email_sync_hidden(self, attachment_ids):
        """Ids among ``attachment_ids`` that the current user may not reach: of
        emails whose content they may not see, or uploads of someone else."""
        if self.env.uid == SUPERUSER_ID or not attachment_ids:
            return set()
        self.env.cr.execute('SELECT id, res_model, res_id, create_uid FROM ir_attachment '
                            'WHERE id IN %s AND res_model IN %s',
                            (tuple(attachment_ids), MAIL_MODELS))
        hidden, by_record = set(), {}
        for attachment_id, res_model, res_id, create_uid in self.env.cr.fetchall():
            if not res_id:
                if create_uid != self.env.uid:
                    hidden.add(attachment_id)
            else:
                by_record.setdefault(res_model, {}).setdefault(res_id, []).append(attachment_id)
        for res_model, by_id in by_record.items():
            if res_model in CONTENT_MODELS:
                visible = self.env[res_model].browse(list(by_id))._visible_ids(sharing.FULL)
            elif res_model == 'email.sync.mailbox':
                visible = set(self.env[res_model].sudo().search(
                    [('id', 'in', list(by_id)), ('user_id', '=', self.env.uid)]).ids)
            else:
                continue  # composer drafts: Odoo shows them to their writer only
            hidden.update(a for record_id, ids in by_id.items() if record_id not in visible
                          for a in ids)
        return hidden

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
            kept = [i for i in ids if i not in hidden]
            if limit and len(ids) == limit:
                # A page short of hidden attachments is filled from the next ones.
                more = self._search(args, offset=(offset or 0) + len(ids), limit=limit - len(kept),
                                    order=order, access_rights_uid=access_rights_uid)
                kept += [i for i in more if i not in kept]
            ids = kept
        return len(ids) if count else ids

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        # Odoo 11 groups attachments without the checks of _search: group only
        # what the user may list.
        if self.env.uid != SUPERUSER_ID:
            domain = [('id', 'in', self._search(list(domain or [])))]
        return super(IrAttachment, self).read_group(
            domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)

    @api.depends('res_model', 'res_id')
    def _compute_res_name(self):
        mail = self.filtered(lambda a: a.res_model in MAIL_MODELS)
        for attachment in mail:
            attachment.res_name = _('Email')
        super(IrAttachment, self - mail)._compute_res_name()

    @api.model
    def create(self, values):
        record = super(IrAttachment, self).create(values)
        if values.get('res_model') in MAIL_MODELS:
            record._email_sync_drop_index()
        return record

    @api.multi
    def write(self, values):
        result = super(IrAttachment, self).write(values)
        if {'datas', 'res_model'} & set(values) and (
                values.get('res_model') in MAIL_MODELS
                or any(a.res_model in MAIL_MODELS for a in self.sudo())):
            self._email_sync_drop_index()
        return result

    def _email_sync_drop_index(self):
        """The text of mail attachments stays in the file, not in a column
        that searches and groupings could reach."""
        self.env.cr.execute('UPDATE ir_attachment SET index_content = NULL '
                            'WHERE id IN %s AND res_model IN %s AND index_content IS NOT NULL',
                            (tuple(self.ids) or (0,), MAIL_MODELS))
