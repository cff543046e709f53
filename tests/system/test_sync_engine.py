"""The sync engine against a real Dovecot and a real Odoo database: what is
in the mailbox is in the CRM, once, whatever happens in between."""
import datetime
import json
import random
import subprocess
import time

import pytest

from devenv.demo_mail import generate_raw_messages

from .sync_helpers import SyncedMailbox

_counter = iter(range(1, 10000))


@pytest.fixture
def synced(admin_rpc, dovecot, dovecot_fingerprint):
    def make(lookback='all'):
        return SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint,
                             'sync%d_%d' % (next(_counter), int(time.time()) % 100000), lookback)
    return make


def sent_or_inbox(raw):
    return 'Sent' if b'\nFrom: Sync' in raw or b'\r\nFrom: Sync' in raw else 'INBOX'


def test_first_import_then_new_mail_flags_and_deletions(synced):
    box = synced()
    box.seed(60, seed=3)
    result = box.sync()
    assert result['finished'] and result['state'] == 'ok'
    assert box.stored_links() == box.server_links()
    assert sorted(box.stored_message_ids()) == sorted(box.server_message_ids())
    mailbox = box.mailbox()
    assert mailbox['email_count'] == len(box.server_message_ids())
    assert mailbox['audit_summary'].startswith('In sync: 60 of 60')

    # The CRM never marks mail as read (BODY.PEEK, EXAMINE).
    with box.imap() as client:
        client.select_folder('INBOX', readonly=True)
        assert client.search('SEEN') == []

    # New mail arrives; one message is flagged, one deleted in the mail client.
    for raw in generate_raw_messages(2, seed=99, owner_address='x@localhost'):
        box.dovecot.deliver(box.login, raw)
    with box.imap() as client:
        client.select_folder('INBOX')
        uids = sorted(client.search('ALL'))
        client.add_flags([uids[0]], [b'\\Flagged'])
        client.delete_messages([uids[1]])
        client.expunge()
    box.sync()
    assert box.stored_links() == box.server_links()
    flags = box.sql("""SELECT l.flags FROM email_sync_message_folder l JOIN email_sync_folder f
                       ON f.id = l.folder_id WHERE f.mailbox_id = %s AND f.name = 'INBOX'
                       AND l.uid = %s""", box.mailbox_id, uids[0])
    assert '\\Flagged' in flags[0][0]
    assert sorted(box.stored_message_ids()) == sorted(box.server_message_ids())


def test_nothing_new_costs_no_fetch(synced):
    box = synced()
    box.seed(20, seed=4)
    box.sync()
    before = box.sql('SELECT max(write_date) FROM email_sync_message_folder')
    box.sync()
    assert box.sql('SELECT max(write_date) FROM email_sync_message_folder') == before
    assert box.stored_links() == box.server_links()


def test_lookback_limits_the_first_import_not_later_mail(synced):
    box = synced(lookback='30')
    old = datetime.datetime.now() - datetime.timedelta(days=200)
    recent = datetime.datetime.now() - datetime.timedelta(days=3)
    raws = list(generate_raw_messages(10, seed=5, owner_address='x@localhost'))
    with box.imap() as client:
        for index, raw in enumerate(raws):
            client.append('INBOX', raw, msg_time=old if index < 6 else recent)
    box.sync()
    assert len(box.stored_links()['INBOX']) == 4
    # An old email that arrives after the first import is still synced.
    with box.imap() as client:
        client.append('INBOX', next(generate_raw_messages(1, seed=6)), msg_time=old)
    box.sync()
    assert len(box.stored_links()['INBOX']) == 5


