"""The threading, contact and keep-or-drop rules as a table a support engineer reads.

Each table is one rule: a description first, then the input, then what the
rule says must come out. Threading is also played through a small in-memory
mailbox (``Mailbox``), a message at a time, so that the cases read like a
mailbox's history: "the reply arrives first, its parent later".
"""
import datetime

import pytest

from email_crm_sync.lib import address_rules as rules
from email_crm_sync.lib.contact_match import Holder, assign, choose_contact
from email_crm_sync.lib.subject_key import is_generic, subject_key
from email_crm_sync.lib.thread_match import Candidate, choose_thread, message_keys, shares_conversation


def ids(cases):
    return [c[0] for c in cases]


# --- subject keys ---------------------------------------------------------------

SUBJECT_CASES = [
    # (what is written, subject, expected key, generic)
    ('plain subject is case-folded', 'Quote 2026', 'quote 2026', False),
    ('upper case', 'QUOTE 2026', 'quote 2026', False),
    ('whitespace folded', '  Quote\t\r\n   2026 ', 'quote 2026', False),
    ('Re', 'Re: Quote 2026', 'quote 2026', False),
    ('RE upper case', 'RE: Quote 2026', 'quote 2026', False),
    ('re lower case, no space', 're:Quote 2026', 'quote 2026', False),
    ('French space before colon', 'Re : Devis', 'devis', False),
    ('Fwd', 'Fwd: Quote 2026', 'quote 2026', False),
    ('Fw', 'FW: Quote 2026', 'quote 2026', False),
    ('German AW', 'AW: Angebot', 'angebot', False),
    ('German WG', 'WG: Angebot', 'angebot', False),
    ('Scandinavian SV', 'SV: Offert', 'offert', False),
    ('Finnish VS', 'VS: Tarjous', 'tarjous', False),
    ('Dutch Antw', 'Antw: Offerte', 'offerte', False),
    ('Dutch Doorst', 'Doorst: Offerte', 'offerte', False),
    ('French TR', 'TR: Devis', 'devis', False),
    ('Spanish RV', 'RV: Presupuesto', 'presupuesto', False),
    ('Italian RIF', 'RIF: Preventivo', 'preventivo', False),
    ('Italian R', 'R: Preventivo', 'preventivo', False),
    ('Polish Odp', 'Odp: Oferta', 'oferta', False),
    ('Croatian PD', 'PD: Ponuda', 'ponuda', False),
    ('Turkish YNT', 'YNT: Teklif', 'teklif', False),
    ('Chinese reply 回复, full-width colon', '回复：会议安排', '会议安排', False),
    ('Chinese reply 答复', '答复: 会议安排', '会议安排', False),
    ('Chinese forward 转发', '转发：会议安排', '会议安排', False),
    ('Japanese reply 返信', '返信: 見積もり', '見積もり', False),
    ('Japanese forward 転送', '転送：見積もり', '見積もり', False),
    ('RE with full-width colon before Japanese', 'RE：見積もり', '見積もり', False),
    ('full-width letters Ｒｅ', 'Ｒｅ： Quote', 'quote', False),
    ('counter in brackets Re[2]', 'Re[2]: Quote', 'quote', False),
    ('counter in parentheses Re(3)', 'Re(3): Quote', 'quote', False),
    ('counter with caret Re^2', 'Re^2: Quote', 'quote', False),
    ('repeated Re: Re: Re:', 'Re:Re:Re: Quote', 'quote', False),
    ('mixed RE: Fwd:', 'RE: Fwd: Quote', 'quote', False),
    ('mixed counters RE[12]: RE(2):', 'RE[12]: RE(2): Quote', 'quote', False),
    ('many languages stacked', 'Re: Re[2]: AW: [list] TR: RV: Quote', 'quote', False),
    ('trailing (fwd)', 'Quote (fwd)', 'quote', False),
    ('list tag', '[sales] Quote 2026', 'quote 2026', False),
    ('list tag after Re', 'Re: [sales] Quote 2026', 'quote 2026', False),
    ('Re after list tag', '[EXT] Re: Quote 2026', 'quote 2026', False),
    ('everything at once', 'RE: Fwd: [sales] Quote  2026', 'quote 2026', False),
    ('a counter alone is not a list tag', '[2] Quote', '[2] quote', False),
    ('a word with a colon is not a prefix', 'Report: Q3', 'report: q3', False),
    ('Re inside a word is not a prefix', 'Resume: draft', 'resume: draft', False),
    ('R&D is not the Italian R', 'R&D: plan', 'r&d: plan', False),
    ('two CJK characters are a topic', '会议', '会议', False),
    ('empty subject', '', '', True),
    ('no subject at all (None)', None, '', True),
    ('only a prefix', 'Re: ', '', True),
    ('(no subject)', '(No Subject)', '(no subject)', True),
    ('hello', 'Hello', 'hello', True),
    ('Re: hello', 'Re: hello', 'hello', True),
    ('hi! with punctuation', 'Hi!', 'hi!', True),
    ('hello with trailing dots', 'Hello...', 'hello...', True),
    ('German Kein Betreff', 'AW: Kein Betreff', 'kein betreff', True),
    ('Chinese 无主题', '回复：无主题', '无主题', True),
    ('Fwd: (no subject)', 'Fwd: (no subject)', '(no subject)', True),
    ('two Latin letters', 'ok', 'ok', True),
    ('one CJK character', '会', '会', True),
]


