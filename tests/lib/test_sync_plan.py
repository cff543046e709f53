"""When a folder needs work, and what kind: the table a support engineer reads."""
from datetime import date

import pytest

from email_crm_sync.lib.sync_plan import StoredFolder, import_since, plan_folder, retry_delay_minutes


class Status:
    def __init__(self, uidvalidity=7, uidnext=101, messages=100, highestmodseq=500):
        self.uidvalidity, self.uidnext = uidvalidity, uidnext
        self.messages, self.highestmodseq = messages, highestmodseq


SYNCED = dict(uidvalidity=7, last_uid=100, highest_modseq=500, stored_count=100, import_complete=True)

CASES = [
    # (what happened, stored changes, status, expected work)
    ('never synced', dict(uidvalidity=0, last_uid=0, highest_modseq=0, stored_count=0, import_complete=False),
     Status(), {'first_import'}),
    ('first import interrupted', dict(import_complete=False, stored_count=40), Status(), {'first_import'}),
    ('nothing happened', {}, Status(), set()),
    ('new mail arrived', {}, Status(uidnext=103, messages=102, highestmodseq=502), {'fetch_new', 'check_flags'}),
    ('new mail, no CONDSTORE', dict(highest_modseq=0), Status(uidnext=103, messages=102, highestmodseq=None),
     {'fetch_new'}),
    ('a message was read elsewhere', {}, Status(highestmodseq=501), {'check_flags'}),
    ('a message was deleted', {}, Status(messages=99, highestmodseq=501), {'check_flags', 'check_vanished'}),
    ('deleted without CONDSTORE', dict(highest_modseq=0), Status(messages=99, highestmodseq=None),
     {'check_vanished'}),
    ('one deleted, one arrived', {}, Status(uidnext=102, messages=100, highestmodseq=502),
     {'fetch_new', 'check_flags'}),
    ('one arrived, two deleted', {}, Status(uidnext=102, messages=99, highestmodseq=503),
     {'fetch_new', 'check_flags', 'check_vanished'}),
    ('more stored than the server says, no new uid', dict(stored_count=101), Status(),
     {'check_vanished'}),
    ('UIDVALIDITY changed', {}, Status(uidvalidity=8), {'reset', 'first_import'}),
]


@pytest.mark.parametrize('case, stored, status, work', CASES, ids=[c[0] for c in CASES])
def test_folder_plan(case, stored, status, work):
    plan = plan_folder(StoredFolder(**dict(SYNCED, **stored)), status)
    done = {name for name in ('reset', 'first_import', 'fetch_new', 'check_flags', 'check_vanished')
            if getattr(plan, name)}
    assert done == work
    assert plan.idle is (not work)


@pytest.mark.parametrize('lookback, first_day', [
    ('30', date(2026, 10, 26)), ('90', date(2026, 8, 27)), ('365', date(2025, 11, 25)), ('all', None)])
def test_lookback(lookback, first_day):
    assert import_since(lookback, today=date(2026, 11, 25)) == first_day


def test_backoff_doubles_up_to_two_hours():
    assert [retry_delay_minutes(n) for n in (1, 2, 3, 4, 8, 20)] == [1, 2, 4, 8, 120, 120]
