"""Which folders the CRM syncs: a table a salesperson could check."""
import pytest

from email_crm_sync.lib import special_use

CASES = [
    # (folder name, flags from LIST, role, synced by default)
    ('INBOX', [], 'inbox', True),
    ('Inbox', [], 'inbox', True),
    ('Sent', ['\\Sent'], 'sent', True),
    ('[Gmail]/Sent Mail', ['\\HasNoChildren', '\\Sent'], 'sent', True),
    ('[Gmail]/All Mail', ['\\All'], 'all', True),
    ('[Gmail]/Spam', ['\\Junk'], 'junk', False),
    ('[Gmail]/Trash', ['\\Trash'], 'trash', False),
    ('[Gmail]/Drafts', ['\\Drafts'], 'drafts', False),
    ('[Gmail]/Starred', ['\\Flagged'], 'flagged', True),
    ('[Gmail]/Important', ['\\Important'], 'important', True),
    ('Archive', ['\\Archive'], 'archive', True),
    # Gmail's older XLIST spellings
    ('[Gmail]/Spam', ['\\Spam'], 'junk', False),
    ('[Gmail]/Starred', ['\\Starred'], 'flagged', True),
    ('[Gmail]/All Mail', ['\\AllMail'], 'all', True),
    # flags are case-insensitive and may arrive as bytes
    ('Papierkorb', [b'\\TRASH'], 'trash', False),
    # servers without RFC 6154: the name decides, in the user's language
    ('Sent Items', [], 'sent', True),
    ('Gesendete Objekte', [], 'sent', True),
    ('Éléments envoyés', [], 'sent', True),
    ('Deleted Items', [], 'trash', False),
    ('Junk E-mail', [], 'junk', False),
    ('Courrier indésirable', [], 'junk', False),
    ('Entwürfe', [], 'drafts', False),
    ('Brouillons', [], 'drafts', False),
    ('INBOX.Spam', [], 'none', True),  # '.'-delimited server, but delimiter given as '/'
    ('垃圾邮件', [], 'junk', False),
    ('送信済みアイテム', [], 'sent', True),
    # flags win over names
    ('Sent', ['\\Junk'], 'junk', False),
    # ordinary folders are synced
    ('Clients/ACME', ['\\HasNoChildren'], 'none', True),
    ('Projects', [], 'none', True),
]


@pytest.mark.parametrize('name, flags, role, synced', CASES)
def test_folder_role_and_sync_default(name, flags, role, synced):
    assert special_use.detect(name, flags) == role
    assert special_use.synced_by_default(role) is synced


def test_name_is_read_after_the_servers_delimiter():
    assert special_use.detect('INBOX.Spam', [], delimiter='.') == 'junk'
    assert special_use.detect('INBOX.Sent', [], delimiter='.') == 'sent'


@pytest.mark.parametrize('flags, selectable', [
    ([], True),
    (['\\HasChildren'], True),
    (['\\Noselect', '\\HasChildren'], False),
    ([b'\\NoSelect'], False),
    (['\\NonExistent'], False),
])
def test_hierarchy_only_folders_cannot_be_opened(flags, selectable):
    assert special_use.is_selectable(flags) is selectable