@pytest.mark.parametrize('case, subject, key, generic', SUBJECT_CASES, ids=ids(SUBJECT_CASES))
def test_subject_key(case, subject, key, generic):
    assert subject_key(subject) == key
    assert is_generic(subject_key(subject)) is generic


# --- threading through a mailbox ---------------------------------------------------

ME, ANN, BOB, CARL = 'me@acme.com', 'ann@client.com', 'bob@client.com', 'carl@other.org'


def msg(message_id, subject='Quote 2026', sender=ANN, to=(ME,), reply_to=(), refs=()):
    return dict(message_id=message_id, subject=subject, sender=sender, to=to,
                reply_to=reply_to, refs=refs)


class Mailbox:
    """Threads as the addon stores them: the ids each has seen, its subject keys
    and participants; a higher thread id is a more recent thread."""

    def __init__(self):
        self.threads = {}

    def place(self, m):
        keys = set(message_keys(m['message_id'], m['reply_to'], m['refs']))
        participants = frozenset((m['sender'],) + tuple(m['to']))
        key = subject_key(m['subject'])
        by_key = [Candidate(tid) for tid, t in self.threads.items() if t['keys'] & keys]
        by_subject = [Candidate(tid, frozenset(t['participants']))
                      for tid, t in sorted(self.threads.items(), reverse=True) if key in t['subjects']]
        thread_id = choose_thread(by_key, by_subject, m['subject'], participants, m['sender'])
        if thread_id is None:
            thread_id = len(self.threads) + 1
            self.threads[thread_id] = dict(keys=set(), subjects=set(), participants=set())
        thread = self.threads[thread_id]
        thread['keys'] |= keys
        thread['subjects'].add(key)
        thread['participants'] |= participants
        return thread_id


