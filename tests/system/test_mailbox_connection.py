"""A salesperson connects a mailbox over RPC, as the web client does:
"Test connection" explains each failure and lists the folders on success."""
import xmlrpc.client

import pytest


@pytest.fixture(scope='module')
def salespeople(admin_rpc):
    group = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'base.group_user')
    for login in ('carla', 'dan'):
        if not admin_rpc('res.users', 'search', [('login', '=', login)]):
            admin_rpc('res.users', 'create', {'name': login.title(), 'login': login,
                                              'password': login + '-pw',
                                              'groups_id': [(6, 0, [group])]})
    return {login: admin_rpc.as_user(login, login + '-pw') for login in ('carla', 'dan')}


def new_mailbox(rpc, dovecot, fingerprint=False, **values):
    custom = rpc('ir.model.data', 'xmlid_to_res_id', 'email_crm_sync.email_sync_provider_custom')
    vals = dict(name='Work', email='alice@localhost', provider_id=custom, imap_host='127.0.0.1',
                imap_port=dovecot.imaps_port, imap_security='ssl', login='alice',
                password='alice-pass', tls_trusted_fingerprint=fingerprint)
    vals.update(values)
    mailbox_id = rpc('email.sync.mailbox', 'create', vals)
    return mailbox_id


def press_test_connection(rpc, mailbox_id):
    rpc('email.sync.mailbox', 'action_test_connection', [mailbox_id])
    return rpc('email.sync.mailbox', 'read', [mailbox_id],
               ['state', 'last_error', 'tls_offered_fingerprint', 'folder_count'])[0]


def test_untrusted_certificate_then_trusting_it_lists_folders(salespeople, dovecot):
    carla = salespeople['carla']
    mailbox_id = new_mailbox(carla, dovecot)
    first = press_test_connection(carla, mailbox_id)
    assert first['state'] == 'error'
    assert 'not trusted (self-signed certificate)' in first['last_error']
    assert len(first['tls_offered_fingerprint']) == 95  # 32 bytes as AB:CD:...

    carla('email.sync.mailbox', 'action_trust_certificate', [mailbox_id])
    mailbox = carla('email.sync.mailbox', 'read', [mailbox_id],
                    ['state', 'last_error', 'tls_trusted_fingerprint', 'folder_ids'])[0]
    assert mailbox['state'] == 'ok' and not mailbox['last_error']
    assert mailbox['tls_trusted_fingerprint'] == first['tls_offered_fingerprint']
    folders = carla('email.sync.folder', 'read', mailbox['folder_ids'],
                    ['name', 'special_use', 'sync_enabled'])
    assert {(f['name'], f['special_use'], f['sync_enabled']) for f in folders} == {
        ('INBOX', 'inbox', True), ('Sent', 'sent', True), ('Archive', 'archive', True),
        ('Drafts', 'drafts', False), ('Trash', 'trash', False), ('Junk', 'junk', False)}


def test_wrong_password_needs_reconnecting(salespeople, dovecot, dovecot_fingerprint):
    carla = salespeople['carla']
    mailbox_id = new_mailbox(carla, dovecot, dovecot_fingerprint, email='alice2@localhost',
                             password='wrong')
    result = press_test_connection(carla, mailbox_id)
    assert result['state'] == 'auth_failed'
    assert 'refused the login or the password' in result['last_error']
    assert 'Traceback' not in result['last_error']


def test_unreachable_host(salespeople, dovecot):
    carla = salespeople['carla']
    mailbox_id = new_mailbox(carla, dovecot, email='alice3@localhost', imap_port=1)
    result = press_test_connection(carla, mailbox_id)
    assert result['state'] == 'error'
    assert 'Nothing accepts connections at 127.0.0.1 port 1' in result['last_error']


def test_password_stays_with_its_owner(salespeople, dovecot):
    carla, dan = salespeople['carla'], salespeople['dan']
    mailbox_id = new_mailbox(carla, dovecot, email='alice4@localhost', password='s3cret-value')
    owner_view = carla('email.sync.mailbox', 'read', [mailbox_id])[0]
    assert 's3cret-value' not in repr(owner_view) and owner_view['password'] is False
    assert dan('email.sync.mailbox', 'search', [('id', '=', mailbox_id)]) == []
    with pytest.raises(xmlrpc.client.Fault, match="security restrictions"):
        dan('email.sync.mailbox', 'read', [mailbox_id], ['email'])
    with pytest.raises(xmlrpc.client.Fault):
        dan('email.sync.mailbox', 'action_test_connection', [mailbox_id])
