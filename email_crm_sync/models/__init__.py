from . import email_sync_server_mixin
from . import email_sync_provider
from . import email_sync_mailbox
from . import email_sync_folder
from . import email_sync_message
from . import email_sync_message_folder
from . import email_sync_log
from . import res_config_settings
