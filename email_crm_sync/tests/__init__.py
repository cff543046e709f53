from . import test_email_sync_mailbox
from . import test_email_sync_folder
from . import test_email_sync_message
from . import test_email_sync_thread
from . import test_email_sync_composer
from . import test_sharing
from . import test_privacy_paths
from . import test_res_config_settings