THREAD_CASES = [
    # (what happened, messages in arrival order, thread of each message)
    ('reply by In-Reply-To', [msg('<a@x>'), msg('<b@x>', sender=ME, to=(ANN,), reply_to=('<a@x>',))],
     [1, 1]),
    ('reply by References only', [msg('<a@x>'), msg('<b@x>', sender=ME, to=(ANN,), refs=('<a@x>',))],
     [1, 1]),
    ('reply under a new subject joins by its ids',
     [msg('<a@x>'), msg('<b@x>', subject='Something else', sender=CARL, to=(BOB,), reply_to=('<a@x>',))],
     [1, 1]),
    ('reply with a generic subject joins by its ids',
     [msg('<a@x>', subject='Hello'), msg('<b@x>', subject='Re: Hello', reply_to=('<a@x>',))], [1, 1]),
    ('ids compared without surrounding spaces',
     [msg('<a@x>'), msg('<b@x>', reply_to=(' <a@x> ',))], [1, 1]),
    ('late parent joins its child\'s thread',
     [msg('<b@x>', sender=ME, to=(ANN,), reply_to=('<a@x>',)), msg('<a@x>', subject='Other', sender=CARL)],
     [1, 1]),
    ('late parent of a grandchild',
     [msg('<c@x>', reply_to=('<b@x>',), refs=('<a@x>', '<b@x>')), msg('<a@x>', subject='Other', sender=CARL)],
     [1, 1]),
    ('late parent whose ids touch two threads: the oldest',
     [msg('<b@x>', subject='One', reply_to=('<a@x>',)),
      msg('<d@x>', subject='Two', sender=CARL, reply_to=('<e@x>',)),
      msg('<a@x>', subject='Three', sender=BOB, reply_to=('<e@x>',))],
     [1, 2, 1]),
    ('ids touching two threads: the oldest wins',
     [msg('<a@x>', subject='One'), msg('<b@x>', subject='Two', sender=CARL),
      msg('<c@x>', subject='Three', refs=('<b@x>', '<a@x>'))],
     [1, 2, 1]),
    ('ids touching two threads, given in the other order: still the oldest',
     [msg('<a@x>', subject='One'), msg('<b@x>', subject='Two', sender=CARL),
      msg('<c@x>', subject='Three', refs=('<a@x>', '<b@x>'))],
     [1, 2, 1]),
    ('after a conflict the threads stay apart: an id only the newer holds leads there',
     [msg('<a@x>', subject='One'), msg('<b@x>', subject='Two', sender=CARL, reply_to=('<y@x>',)),
      msg('<c@x>', subject='Three', refs=('<b@x>', '<a@x>')),
      msg('<d@x>', subject='Four', sender=BOB, reply_to=('<y@x>',))],
     [1, 2, 1, 2]),
    ('unrelated subjects, no ids in common', [msg('<a@x>'), msg('<b@x>', subject='Invoice 7')], [1, 2]),
    ('same subject, sender and one more in common',
     [msg('<a@x>', to=(ME, BOB)), msg('<b@x>', subject='RE: Quote 2026', to=(ME,))], [1, 1]),
    ('same subject written in German by the other side',
     [msg('<a@x>', sender=ME, to=(ANN,)), msg('<b@x>', subject='AW: Quote 2026', to=(ME,))], [1, 1]),
    ('same subject behind a list tag',
     [msg('<a@x>', subject='[sales] Quote 2026', to=(ME, BOB)), msg('<b@x>', sender=BOB, to=(ME,))], [1, 1]),
    ('same subject, only the sender in common',
     [msg('<a@x>', to=(BOB,)), msg('<b@x>', subject='Re: Quote 2026', to=(ME,))], [1, 2]),
    ('same subject, two in common but not the sender',
     [msg('<a@x>', to=(ME, BOB)), msg('<b@x>', subject='Re: Quote 2026', sender=CARL, to=(ME, BOB))],
     [1, 2]),
    ('same generic subject, same people',
     [msg('<a@x>', subject='Hello'), msg('<b@x>', subject='Re: hello')], [1, 2]),
    ('both without a subject, same people',
     [msg('<a@x>', subject=''), msg('<b@x>', subject='')], [1, 2]),
    ('same subject: the thread that shares the conversation, not merely the newest',
     [msg('<a@x>'), msg('<b@x>', sender=BOB), msg('<c@x>', subject='Re: Quote 2026', to=(ME, CARL))],
     [1, 2, 1]),
    ('same subject, two threads sharing it: the newest',
     [msg('<a@x>', to=(ME,)), msg('<b@x>', to=(BOB,)), msg('<c@x>', to=(ME, BOB))], [1, 2, 2]),
    ('ids win over the subject',
     [msg('<a@x>', subject='One'), msg('<b@x>', subject='Two'),
      msg('<c@x>', subject='Re: Two', reply_to=('<a@x>',))],
     [1, 2, 1]),
]


