"""Hostile mail through Dovecot and the real sync: no message stops a mailbox.

The corpus (devenv.hostile_mail, over 500 generated cases of every kind that
once stopped a mailbox or misled a salesperson) is put in a mailbox, each
case followed by an ordinary customer email. Half of it is there for the
first import, half arrives afterwards. Then what the salesperson sees is
read back over RPC.
"""
import datetime
import time

import pytest

from devenv.hostile_mail import hostile_corpus, ordinary_message

from .sync_helpers import SyncedMailbox

ARRIVED = datetime.datetime(2026, 11, 20, 8, 0, tzinfo=datetime.timezone.utc)
_counter = iter(range(1, 1000))


@pytest.fixture
def box(admin_rpc, dovecot, dovecot_fingerprint):
    return SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint,
                         'hostile%d_%d' % (next(_counter), int(time.time()) % 100000))


def _append(box, raws):
    with box.imap() as client:
        for raw in raws:
            client.append('INBOX', raw, msg_time=ARRIVED)


def _accounted(box):
    """{UID: 'stored' or the quarantine reason} for INBOX, and the server's UIDs."""
    server = set(box.server_links(('INBOX',)).get('INBOX', []))
    stored = set(box.stored_links().get('INBOX', []))
    quarantined = dict(box.sql("""
        SELECT q.uid::bigint, q.reason || ': ' || coalesce(q.detail, '') FROM email_sync_quarantine q
          JOIN email_sync_folder f ON f.id = q.folder_id
         WHERE f.mailbox_id = %s AND f.name = 'INBOX'""", box.mailbox_id))
    return server, stored, quarantined


def _emails(box, domain, fields):
    return box.rpc('email.sync.message', 'search_read', domain, fields)


def _snapshot(box):
    return box.sql("""
        SELECT (SELECT count(*) FROM email_sync_message WHERE mailbox_id = %s),
               (SELECT count(*) FROM email_sync_message_folder l JOIN email_sync_folder f
                    ON f.id = l.folder_id WHERE f.mailbox_id = %s),
               (SELECT max(l.write_date) FROM email_sync_message_folder l JOIN email_sync_folder f
                    ON f.id = l.folder_id WHERE f.mailbox_id = %s),
               (SELECT count(*) FROM email_sync_quarantine WHERE mailbox_id = %s),
               (SELECT count(*) FROM email_sync_thread WHERE mailbox_id = %s),
               (SELECT count(*) FROM ir_attachment WHERE res_model = 'email.sync.message')
    """, *([box.mailbox_id] * 5))[0]


def test_hostile_corpus_never_stops_the_mailbox(box):
    cases = hostile_corpus()
    assert len(cases) >= 500
    raws = []
    for number, case in enumerate(cases):
        raws += [case.raw, ordinary_message(number).raw]
    half = len(raws) // 2
    _append(box, raws[:half])
    first = box.sync()
    _append(box, raws[half:])           # arrives in a mailbox that is in sync
    second = box.sync()
    assert first['finished'] and second['finished']
    assert box.mailbox()['state'] == 'ok', box.mailbox()['last_error']

    server, stored, quarantined = _accounted(box)
    assert len(server) == len(raws)
    assert server == stored | set(quarantined), 'messages neither stored nor quarantined'
    assert all(reason.strip(': ') for reason in quarantined.values())
    # Every kind the corpus holds is now stored, none set aside.
    assert quarantined == {}
    ordinary = {ordinary_message(n).message_id for n in range(len(cases))}
    assert ordinary <= set(box.stored_message_ids()), 'an ordinary email after a hostile one is missing'

    # A second sync adds nothing, and the audit tells the truth.
    before = _snapshot(box)
    box.sql('UPDATE email_sync_folder SET last_audit_date = NULL WHERE mailbox_id = %s', box.mailbox_id)
    box.sync()
    assert _snapshot(box) == before
    assert box.mailbox()['audit_summary'].startswith('In sync: %d of %d' % (len(raws), len(raws)))

    # What the salesperson sees, kind by kind.
    spoofed = _emails(box, [('subject', '=like', 'urgent payment %')], ['email_from', 'from_address'])
    assert spoofed and all(e['from_address'].endswith('@attacker.example') for e in spoofed)
    assert all(' via <evil' in e['email_from'] for e in spoofed)
    assert not box.rpc('res.partner', 'search', [('name', 'ilike', 'support@bank.example')])

    files = box.rpc('ir.attachment', 'search_read', [('res_model', '=', 'email.sync.message')],
                    ['name', 'mimetype'])
    assert files and not any(ch in f['name'] for f in files for ch in '\u202e\u202d\u2066\u2067\u200f')
    assert all(f['mimetype'].isascii() and '\x00' not in f['mimetype'] for f in files)

    pairs = _emails(box, [('message_id', '=like', 'shared%')], ['message_id', 'body_text'])
    assert len(pairs) == 32, 'two different emails with one Message-ID are both kept'
    originals = {e['message_id']: e['body_text'] for e in pairs if '#' not in e['message_id']}
    assert all(body.startswith('The real offer') for body in originals.values())

    dated = _emails(box, [('subject', '=like', 'odd date %')], ['date', 'parse_error'])
    assert dated and all(e['date'] for e in dated)
    impossible = [e for e in dated if e['parse_error'] and 'date could not be read' in e['parse_error']]
    assert impossible and all(e['date'] == '2026-11-20 08:00:00' for e in impossible)

    inline = _emails(box, [('subject', '=like', 'inline image %')], ['body_html'])
    assert inline and all('/web/image/' in e['body_html'] and 'cid:' not in e['body_html'].lower()
                          for e in inline)
    deep = _emails(box, [('subject', '=like', 'deep html %')], ['parse_error'])
    assert deep and all('nested more than' in e['parse_error'] for e in deep)
    utf16 = _emails(box, [('subject', '=like', 'utf-16 %')], ['body_text'])
    assert utf16 and all(e['body_text'].startswith('Grüße aus Köln') for e in utf16)
    quoted = [e['from_address'] for e in _emails(box, [('subject', '=like', 'quoted local %')],
                                                  ['from_address'])]
    assert '"jane doe 0"@repeat.example' in quoted
    assert all(address.startswith('"') for address in quoted if address)
    assert _emails(box, [('subject', '=like', 'お見積%')], ['subject']), 'broken ISO-2022-JP read'
    assert box.sql("SELECT count(*) FROM email_sync_message WHERE mailbox_id = %s "
                   "AND subject LIKE '%%' || chr(27) || '$B%%'", box.mailbox_id) == [(0,)]


