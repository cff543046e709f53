"""Development and test environment: the local services email_crm_sync runs
against (PostgreSQL, Dovecot, an SMTP relay, Odoo itself), started on
127.0.0.1 only, on ports of their own, with state under ``.run/``."""