@pytest.mark.parametrize('case, messages, threads', THREAD_CASES, ids=ids(THREAD_CASES))
def test_threading(case, messages, threads):
    mailbox = Mailbox()
    assert [mailbox.place(m) for m in messages] == threads


CHOOSE_THREAD_CASES = [
    # (what is known, threads by id, threads by subject, subject, participants, sender, thread)
    ('nothing found', [], [], 'Quote', {ANN, ME}, ANN, None),
    ('ids in two threads, given newest first', [Candidate(9), Candidate(4)], [], 'Quote', {ANN, ME}, ANN, 4),
    ('ids found, subject candidates ignored', [Candidate(9)], [Candidate(3, frozenset({ANN, ME}))],
     'Quote', {ANN, ME}, ANN, 9),
    ('subject candidate sharing the conversation', [], [Candidate(3, frozenset({ANN, ME}))],
     'Re: Quote', {ANN, ME}, ANN, 3),
    ('subject candidate, no sender known', [], [Candidate(3, frozenset({ANN, ME}))],
     'Re: Quote', {ANN, ME}, None, None),
    ('subject candidate, generic subject', [], [Candidate(3, frozenset({ANN, ME}))],
     '(no subject)', {ANN, ME}, ANN, None),
    ('first sharing candidate in the given order', [],
     [Candidate(8, frozenset({BOB, ME})), Candidate(5, frozenset({ANN, ME})), Candidate(2, frozenset({ANN, ME}))],
     'Quote', {ANN, ME}, ANN, 5),
]


@pytest.mark.parametrize('case, by_key, by_subject, subject, participants, sender, thread',
                         CHOOSE_THREAD_CASES, ids=ids(CHOOSE_THREAD_CASES))
def test_choose_thread(case, by_key, by_subject, subject, participants, sender, thread):
    assert choose_thread(by_key, by_subject, subject, frozenset(participants), sender) == thread


SHARES_CASES = [
    # (who, thread participants, message participants, sender, shares)
    ('sender and one more', {ANN, ME, BOB}, {ANN, ME}, ANN, True),
    ('sender and two more', {ANN, ME, BOB}, {ANN, ME, BOB, CARL}, ANN, True),
    ('only the sender', {ANN, BOB}, {ANN, ME}, ANN, False),
    ('two, not the sender', {ANN, ME, BOB}, {CARL, ME, BOB}, CARL, False),
    ('nobody', {ANN, BOB}, {CARL, ME}, CARL, False),
]


@pytest.mark.parametrize('case, thread, message, sender, shares', SHARES_CASES, ids=ids(SHARES_CASES))
def test_shares_conversation(case, thread, message, sender, shares):
    assert shares_conversation(thread, message, sender) is shares


def test_message_keys_are_stripped_deduplicated_and_ordered():
    assert message_keys(' <c@x> ', ['<b@x>', ''], ['<a@x>', '<b@x>', None, '  ', '<c@x>']) == (
        '<c@x>', '<b@x>', '<a@x>')


# --- which contact an address goes to ------------------------------------------

OLD, MID, NEW = (datetime.datetime(2019, 1, 1), datetime.datetime(2021, 6, 1, 12, 30),
                 datetime.datetime(2024, 3, 9, 8, 0, 0, 250))

