from . import email_sync_provider
from . import email_sync_mailbox
from . import email_sync_folder
