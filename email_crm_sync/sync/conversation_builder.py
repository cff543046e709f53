"""From stored emails to conversations in the CRM: the mail rules (what is
not synced at all), threading, contacts, deals.

Runs inside the sync's batch transaction, so a batch is stored, threaded
and linked together or not at all. Every lookup is an indexed one (thread
keys, subject keys, normalised addresses): the cost of an email does not
grow with the number of emails stored.
"""
from email.utils import getaddresses

from ..lib import address_rules, subject_key, thread_match
from .contact_linker import ContactLinker

SUBJECT_CANDIDATES = 20   # recent threads with the same subject key worth comparing


class ConversationBuilder:
    def __init__(self, mailbox):
        self.mailbox = mailbox
        self.env = mailbox.env
        self.cr = mailbox.env.cr
        rules = mailbox.user_id.company_id._email_sync_rules()
        self.own = mailbox._own_addresses()
        self.own_domains = rules['own_domains']
        self.never_log = rules['never_log']
        self.blocked = mailbox.user_id._email_sync_blocked_entries()
        self.contacts = ContactLinker(mailbox)
        # New conversations take the mailbox's sharing as it is now; existing ones keep theirs.
        self.sharing, self.share_level = mailbox.sharing, mailbox.share_level

    # --- the mail rules ----------------------------------------------------
    def drop_reason(self, parsed):
        """Why a parsed email is not synced at all ('internal', 'blocked',
        'never_log'), or None."""
        senders = [a.email for a in parsed.from_] or (
            [parsed.sender.email] if parsed.sender else [])
        recipients = [a.email for a in parsed.to + parsed.cc + parsed.bcc]
        return address_rules.drop_reason(senders, recipients, self.own, self.own_domains,
                                         self.blocked, self.never_log)

    # --- threads, contacts, deals --------------------------------------------
    def add(self, names_by_message):
        """Place newly stored emails in threads and link those threads.

        ``names_by_message``: {email record id: {address: display name}}.
        Emails placed already (a re-run after a crash) are left where they are.
        """
        if not names_by_message:
            return self.env['email.sync.thread']
        self.cr.execute("""
            SELECT id, message_id, in_reply_to, "references", subject, date, direction,
                   has_attachments, participants, from_address
              FROM email_sync_message
             WHERE id IN %s AND mailbox_id = %s AND thread_id IS NULL AND filtered_reason IS NULL
             ORDER BY date NULLS FIRST, id
        """, (tuple(names_by_message), self.mailbox.id))
        touched = {}
        for row in self.cr.dictfetchall():
            thread_id = self._place(row, names_by_message[row['id']])
            touched.setdefault(thread_id, {}).update(names_by_message[row['id']])
        for thread_id, names in touched.items():
            self.contacts.link_thread(thread_id, names)
        threads = self.env['email.sync.thread'].browse(list(touched))
        threads.invalidate_cache()
        threads._auto_link_deals()
        return threads

    def add_unplaced(self, limit=1000):
        """Thread emails stored without a thread (stored before conversations
        existed, say). Returns how many were placed."""
        self.cr.execute("""
            SELECT id, email_from, email_to, email_cc FROM email_sync_message
             WHERE mailbox_id = %s AND thread_id IS NULL AND filtered_reason IS NULL
               AND NOT deleted_by_user
             ORDER BY id LIMIT %s
        """, (self.mailbox.id, limit))
        rows = self.cr.fetchall()
        names_by_message = {}
        for email_id, *texts in rows:
            pairs = getaddresses([t for t in texts if t])
            names_by_message[email_id] = {
                address_rules.normalize(address): name for name, address in pairs
                if address_rules.normalize(address)}
        self.add(names_by_message)
        return len(rows)

    def _place(self, email, names):
        keys = thread_match.message_keys(
            email['message_id'], (email['in_reply_to'] or '').split(),
            (email['references'] or '').split())
        participants = frozenset((email['participants'] or '').split())
        sender = email['from_address']
        by_key, by_subject = self._threads_by_key(keys), []
        key = subject_key.subject_key(email['subject'])
        if not by_key and not subject_key.is_generic(key):
            by_subject = self._threads_by_subject(key)
        thread_id = thread_match.choose_thread(by_key, by_subject, email['subject'], participants,
                                               sender)
        if thread_id is None:
            thread_id = self._new_thread(email, key)
        self._add_to_thread(thread_id, email, participants, names)
        self.cr.execute(
            'INSERT INTO email_sync_thread_key (mailbox_id, key, thread_id) '
            'SELECT %s, unnest(%s::varchar[]), %s ON CONFLICT DO NOTHING',
            (self.mailbox.id, list(keys), thread_id))
        self.cr.execute('UPDATE email_sync_message SET thread_id = %s WHERE id = %s',
                        (thread_id, email['id']))
        return thread_id

    def _threads_by_key(self, keys):
        if not keys:
            return []
        self.cr.execute('SELECT DISTINCT thread_id FROM email_sync_thread_key '
                        'WHERE mailbox_id = %s AND key IN %s', (self.mailbox.id, tuple(keys)))
        return [thread_match.Candidate(row[0]) for row in self.cr.fetchall()]

    def _threads_by_subject(self, key):
        self.cr.execute("""
            SELECT id, participants FROM email_sync_thread
             WHERE mailbox_id = %s AND subject_key = %s AND user_id = %s
             ORDER BY last_date DESC NULLS LAST, id DESC LIMIT %s
        """, (self.mailbox.id, key, self.mailbox.user_id.id, SUBJECT_CANDIDATES))
        return [thread_match.Candidate(thread_id, frozenset((participants or '').split()))
                for thread_id, participants in self.cr.fetchall()]

    def _new_thread(self, email, key):
        uid = self.env.uid
        self.cr.execute("""
            INSERT INTO email_sync_thread (name, subject_key, mailbox_id, user_id, active,
                message_count, first_date, last_date, participants, correspondents,
                has_attachments, has_incoming, has_outgoing, visibility, share_level,
                create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, true, 0, %s, %s, '', '', false, false, false, %s, %s,
                    %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
            RETURNING id
        """, (email['subject'] or '', key, self.mailbox.id, self.mailbox.user_id.id,
              email['date'], email['date'], self.sharing, self.share_level, uid, uid))
        return self.cr.fetchone()[0]

    def _add_to_thread(self, thread_id, email, participants, names):
        self.cr.execute('SELECT participants, correspondents, first_date FROM email_sync_thread '
                        'WHERE id = %s', (thread_id,))
        known, correspondents, first_date = self.cr.fetchone()
        known = (known or '').split()
        added = [a for a in sorted(participants) if a not in known]
        people = [n for n in (correspondents or '').split(', ') if n]
        for address in added:
            if self.contacts.linkable(address):
                people.append(address_rules.shown_name(names.get(address), address))
        values = {
            'participants': '\n'.join(known + added),
            'correspondents': ', '.join(people)[:500],
            'date': email['date'],
            'in': email['direction'] == 'in',
            'out': email['direction'] == 'out',
            'attachments': bool(email['has_attachments']),
            'id': thread_id,
        }
        # The earliest email names the thread (a first import sees replies before originals).
        earlier = email['date'] and (not first_date or email['date'] < first_date)
        values['name'] = (email['subject'] or '') if earlier else None
        self.cr.execute("""
            UPDATE email_sync_thread SET
                message_count = message_count + 1,
                first_date = LEAST(first_date, %(date)s),
                last_date = GREATEST(last_date, %(date)s),
                name = COALESCE(%(name)s, name),
                participants = %(participants)s,
                correspondents = %(correspondents)s,
                has_incoming = has_incoming OR %(in)s,
                has_outgoing = has_outgoing OR %(out)s,
                has_attachments = has_attachments OR %(attachments)s,
                active = true, hidden_reason = NULL,
                write_date = now() at time zone 'UTC'
             WHERE id = %(id)s
        """, values)


def display_names(parsed):
    """{address: display name} of every participant of a parsed email but
    its Bcc recipients, who are the owner's to know."""
    names = {}
    for address in parsed.from_ + parsed.to + parsed.cc:
        if address.email and (address.name or address.email not in names):
            names[address.email] = address.name or names.get(address.email, '')
    return names