CONTACT_CASES = [
    # (who holds the address, holders, partner chosen)
    ('nobody', [], None),
    ('one contact, additional', [Holder(7, False, MID)], 7),
    ('primary on a newer contact beats additional on an older one', [Holder(3, False, OLD), Holder(9, True, NEW)],
     9),
    ('primary beats additional whatever the order', [Holder(9, True, NEW), Holder(3, False, OLD)], 9),
    ('additional on two: the oldest', [Holder(9, False, OLD), Holder(3, False, NEW)], 9),
    ('additional on two, same date: the lowest id', [Holder(9, False, MID), Holder(3, False, MID)], 3),
    ('additional on two, no dates: the lowest id', [Holder(9, False), Holder(3, False)], 3),
    ('additional on two, dates as Odoo strings', [Holder(5, False, '2022-01-01 00:00:00'),
                                                  Holder(8, False, '2020-12-31 23:59:59')], 8),
    ('dates to the microsecond', [Holder(5, False, datetime.datetime(2024, 3, 9, 8, 0, 0, 251)),
                                  Holder(8, False, NEW)], 8),
    ('primary on two (duplicate contacts): the oldest primary',
     [Holder(4, True, NEW), Holder(6, True, MID), Holder(1, False, OLD)], 6),
    ('archived contact holding it as primary keeps it', [Holder(12, True, OLD), Holder(15, False, NEW)], 12),
    ('archived oldest contact holding it as additional keeps it',
     [Holder(15, False, NEW), Holder(12, False, OLD)], 12),
]


@pytest.mark.parametrize('case, holders, partner', CONTACT_CASES, ids=ids(CONTACT_CASES))
def test_choose_contact(case, holders, partner):
    assert choose_contact(holders) == partner
    assert choose_contact(reversed(holders)) == partner


def test_assign_leaves_out_addresses_nobody_holds():
    assert assign({
        ANN: [Holder(3, False, OLD), Holder(9, True, NEW)],
        BOB: [Holder(9, False, NEW), Holder(3, False, OLD)],
        CARL: [],
    }) == {ANN: 9, BOB: 3}


# --- mail that is not synced at all ----------------------------------------------

ACME = frozenset({'acme.com'})
OWN = frozenset({ME, 'me@gmail.com'})
SPAM = frozenset({'spam.com', 'pest@annoying.org'})

DROP_CASES = [
    # (what happened, senders, recipients, rules, reason or None to keep)
    ('colleague writes to me', ['kim@acme.com'], [ME], dict(own_domains=ACME), rules.INTERNAL),
    ('colleague in a subdomain', ['kim@eu.acme.com'], [ME], dict(own_domains=ACME), rules.INTERNAL),
    ('internal, with a client in cc', ['kim@acme.com'], [ME, ANN], dict(own_domains=ACME), None),
    ('a look-alike domain is not internal', ['kim@notacme.com'], [ME], dict(own_domains=ACME), None),
    ('a client writes to me', [ANN], [ME], dict(own_domains=ACME), None),
    ('no company domains known', ['kim@acme.com'], [ME], dict(own_domains=frozenset()), None),
    ('user on gmail.com gets mail from another gmail.com address',
     ['friend@gmail.com'], ['me@gmail.com'], dict(own_domains=frozenset({'gmail.com'})), None),
    ('gmail.com next to the company domain does not count',
     ['friend@gmail.com'], ['me@gmail.com'], dict(own_domains=frozenset({'acme.com', 'gmail.com'})), None),
    ('gmail.com next to the company domain, mail among the company',
     ['kim@acme.com'], [ME], dict(own_domains=frozenset({'acme.com', 'gmail.com'})), rules.INTERNAL),
    ('outlook.com and yahoo.com never count either',
     ['a@outlook.com'], ['b@yahoo.com'], dict(own_domains=frozenset({'outlook.com', 'yahoo.com'})), None),
    ('blocked sole sender writes to me', ['pest@annoying.org'], [ME], dict(own=OWN, blocked=SPAM), rules.BLOCKED),
    ('blocked sender writes to my other address', ['pest@annoying.org'], ['me@gmail.com'],
     dict(own=OWN, blocked=SPAM), rules.BLOCKED),
    ('blocked sender with a non-blocked cc is kept', ['pest@annoying.org'], [ME, ANN],
     dict(own=OWN, blocked=SPAM), None),
    ('blocked sender writes to a colleague of mine', ['pest@annoying.org'], [ME, 'kim@acme.com'],
     dict(own=OWN, own_domains=ACME, blocked=SPAM), None),
    ('blocked domain', ['offers@spam.com'], [ME], dict(own=OWN, blocked=SPAM), rules.BLOCKED),
    ('blocked domain, from a subdomain', ['offers@mx.spam.com'], [ME], dict(own=OWN, blocked=SPAM),
     rules.BLOCKED),
    ('blocked sender, other recipients blocked too', ['offers@spam.com'], [ME, 'pest@annoying.org'],
     dict(own=OWN, blocked=SPAM), rules.BLOCKED),
    ('two blocked senders', ['offers@spam.com', 'pest@annoying.org'], [ME], dict(own=OWN, blocked=SPAM),
     rules.BLOCKED),
    ('a blocked and a non-blocked sender', ['offers@spam.com', ANN], [ME], dict(own=OWN, blocked=SPAM), None),
    ('another address of a blocked person\'s domain is not blocked', ['boss@annoying.org'], [ME],
     dict(own=OWN, blocked=SPAM), None),
    ('I write to a blocked address', [ME], ['pest@annoying.org'], dict(own=OWN, blocked=SPAM), None),
    ('empty block list', ['pest@annoying.org'], [ME], dict(own=OWN, blocked=frozenset()), None),
    ('never-log address as recipient', [ANN], [ME, 'ceo@secret.com'],
     dict(own=OWN, never_log=frozenset({'ceo@secret.com'})), rules.NEVER_LOG),
    ('never-log domain in cc', [ANN], [ME, 'x@lawyers.com'], dict(own=OWN, never_log=frozenset({'lawyers.com'})),
     rules.NEVER_LOG),
    ('never-log sender', ['x@lawyers.com'], [ME], dict(own=OWN, never_log=frozenset({'lawyers.com'})),
     rules.NEVER_LOG),
    ('never-log address, someone else from its domain is fine', [ANN], [ME, 'cfo@secret.com'],
     dict(own=OWN, never_log=frozenset({'ceo@secret.com'})), None),
    ('empty addresses are ignored', ['', 'kim@acme.com'], [ME, ''], dict(own_domains=ACME), rules.INTERNAL),
    ('nobody at all', [], [], dict(own_domains=ACME, blocked=SPAM), None),
]


