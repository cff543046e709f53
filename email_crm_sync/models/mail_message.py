from odoo import SUPERUSER_ID, _, api, models

from ..lib import visibility as sharing

# Conversations and emails: what names them in the chatter must not tell
# their subject to whoever reads the chatter.
NEUTRAL_NAMED = ('email.sync.thread', 'email.sync.message')


def command_ids(commands):
    """Record ids an x2many write adds: (4, id) and (6, 0, ids) commands, or plain ids."""
    ids = []
    for command in commands or []:
        if isinstance(command, int):
            ids.append(command)
        elif command and command[0] == 4:
            ids.append(command[1])
        elif command and command[0] == 6:
            ids.extend(command[2] or [])
    return ids


class MailMessage(models.Model):
    """Two Odoo 11 gaps closed for every model, conversations included:
    ``message_post(attachment_ids=...)`` links any attachment id to a
    message, whose readers then see its name and type (the caller must be
    able to read each attachment); and the record name stored on a message
    is taken as the superuser (neutral for conversations and emails).

    Notes on a conversation are about its content: listed for those who see
    the full content only (reading one goes through the conversation's
    ``check_mail_message_access``)."""
    _inherit = 'mail.message'

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        # Odoo 11 groups messages without the checks of _search (which hides
        # messages of documents the user may not read): group only those.
        if self.env.uid != SUPERUSER_ID:
            domain = [('id', 'in', self._search(list(domain or [])))]
        return super(MailMessage, self).read_group(
            domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)

    @api.model
    def _find_allowed_model_wise(self, doc_model, doc_dict):
        if doc_model not in NEUTRAL_NAMED or self.env.uid == SUPERUSER_ID:
            return super(MailMessage, self)._find_allowed_model_wise(doc_model, doc_dict)
        full = self.env[doc_model].browse(list(doc_dict))._visible_ids(sharing.FULL)
        return super(MailMessage, self)._find_allowed_model_wise(
            doc_model, {doc_id: ids for doc_id, ids in doc_dict.items() if doc_id in full})

    @api.model
    def create(self, values):
        if values.get('model') in NEUTRAL_NAMED:
            values = dict(values, record_name=_('Email conversation'))
        self._check_attachments_readable(values)
        return super(MailMessage, self).create(values)

    @api.multi
    def write(self, values):
        self._check_attachments_readable(values)
        if values.get('model') in NEUTRAL_NAMED:
            values = dict(values, record_name=_('Email conversation'))
        return super(MailMessage, self).write(values)

    def _check_attachments_readable(self, values):
        if self.env.uid == SUPERUSER_ID or not values.get('attachment_ids'):
            return
        ids = command_ids(values['attachment_ids'])
        if ids:
            self.env['ir.attachment'].browse(ids).check('read')
