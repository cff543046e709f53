from odoo import SUPERUSER_ID, _, api, models

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
    is taken as the superuser (neutral for conversations and emails)."""
    _inherit = 'mail.message'

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

