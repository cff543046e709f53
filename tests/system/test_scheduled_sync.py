"""In a running server, the scheduled action alone keeps a mailbox in sync:
the first import, then new mail within the sync interval."""
import time

from devenv import odoo as odoo_env
from devenv.demo_mail import generate_raw_messages

from ..conftest import OdooRpc
from .sync_helpers import SyncedMailbox


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(2)
    return False


def test_scheduler_imports_then_picks_up_new_mail(odoo_config, clone_db, dovecot, dovecot_fingerprint):
    with odoo_env.OdooServer(odoo_config, clone_db()) as server:  # with its cron threads
        admin = OdooRpc(server.url, server.db_name, 'admin', 'admin')
        admin('ir.config_parameter', 'set_param', 'email_crm_sync.sync_interval_minutes', '1')
        box = SyncedMailbox(admin, dovecot, dovecot_fingerprint, 'cron%d' % (int(time.time()) % 100000))
        box.seed(12, seed=31)
        # Odoo 11's cron threads wake about once a minute.
        assert wait_for(lambda: len(box.stored_message_ids()) == 12, 200), 'no first import'
        box.dovecot.deliver(box.login, next(generate_raw_messages(1, seed=32)))
        assert wait_for(lambda: len(box.stored_message_ids()) == 13, 200), 'new mail never came'
        assert box.stored_links() == box.server_links()
