"""What one sync run must do for one folder, decided from what is stored and
one STATUS answer. Pure: the IMAP and database work happen elsewhere.

The cheap path matters most: a folder where nothing happened costs one
STATUS round trip and no further command, whatever its size.
"""
from dataclasses import dataclass
from datetime import date, timedelta

LOOKBACK_CHOICES = [
    ('30', 'Last 30 days'),
    ('90', 'Last 90 days'),
    ('180', 'Last 6 months'),
    ('365', 'Last year'),
    ('all', 'Everything'),
]


@dataclass(frozen=True)
class StoredFolder:
    uidvalidity: int        # 0 when the folder was never synced
    last_uid: int           # highest UID stored by the incremental sync
    highest_modseq: int     # 0 without CONDSTORE
    stored_count: int       # messages stored for this folder
    import_complete: bool   # the first import of this folder is done


@dataclass(frozen=True)
class FolderPlan:
    reset: bool             # UIDVALIDITY changed: every stored UID is void
    first_import: bool      # import (or resume importing) within the lookback
    fetch_new: bool         # UIDs above last_uid appeared
    check_flags: bool       # HIGHESTMODSEQ moved: read changed flags
    check_vanished: bool    # the counts differ: something was deleted or moved away

    @property
    def idle(self):
        return not (self.reset or self.first_import or self.fetch_new
                    or self.check_flags or self.check_vanished)


def plan_folder(stored, status):
    """The work for a folder, given a ``StoredFolder`` and an imap ``FolderStatus``."""
    reset = bool(stored.uidvalidity) and stored.uidvalidity != status.uidvalidity
    if reset or not stored.import_complete:
        return FolderPlan(reset=reset, first_import=True, fetch_new=False,
                          check_flags=False, check_vanished=False)
    fetch_new = status.uidnext - 1 > stored.last_uid
    check_flags = bool(status.highestmodseq and stored.highest_modseq
                       and status.highestmodseq != stored.highest_modseq)
    # Only new mail explains a higher count; anything else means mail left.
    check_vanished = status.messages < stored.stored_count or (
        not fetch_new and status.messages != stored.stored_count)
    return FolderPlan(reset=False, first_import=False, fetch_new=fetch_new,
                      check_flags=check_flags, check_vanished=check_vanished)


def import_since(lookback, today=None):
    """First day of mail to import for a lookback choice; None for everything."""
    if lookback == 'all':
        return None
    return (today or date.today()) - timedelta(days=int(lookback))


def retry_delay_minutes(failures):
    """Back off after network errors: 1, 2, 4 ... minutes, at most 2 hours."""
    return min(2 ** max(failures - 1, 0), 120)
