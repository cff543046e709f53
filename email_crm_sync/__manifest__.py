{
    'name': 'Email CRM Sync',
    'version': '11.0.1.1.0',
    'category': 'Sales',
    'summary': "Sync each salesperson's mailbox into the CRM over IMAP",
    'description': """
Connects each user's mailbox (Gmail, Microsoft 365, iCloud, any IMAP server)
to the CRM: mail is synced, threaded, linked to contacts and deals, and kept
private unless its owner shares it.
""",
    'license': 'LGPL-3',
    'depends': ['crm', 'mail'],
    'external_dependencies': {'python': ['imapclient', 'cryptography']},
    'data': [
        'security/email_sync_security.xml',
        'security/ir.model.access.csv',
        'security/email_sync_quarantine_security.xml',
        'data/email_sync_provider_data.xml',
        'data/email_sync_cron.xml',
        'views/email_sync_provider_views.xml',
        'views/email_sync_log_views.xml',
        'views/email_sync_composer_views.xml',
        'views/email_sync_thread_views.xml',
        'views/email_sync_message_views.xml',
        'views/email_sync_quarantine_views.xml',
        'views/email_sync_mailbox_views.xml',
        'views/email_sync_forgotten_address_views.xml',
        'views/email_sync_audit_log_views.xml',
        'views/res_partner_views.xml',
        'views/crm_lead_views.xml',
        'views/res_users_views.xml',
        'views/res_config_settings_views.xml',
        'views/email_sync_menus.xml',
    ],
    'application': True,
    'installable': True,
}
