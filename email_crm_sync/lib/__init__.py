"""Plain-Python core of email_crm_sync: no Odoo import anywhere in here.

Each module holds one rule or one protocol concern, so it can be tested
without a database (tests/lib/) and reused by the Odoo models.
"""