@pytest.mark.parametrize('case, senders, recipients, kwargs, reason', DROP_CASES, ids=ids(DROP_CASES))
def test_drop_reason(case, senders, recipients, kwargs, reason):
    assert rules.drop_reason(senders, recipients, **kwargs) == reason


# --- impersonal addresses --------------------------------------------------------

IMPERSONAL_CASES = [
    # (which address, address, patterns (None: the defaults), impersonal)
    ('noreply', 'noreply@shop.com', None, True),
    ('no-reply', 'no-reply@shop.com', None, True),
    ('donotreply', 'donotreply@shop.com', None, True),
    ('do_not_reply', 'do_not_reply@shop.com', None, True),
    ('no.reply', 'no.reply@shop.com', None, True),
    ('noreply inside the local part', 'billing-noreply@shop.com', None, True),
    ('noreply upper case, already normalised', rules.normalize('NoReply@Shop.com'), None, True),
    ('noreply in a +tag', 'ann+noreply@shop.com', None, True),
    ('info', 'info@shop.com', None, True),
    ('contact', 'contact@shop.com', None, True),
    ('hello', 'hello@shop.com', None, True),
    ('support', 'support@shop.com', None, True),
    ('feedback', 'feedback@shop.com', None, True),
    ('service', 'service@shop.com', None, True),
    ('help', 'help@shop.com', None, True),
    ('invite', 'invite@shop.com', None, True),
    ('invites', 'invites@shop.com', None, True),
    ('welcome', 'welcome@shop.com', None, True),
    ('alerts', 'alerts@shop.com', None, True),
    ('team', 'team@shop.com', None, True),
    ('notification', 'notification@shop.com', None, True),
    ('notifications', 'notifications@shop.com', None, True),
    ('news', 'news@shop.com', None, True),
    ('mailer-daemon', 'mailer-daemon@shop.com', None, True),
    ('postmaster', 'postmaster@shop.com', None, True),
    ('info with a +tag', 'info+eu@shop.com', None, True),
    ('equals is the whole local part: information', 'information@shop.com', None, False),
    ('equals is the whole local part: info.sales', 'info.sales@shop.com', None, False),
    ('equals is the whole local part: newsletter', 'newsletter@shop.com', None, False),
    ('equals is the whole local part: teamlead', 'teamlead@shop.com', None, False),
    ('a person', 'ann@client.com', None, False),
    ('a person whose domain says noreply', 'ann@noreply.com', None, False),
    ('custom equals', 'billing@shop.com', (('equals', 'billing'),), True),
    ('custom list replaces the defaults', 'noreply@shop.com', (('equals', 'billing'),), False),
    ('custom contains', 'statusbot@shop.com', (('contains', 'bot'),), True),
    ('custom pattern in upper case', 'billing@shop.com', (('equals', ' Billing '),), True),
    ('custom empty pattern matches nothing', 'ann@client.com', (('contains', ''), ('equals', None)), False),
    ('custom unknown kind matches nothing', 'billing@shop.com', (('startswith', 'bill'),), False),
    ('no patterns at all', 'noreply@shop.com', (), False),
    ('custom list from settings text, *bot*', 'statusbot@shop.com', rules.parse_impersonal('*Bot*\nbilling'),
     True),
    ('custom list from settings text, billing', 'billing+eu@shop.com', rules.parse_impersonal('*bot*, Billing@'),
     True),
    ('custom list from settings text, other', 'info@shop.com', rules.parse_impersonal('*bot*; billing'), False),
]


