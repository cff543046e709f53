"""A salesperson with a mailbox (INBOX and Sent listed, no server behind it),
for benchmark tasks that store mail without syncing it."""


def salesperson_with_mailbox(env, name, login, address, mailbox_name):
    """Returns (user, mailbox as superuser, {folder name: folder})."""
    from odoo.addons.email_crm_sync.lib.imap_session import FolderInfo
    groups = [env.ref('base.group_user').id, env.ref('sales_team.group_sale_salesman').id]
    user = env['res.users'].with_context(no_reset_password=True).create({
        'name': name, 'login': login, 'password': login + '-pw', 'email': address,
        'groups_id': [(6, 0, groups)]})
    custom = env.ref('email_crm_sync.email_sync_provider_custom')
    mailbox = env['email.sync.mailbox'].sudo(user).create({
        'name': mailbox_name, 'email': address, 'provider_id': custom.id,
        'imap_host': '127.0.0.1', 'imap_port': 993, 'imap_security': 'ssl',
        'login': address, 'password': 'unused', 'lookback': 'all'})
    env['email.sync.folder']._merge_listing(mailbox, [
        FolderInfo('INBOX', '/', (), 'inbox', True),
        FolderInfo('Sent', '/', ('\\Sent',), 'sent', True)])
    mailbox = mailbox.sudo()
    return user, mailbox, {f.name: f for f in mailbox.folder_ids}
