"""The MIME message for an email written in the CRM.

Threads in the recipient's client too: its own Message-ID, In-Reply-To the
message answered and References to the whole chain. The HTML part is wrapped
in ``dir="auto"`` so that Arabic, Hebrew, Persian or Urdu text is laid out
right-to-left by the reading client; the plain-text part comes from the caller.
"""
import email.utils
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

MAX_REFERENCES = 20   # long chains are cut from the middle, as RFC 5322 allows


def new_message_id(sender):
    domain = sender.rpartition('@')[2] or 'localhost'
    return '%s@%s' % (uuid.uuid4().hex, domain)


def references_for(parent_message_id, parent_references=()):
    """References of a reply: the parent's chain followed by the parent."""
    chain = [r for r in parent_references if r] + ([parent_message_id] if parent_message_id else [])
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return chain


def html_document(fragment):
    """A whole HTML document around the composed body, laid out by its own script."""
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
            '<body><div dir="auto">%s</div></body></html>' % (fragment or ''))


def _address(name, addr):
    local, _at, domain = addr.rpartition('@')
    try:
        return Address(display_name=name or '', username=local, domain=domain)
    except (ValueError, IndexError):
        return Address(display_name=name or '', addr_spec=addr)


def build(sender, sender_name, to, cc, subject, html, text, message_id,
          in_reply_to=None, references=(), attachments=(), date=None):
    """The message as bytes. ``to``/``cc``: (name, address) pairs; ``attachments``:
    (filename, mimetype, bytes). Bcc recipients are never written in the headers."""
    msg = EmailMessage(policy=SMTP)
    msg['From'] = _address(sender_name, sender)
    if to:
        msg['To'] = [_address(n, a) for n, a in to]
    if cc:
        msg['Cc'] = [_address(n, a) for n, a in cc]
    msg['Subject'] = subject or ''
    msg['Date'] = email.utils.format_datetime(date) if date else email.utils.formatdate(localtime=True)
    msg['Message-ID'] = '<%s>' % message_id
    if in_reply_to:
        msg['In-Reply-To'] = '<%s>' % in_reply_to
    if references:
        msg['References'] = ' '.join('<%s>' % r for r in references)
    msg['MIME-Version'] = '1.0'
    msg.set_content(text or '', charset='utf-8', cte='quoted-printable')
    msg.add_alternative(html, subtype='html', charset='utf-8', cte='quoted-printable')
    for filename, mimetype, content in attachments:
        maintype, _slash, subtype = (mimetype or 'application/octet-stream').partition('/')
        msg.add_attachment(content, maintype=maintype, subtype=subtype or 'octet-stream',
                           filename=filename)
    return msg.as_bytes()