@pytest.mark.parametrize('case, address, patterns, impersonal', IMPERSONAL_CASES, ids=ids(IMPERSONAL_CASES))
def test_is_impersonal(case, address, patterns, impersonal):
    if patterns is None:
        assert rules.is_impersonal(address) is impersonal
    else:
        assert rules.is_impersonal(address, patterns) is impersonal


def test_default_impersonal_patterns_survive_their_settings_text():
    assert rules.parse_impersonal(rules.impersonal_text()) == rules.DEFAULT_IMPERSONAL


# --- who may become a contact ------------------------------------------------------

CREATE_CASES = [
    # (who, address, rules, may create)
    ('a client', ANN, dict(own=OWN, own_domains=ACME), True),
    ('my own address', ME, dict(own=OWN, own_domains=ACME), False),
    ('my own gmail.com address', 'me@gmail.com', dict(own=OWN, own_domains=frozenset({'gmail.com'})), False),
    ('a colleague', 'kim@acme.com', dict(own=OWN, own_domains=ACME), False),
    ('a colleague in a subdomain', 'kim@eu.acme.com', dict(own=OWN, own_domains=ACME), False),
    ('a gmail.com client when the company lists gmail.com', 'friend@gmail.com',
     dict(own=OWN, own_domains=frozenset({'acme.com', 'gmail.com'})), True),
    ('an impersonal sender', 'noreply@shop.com', dict(own=OWN, own_domains=ACME), False),
    ('an impersonal sender with a +tag', 'support+1234@shop.com', dict(own=OWN, own_domains=ACME), False),
    ('info@ allowed by a custom list', 'info@shop.com', dict(own=OWN, impersonal=(('contains', 'noreply'),)),
     True),
    ('a deleted contact (forgotten)', ANN, dict(own=OWN, own_domains=ACME, forgotten=frozenset({ANN})), False),
    ('someone else at a deleted contact\'s domain', BOB,
     dict(own=OWN, own_domains=ACME, forgotten=frozenset({ANN})), True),
    ('no address', '', dict(own=OWN), False),
]


@pytest.mark.parametrize('case, address, kwargs, allowed', CREATE_CASES, ids=ids(CREATE_CASES))
def test_may_create_contact(case, address, kwargs, allowed):
    assert rules.may_create_contact(address, **kwargs) is allowed


