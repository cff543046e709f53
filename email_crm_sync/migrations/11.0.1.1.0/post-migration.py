"""Mail stored by earlier versions, brought to what this version promises:
Bcc recipients out of participants and contact links, neutral names for
attachments, chatter and activities of mail, no indexed attachment text,
no followers of conversations, no tracking notes in conversations' feeds."""
from email.utils import getaddresses

from odoo import SUPERUSER_ID, api

from odoo.addons.email_crm_sync.lib import address_rules
from odoo.addons.email_crm_sync.sync.contact_linker import ContactLinker

MAIL_MODELS = ('email.sync.message', 'email.sync.thread', 'email.sync.composer')
NAMED_MODELS = ('email.sync.message', 'email.sync.thread')


def _participants(*texts):
    addresses = {address_rules.normalize(a) for _n, a in getaddresses([t for t in texts if t])}
    return '\n'.join(sorted(a for a in addresses if a))


def migrate(cr, version):
    if not version:
        return
    cr.execute("UPDATE ir_attachment SET index_content = NULL, res_name = 'Email' "
               "WHERE res_model IN %s", (MAIL_MODELS,))
    cr.execute("UPDATE mail_message SET record_name = 'Email conversation' WHERE model IN %s",
               (NAMED_MODELS,))
    cr.execute("UPDATE mail_activity SET res_name = 'Email conversation' WHERE res_model IN %s",
               (NAMED_MODELS,))
    cr.execute('DELETE FROM mail_followers WHERE res_model IN %s', (NAMED_MODELS,))
    # Managers no longer read everyone's folders (their names tell what mail is about);
    # the rule was data loaded once, so the upgrade removes it.
    env = api.Environment(cr, SUPERUSER_ID, {})
    rule = env.ref('email_crm_sync.email_sync_folder_rule_manager_read', raise_if_not_found=False)
    if rule:
        rule.unlink()
    cr.execute("""DELETE FROM mail_message WHERE model = 'email.sync.thread'
                  AND (body LIKE '%%Your email of%%was opened%%'
                       OR body LIKE '%%A link in your email of%%was clicked%%')""")
    # Bcc recipients: out of the emails' and conversations' participants and links.
    cr.execute("""SELECT id, thread_id, email_from, email_to, email_cc FROM email_sync_message
                  WHERE email_bcc IS NOT NULL AND filtered_reason IS NULL""")
    threads = set()
    for email_id, thread_id, *texts in cr.fetchall():
        cr.execute('UPDATE email_sync_message SET participants = %s WHERE id = %s',
                   (_participants(*texts), email_id))
        if thread_id:
            threads.add(thread_id)
    if not threads:
        return
    for thread_id in threads:
        cr.execute("""UPDATE email_sync_thread t SET participants = (
                          SELECT string_agg(DISTINCT a, E'\\n' ORDER BY a)
                            FROM email_sync_message m,
                                 unnest(string_to_array(m.participants, E'\\n')) a
                           WHERE m.thread_id = t.id AND a <> '')
                      WHERE t.id = %s""", (thread_id,))
    threads = env['email.sync.thread'].with_context(active_test=False).browse(list(threads))
    for thread in threads:
        _rename_correspondents(cr, thread)
    threads._rematch_contacts()


def _rename_correspondents(cr, thread):
    """The conversation's people named again from From, To and Cc only."""
    cr.execute('SELECT email_from, email_to, email_cc FROM email_sync_message '
               'WHERE thread_id = %s ORDER BY date NULLS FIRST, id', (thread.id,))
    names = {}
    for texts in cr.fetchall():
        for name, address in getaddresses([t for t in texts if t]):
            address = address_rules.normalize(address)
            if address and (address not in names or (name and not names[address])):
                names[address] = name
    linker = ContactLinker(thread.mailbox_id)
    people = [names[a] or a for a in names if linker.linkable(a)]
    cr.execute('UPDATE email_sync_thread SET correspondents = %s WHERE id = %s',
               (', '.join(people)[:500], thread.id))