def test_a_message_the_database_refuses_is_set_aside_and_the_rest_arrives(box):
    """A message PostgreSQL refuses (a constraint stands for any defect not
    known yet) between two ordinary ones, in a mailbox that is in sync."""
    _append(box, [ordinary_message(n, seed=21).raw for n in range(3)])
    box.sync()
    constraint = 'ecs_test_poison_%d' % box.mailbox_id
    box.sql("ALTER TABLE email_sync_message ADD CONSTRAINT %s CHECK (mailbox_id <> %d "
            "OR subject NOT LIKE %%s) NOT VALID" % (constraint, box.mailbox_id), '%POISON%')
    try:
        poison = ordinary_message(99, seed=21).raw.replace(b'Subject: Order 99', b'Subject: POISON 99')
        _append(box, [ordinary_message(10, seed=21).raw, poison, ordinary_message(11, seed=21).raw])
        result = box.sync()
        assert result['finished'] and box.mailbox()['state'] == 'ok'
        stored = set(box.stored_message_ids())
        assert {ordinary_message(n, seed=21).message_id for n in (10, 11)} <= stored
        server, links, quarantined = _accounted(box)
        assert server == links | set(quarantined) and len(quarantined) == 1
        assert 'database' in list(quarantined.values())[0]
        mailbox = box.mailbox()
        assert mailbox['quarantine_summary'].startswith('1 message could not be stored')
        assert 'POISON 99' in mailbox['quarantine_summary']
        assert not mailbox['audit_summary'].startswith('In sync')
        folder = box.sql("SELECT last_uid FROM email_sync_folder WHERE mailbox_id = %s "
                         "AND name = 'INBOX'", box.mailbox_id)[0][0]
        assert int(folder) == max(server), "the folder's progress moves past it"

        # Never fetched in a loop: later runs leave it alone, and audit it truthfully.
        box.sync()
        box.sync()
        attempts = box.sql('SELECT attempts FROM email_sync_quarantine WHERE mailbox_id = %s',
                           box.mailbox_id)
        assert attempts == [(1,)]
        assert box.mailbox()['audit_summary'].startswith('Out of sync: 5 of 6 messages')
        assert '1 could not be stored' in box.mailbox()['audit_summary']
        # The owner reads it over RPC too.
        rows = box.rpc('email.sync.quarantine', 'search_read', [], ['subject', 'reason'])
        assert [r['subject'] for r in rows] == ['POISON 99']
    finally:
        box.sql('ALTER TABLE email_sync_message DROP CONSTRAINT IF EXISTS %s' % constraint)

    # The defect is fixed by an upgrade: the message is tried again and stored.
    box.sql("UPDATE email_sync_quarantine SET module_version = 'before-upgrade' "
            "WHERE mailbox_id = %s", box.mailbox_id)
    box.sync()
    assert box.sql('SELECT count(*) FROM email_sync_quarantine WHERE mailbox_id = %s',
                   box.mailbox_id) == [(0,)]
    assert ordinary_message(99, seed=21).message_id in box.stored_message_ids()
    box.sql('UPDATE email_sync_folder SET last_audit_date = NULL WHERE mailbox_id = %s', box.mailbox_id)
    box.sync()
    assert box.mailbox()['audit_summary'].startswith('In sync: 6 of 6')


def test_sync_keeps_its_time_budget_inside_a_batch(box):
    """Slow messages (20 new contacts each, about half a second to store): a
    run with a 2-second budget stops after a few of them, not at the end of
    its batch (30 messages, some 15 seconds), and the next run goes on."""
    slow = []
    for n in range(30):
        to = ', '.join('Person %d.%d <p%d.%d@budget%d.example>' % (n, k, n, k, k) for k in range(20))
        slow.append(ordinary_message(n, seed=31).raw.replace(
            b'To: owner@localhost', b'To: owner@localhost, ' + to.encode()))
    _append(box, slow)
    result = box.sync(budget=2, until_done=False)
    assert result['finished'] is False
    stored_first = len(box.stored_message_ids())
    assert 0 < stored_first < 30
    assert result['seconds'] < 10, result
    box.sync()
    assert len(box.stored_message_ids()) == 30
    assert set(box.stored_links()['INBOX']) == set(box.server_links(('INBOX',))['INBOX'])

    # New mail in a mailbox that is in sync: the same, and nothing is skipped.
    _append(box, [raw.replace(b'ordinary-31-', b'later-31-').replace(b'@budget', b'@later')
                  for raw in slow])
    result = box.sync(budget=2, until_done=False)
    assert result['finished'] is False and result['seconds'] < 10, result
    assert 30 < len(box.stored_message_ids()) < 60
    box.sync()
    assert len(box.stored_message_ids()) == 60
    assert set(box.stored_links()['INBOX']) == set(box.server_links(('INBOX',))['INBOX'])