NAME_CASES = [
    # (what is known, display name, address, contact name)
    ('display name', 'Ann Smith', 'ann@client.com', 'Ann Smith'),
    ('display name in quotes', '"Smith, Ann"', 'ann@client.com', 'Smith, Ann'),
    ('display name in single quotes, spaces', "  'Ann Smith' ", 'ann@client.com', 'Ann Smith'),
    ('no display name: from the address', None, 'mary.o-neil@x.com', 'Mary O-Neil'),
    ('blank display name', '  ', 'john_smith@x.com', 'John Smith'),
    ('display name is the address', 'ANN@Client.com', 'ann@client.com', 'Ann'),
    ('display name holds an address', 'ann at <ann@client.com>', 'ann@client.com', 'Ann'),
    ('+tag left out', None, 'j.smith+crm@x.com', 'J Smith'),
    ('nothing to make a name of', None, '__@x.com', '__@x.com'),
]


@pytest.mark.parametrize('case, display_name, address, name', NAME_CASES, ids=ids(NAME_CASES))
def test_contact_name(case, display_name, address, name):
    assert rules.contact_name(display_name, address) == name


# --- what people type into settings and forms ------------------------------------

NORMALIZE_CASES = [
    # (what is typed, text, stored form)
    ('display name and brackets', '  Bob <BOB@Acme.COM> ', 'bob@acme.com'),
    ('quoted display name with a comma', '"Smith, Bob" <Bob.Smith@Acme.com>', 'bob.smith@acme.com'),
    ('brackets only', '<bob@acme.com>', 'bob@acme.com'),
    ('mailto link', 'MAILTO:Bob@X.com', 'bob@x.com'),
    ('trailing dot on the domain', 'bob@acme.com.', 'bob@acme.com'),
    ('punycode domain', 'bob@xn--mller-kva.de', 'bob@müller.de'),
    ('+tag kept', 'Bob+CRM@acme.com', 'bob+crm@acme.com'),
    ('not an address', 'not an address', ''),
    ('no domain', 'bob@', ''),
    ('no local part', '@acme.com', ''),
    ('space inside', 'bob smith@x.com', ''),
    ('nothing', None, ''),
]


@pytest.mark.parametrize('case, text, address', NORMALIZE_CASES, ids=ids(NORMALIZE_CASES))
def test_normalize(case, text, address):
    assert rules.normalize(text) == address


ENTRY_CASES = [
    # (settings text, text, entries)
    ('one per line', 'spam.com\npest@annoying.org\n', {'spam.com', 'pest@annoying.org'}),
    ('commas, semicolons and spaces', 'a.com, b.com;c.com  d.com', {'a.com', 'b.com', 'c.com', 'd.com'}),
    ('leading @ on a domain', '@Spam.com', {'spam.com'}),
    ('addresses normalised', 'Pest@Annoying.ORG, <x@y.com>', {'pest@annoying.org', 'x@y.com'}),
    ('trailing dot on a domain', 'example.net.', {'example.net'}),
    ('blank lines and duplicates', '\n\nspam.com\n\nSPAM.COM\n', {'spam.com'}),
    ('a lone @ is nothing', '@', set()),
    ('empty', '', set()),
    ('none', None, set()),
]


@pytest.mark.parametrize('case, text, entries', ENTRY_CASES, ids=ids(ENTRY_CASES))
def test_parse_entries(case, text, entries):
    assert rules.parse_entries(text) == frozenset(entries)


def test_parsed_entries_drive_the_rules():
    blocked = rules.parse_entries('@Spam.com\nPest@Annoying.org')
    assert rules.drop_reason(['offers@mx.spam.com'], [ME], own=OWN, blocked=blocked) == rules.BLOCKED
    assert rules.drop_reason(['pest@annoying.org'], [ME], own=OWN, blocked=blocked) == rules.BLOCKED
    assert rules.drop_reason(['boss@annoying.org'], [ME], own=OWN, blocked=blocked) is None
