"""Raw emails for tests, and a way to store them exactly as a sync does
(``MailboxSync._store_batch``), without an IMAP server in between."""
import datetime
import itertools

from ..lib.imap_folder import FetchedMessage
from ..sync.mailbox_sync import MailboxSync

_uids = itertools.count(1000)


def raw_mail(sender, to, subject, message_id, in_reply_to=None, references=(), cc=(),
             date='Tue, 24 Nov 2026 09:30:00 +0000', body='Hello', attachment=False,
             attachment_size=1):
    """A plain email; addresses as "Name <address>" or bare; with ``attachment``, a PDF
    of about ``attachment_size`` bytes."""
    lines = ['From: %s' % sender, 'To: %s' % ', '.join(to if isinstance(to, (list, tuple)) else [to])]
    if cc:
        lines.append('Cc: %s' % ', '.join(cc))
    lines += ['Subject: %s' % subject, 'Date: %s' % date, 'Message-ID: <%s>' % message_id,
              'MIME-Version: 1.0']
    if in_reply_to:
        lines.append('In-Reply-To: <%s>' % in_reply_to)
    if references:
        lines.append('References: %s' % ' '.join('<%s>' % r for r in references))
    if attachment:
        lines += ['Content-Type: multipart/mixed; boundary="b"', '', '--b',
                  'Content-Type: text/plain; charset=utf-8', '', body, '--b',
                  'Content-Type: application/pdf; name="offer.pdf"',
                  'Content-Disposition: attachment; filename="offer.pdf"', '',
                  '%PDF-1.4 ' + 'x' * attachment_size, '--b--']
    else:
        lines += ['Content-Type: text/plain; charset=utf-8', '', body]
    return ('\r\n'.join(lines) + '\r\n').encode('utf-8')


def deliver(mailbox, folder, *raws):
    """Store raw emails in ``folder`` as the sync does; returns the stored records."""
    engine = MailboxSync(mailbox.sudo(), deadline=float('inf'))
    batch = [FetchedMessage(uid=next(_uids), flags=(), internaldate=datetime.datetime(2026, 11, 24),
                            size=len(raw), raw=raw, modseq=None) for raw in raws]
    engine._store_batch(folder.sudo(), batch)
    ids = folder.env['email.sync.message.folder'].sudo().search(
        [('folder_id', '=', folder.id), ('uid', 'in', [m.uid for m in batch])]).mapped('message_id')
    return ids
