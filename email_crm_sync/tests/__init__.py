from . import test_email_sync_mailbox
from . import test_email_sync_folder
from . import test_email_sync_message
