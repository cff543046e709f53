"""Received files never run in the CRM's pages: an email carrying HTML,
SVG, XHTML and XML attachments (each with a script) is synced from Dovecot,
and the owner's own browser session asks for each file the ways the web
client does. Active types come as sandboxed downloads; pictures, text and
PDF keep showing inline, sandboxed too."""
import email.utils
from email.message import EmailMessage

import pytest

from .sync_helpers import SyncedMailbox
from .test_sharing_matrix import WebSession

SCRIPT = b'<script>document.title = "owned"</script>'
FILES = {
    'page.html': ('text', 'html', b'<html><body>' + SCRIPT + b'</body></html>'),
    'logo.svg': ('image', 'svg+xml', b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b'</svg>'),
    'doc.xhtml': ('application', 'xhtml+xml',
                  b'<html xmlns="http://www.w3.org/1999/xhtml"><body>' + SCRIPT + b'</body></html>'),
    'data.xml': ('text', 'xml', b'<?xml version="1.0"?><a>' + SCRIPT + b'</a>'),
    # Declared as a picture, but HTML inside: the declared type must not help it.
    'photo.png': ('image', 'png', b'<html>' + SCRIPT + b'</html>'),
    'notes.txt': ('text', 'plain', b'plain words'),
}
ACTIVE = {'page.html', 'logo.svg', 'doc.xhtml', 'data.xml'}


@pytest.fixture(scope='module')
def served(admin_rpc, odoo_server, dovecot, dovecot_fingerprint):
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, 'flora')
    msg = EmailMessage()
    msg['From'] = 'Mallory <mallory@attacker.example>'
    msg['To'] = 'flora@localhost'
    msg['Subject'] = 'Files for you'
    msg['Date'] = email.utils.formatdate()
    msg['Message-ID'] = '<files@attacker.example>'
    msg.set_content('see attached')
    for name, (maintype, subtype, data) in FILES.items():
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    with box.imap() as client:
        client.append('INBOX', msg.as_bytes())
    assert box.sync()['finished']
    email_id, = box.rpc('email.sync.message', 'search', [('message_id', '=', 'files@attacker.example')])
    attachments = box.rpc('email.sync.message', 'read', [email_id], ['attachment_ids'])[0]['attachment_ids']
    names = {a['datas_fname']: a['id'] for a in box.rpc('ir.attachment', 'read', attachments,
                                                        ['datas_fname'])}
    assert set(names) == set(FILES)
    session = WebSession(odoo_server.url, odoo_server.db_name, 'flora', 'flora-pw')
    return session, names, email_id


@pytest.mark.parametrize('route', ['/web/content/%d', '/web/image/%d', '/web/content/%d?download=true'])
@pytest.mark.parametrize('name', sorted(FILES))
def test_a_received_file_never_runs_in_the_crm(served, route, name):
    session, names, _email_id = served
    answer = session.get(route % names[name])
    assert answer.status_code == 200
    assert answer.headers.get('X-Content-Type-Options') == 'nosniff'
    assert 'sandbox' in answer.headers.get('Content-Security-Policy', '')
    kind = answer.headers['Content-Type'].split(';')[0]
    assert kind not in ('text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml',
                        'application/xml')
    if name in ACTIVE or 'download' in route:
        assert answer.headers.get('Content-Disposition', '').startswith('attachment')
    if name in ACTIVE:
        assert kind == 'application/octet-stream'


def test_an_emails_html_body_is_no_page_either(served):
    session, _names, email_id = served
    answer = session.get('/web/content/email.sync.message/%d/body_html' % email_id)
    assert answer.status_code in (200, 404)
    if answer.status_code == 200:
        assert answer.headers['Content-Type'].startswith('application/octet-stream')
        assert 'sandbox' in answer.headers.get('Content-Security-Policy', '')