def test_uidvalidity_change_remaps_without_duplicates(synced):
    box = synced()
    box.seed(15, seed=7)
    box.sync()
    ids_before = sorted(box.stored_message_ids())
    # Recreate INBOX's content under a new UIDVALIDITY: a renamed-and-back folder.
    with box.imap() as client:
        client.select_folder('INBOX')
        uids = client.search('ALL')
        raws = [data[b'BODY[]'] for data in client.fetch(uids, ['BODY.PEEK[]']).values()]
        client.create_folder('Projects')
        for raw in raws:
            client.append('Projects', raw)
    box.rpc('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    box.sync()
    with box.imap() as client:
        client.delete_folder('Projects')
        client.create_folder('Projects')
        for raw in raws[:10]:
            client.append('Projects', raw)
    result = box.sync()
    assert result['finished']
    assert sorted(box.stored_message_ids()) == ids_before  # same emails, none twice
    assert box.stored_links()['Projects'] == box.server_links(('Projects',))['Projects']
    log = box.rpc('email.sync.log', 'search_read', [('mailbox_id', '=', box.mailbox_id)], ['message'])
    assert any('renumbered' in line['message'] for line in log)


def test_killed_sync_resumes_without_loss_or_duplicate(synced):
    """SIGKILL the syncing process at random points, many times, then let it finish."""
    box = synced()
    box.seed(1200, seed=8, folder_of=sent_or_inbox)
    rng = random.Random(8)
    kills, stored_after_kill = 0, []
    while kills < 15:
        process = box.sync_process()
        time.sleep(rng.uniform(0.8, 1.8))  # Odoo itself takes about a second to start
        if process.poll() is not None:
            break  # it got to the end between two kills
        process.kill()
        process.wait()
        kills += 1
        stored_after_kill.append(len(box.stored_message_ids(active_only=False)))
    assert kills >= 3, 'the sync finished too fast to be interrupted'
    assert stored_after_kill[-1] > stored_after_kill[0], 'killed runs made no progress'
    box.sync()
    assert box.stored_links() == box.server_links()
    assert sorted(box.stored_message_ids()) == sorted(box.server_message_ids())
    duplicates = box.sql('SELECT message_id, count(*) FROM email_sync_message WHERE mailbox_id = %s '
                         'GROUP BY message_id HAVING count(*) > 1', box.mailbox_id)
    assert duplicates == []


def test_dropped_connections_mid_sync_lose_nothing(synced):
    box = synced()
    box.seed(300, seed=9)
    process = box.sync_process()
    kicked = 0
    while process.poll() is None and kicked < 30:
        time.sleep(0.3)
        subprocess.run(['doveadm', '-c', box.dovecot.config_path, 'kick', box.login],
                       capture_output=True)
        kicked += 1
    process.wait(timeout=300)
    assert box.mailbox()['state'] in ('ok', 'error')  # a kick shows as a plain-words error
    for _ in range(5):  # later runs pick up where the dropped ones stopped
        if box.sync()['finished']:
            break
    assert box.stored_links() == box.server_links()


def test_self_audit_restores_rows_deleted_behind_the_engines_back(synced):
    box = synced()
    box.seed(30, seed=10)
    box.sync()
    box.sql("""DELETE FROM email_sync_message WHERE id IN (
                   SELECT id FROM email_sync_message WHERE mailbox_id = %s ORDER BY id LIMIT 5)""",
            box.mailbox_id)
    box.sql('UPDATE email_sync_folder SET last_audit_date = NULL WHERE mailbox_id = %s', box.mailbox_id)
    box.sync()
    assert box.stored_links() == box.server_links()
    log = box.rpc('email.sync.log', 'search_read', [('mailbox_id', '=', box.mailbox_id),
                                                    ('level', '=', 'repair')], ['message'])
    assert any('5 message(s) of "INBOX" were missing' in line['message'] for line in log)


def test_refused_login_stops_syncing_and_tells_the_owner_once(synced):
    box = synced()
    box.seed(5, seed=11)
    box.dovecot.add_user(box.login, 'changed-elsewhere')
    box.sync(until_done=False)
    mailbox = box.mailbox()
    assert mailbox['state'] == 'auth_failed'
    assert 'refused the login or the password' in mailbox['last_error']
    box.sync(until_done=False)
    activities = box.rpc('mail.activity', 'search_read', [('res_model', '=', 'email.sync.mailbox'),
                                                          ('res_id', '=', box.mailbox_id)], ['summary', 'user_id'])
    assert len(activities) == 1 and activities[0]['user_id'][0] == box.user_id
    # A new password makes it worth trying again.
    box.rpc('email.sync.mailbox', 'write', [box.mailbox_id], {'password': 'changed-elsewhere'})
    assert box.mailbox()['state'] == 'draft'
    box.rpc('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    assert box.mailbox()['state'] == 'ok'
    assert box.rpc('mail.activity', 'search_count', [('res_model', '=', 'email.sync.mailbox'),
                                                     ('res_id', '=', box.mailbox_id)]) == 0


def test_two_workers_never_sync_the_same_mailbox_at_once(synced):
    """Several cron workers or servers: each mailbox is synced by one at a time."""
    box = synced()
    box.seed(600, seed=12)
    workers = [box.sync_process(capture=True) for _ in range(2)]
    outcomes = [json.loads(worker.communicate(timeout=300)[0].splitlines()[-1])['finished']
                for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    assert sorted(outcomes, key=str) == [None, True], 'one worker must find the mailbox busy'
    box.sync()
    assert box.stored_links() == box.server_links()
    assert sorted(box.stored_message_ids()) == sorted(box.server_message_ids())


def _inbox_message(box, index=0):
    ids = box.rpc('email.sync.message', 'search', [('folder_id.name', '=', 'INBOX')], order='id')
    return ids[index]


def _server_count(box, folder):
    with box.imap() as client:
        return client.folder_status(folder, [b'MESSAGES'])[b'MESSAGES']


def test_archive_and_delete_in_the_crm_move_mail_when_the_setting_is_on(synced):
    box = synced()
    box.seed(6, seed=13)
    box.sync()
    box.admin('ir.config_parameter', 'set_param', 'email_crm_sync.propagate_archive', 'True')
    try:
        inbox_before = _server_count(box, 'INBOX')
        archived = _inbox_message(box, 0)
        box.rpc('email.sync.message', 'action_archive_email', [archived])
        assert _server_count(box, 'INBOX') == inbox_before - 1
        assert _server_count(box, 'Archive') == 1
        deleted = _inbox_message(box, 0)
        box.rpc('email.sync.message', 'action_delete_email', [deleted])
        assert _server_count(box, 'Trash') == 1
        box.sync()
        # Syncing finds the archived email in Archive but leaves it archived in the CRM.
        states = box.sql('SELECT id, active, archived_by_user, deleted_by_user, body_text '
                         'FROM email_sync_message WHERE id IN %s ORDER BY id', (archived, deleted))
        assert [row[1:4] for row in states] == [(False, True, False), (False, False, True)]
        assert states[1][4] is None, 'a deleted email keeps no content'
        assert box.stored_links()['Archive'] == box.server_links(('Archive',))['Archive']
    finally:
        box.admin('ir.config_parameter', 'set_param', 'email_crm_sync.propagate_archive', 'False')


def test_archive_in_the_crm_leaves_the_mailbox_alone_by_default(synced):
    box = synced()
    box.seed(4, seed=14)
    box.sync()
    inbox_before = _server_count(box, 'INBOX')
    message = _inbox_message(box, 0)
    box.rpc('email.sync.message', 'action_archive_email', [message])
    box.sql('UPDATE email_sync_folder SET last_audit_date = NULL WHERE mailbox_id = %s', box.mailbox_id)
    box.sync()  # with a self-audit
    assert _server_count(box, 'INBOX') == inbox_before
    assert box.sql('SELECT active FROM email_sync_message WHERE id = %s', message) == [(False,)]
    box.rpc('email.sync.message', 'action_restore_email', [message])
    assert box.sql('SELECT active FROM email_sync_message WHERE id = %s', message) == [(True,)]


def test_network_errors_are_retried_later_with_backoff(synced):
    import socket
    box = synced()
    box.seed(3, seed=15)
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        closed_port = probe.getsockname()[1]
    box.sql('UPDATE email_sync_mailbox SET imap_port = %s WHERE id = %s', closed_port, box.mailbox_id)
    delays = []
    for _ in range(3):
        box.sync(until_done=False)
        row = box.sql("SELECT state, failure_count, last_error, "
                      "extract(epoch FROM next_sync_date - (now() at time zone 'UTC')) "
                      "FROM email_sync_mailbox WHERE id = %s", box.mailbox_id)[0]
        assert row[0] == 'error' and 'Nothing accepts connections' in row[2]
        delays.append((row[1], round(float(row[3]) / 60)))
    assert delays == [(1, 1), (2, 2), (3, 4)]
    box.sql('UPDATE email_sync_mailbox SET imap_port = %s WHERE id = %s', box.dovecot.imaps_port,
            box.mailbox_id)
    assert box.sync()['state'] == 'ok'
    assert box.sql('SELECT failure_count, last_error FROM email_sync_mailbox WHERE id = %s',
                   box.mailbox_id) == [(0, None)]
    assert box.stored_links() == box.server_links()
