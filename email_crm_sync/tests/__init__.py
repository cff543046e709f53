from . import test_email_sync_mailbox
from . import test_email_sync_folder
from . import test_email_sync_message
from . import test_res_config_settings
from . import test_email_sync_quarantine
