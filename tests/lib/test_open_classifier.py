"""Machine opens, repeated opens, and opens a click shows to be a person's."""
from datetime import datetime, timedelta

import pytest

from email_crm_sync.lib.open_classifier import (MACHINE_OPEN_SECONDS, REPEAT_SECONDS, is_machine,
                                                is_repeat, promote_on_click)


def ids(cases):
    return [c[0] for c in cases]


GMAIL = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
YAHOO = 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html'
CHROME = ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
          'Chrome/120.0.0.0 Safari/537.36')
FIREFOX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
SAFARI = ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) '
          'Version/17.2 Safari/605.1.15')
OUTLOOK = ('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; '
           'Microsoft Outlook 16.0.17126; Microsoft Outlook 16.0.17126; ms-office; MSOffice 16)')
OUTLOOK_MAC = 'Microsoft Office/16.0 (Macintosh; Mac OS X 14.2; Microsoft Outlook 16.80; Pro)'

USER_AGENTS = [
    # (whose user agent, user agent, machine)
    ('Gmail image proxy', GMAIL, True),
    ('Yahoo mail proxy', YAHOO, True),
    ('Apple Mail Privacy Protection sends a bare Mozilla/5.0', 'Mozilla/5.0', True),
    ('empty', '', True),
    ('only spaces', '   ', True),
    ('missing', None, True),
    ('Mimecast', 'Mozilla/5.0 (compatible; Mimecast URL Protect)', True),
    ('Proofpoint', 'Mozilla/5.0 (Proofpoint URL Defense)', True),
    ('Barracuda', 'Barracuda Sentinel (EE)', True),
    ('Office link check', 'Microsoft Office Existence Discovery', True),
    ('python-requests', 'python-requests/2.31.0', True),
    ('curl', 'curl/8.4.0', True),
    ('wget', 'Wget/1.21.4', True),
    ('Go', 'Go-http-client/1.1', True),
    ('Java', 'Java/1.8.0_392', True),
    ('headless Chrome', CHROME.replace('Chrome/', 'HeadlessChrome/'), True),
    ('Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', True),
    ('Bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', True),
    ('Slack preview', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', True),
    ('Facebook preview', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', True),
    ('LinkedIn preview', 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)',
     True),
    ('WhatsApp preview', 'WhatsApp/2.23.20.0 A', True),
    ('Skype preview', 'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5', True),
    ('Chrome', CHROME, False),
    ('Firefox', FIREFOX, False),
    ('Safari', SAFARI, False),
    ('Edge', CHROME + ' Edg/120.0.0.0', False),
    ('Outlook desktop on Windows', OUTLOOK, False),
    ('Outlook on Mac', OUTLOOK_MAC, False),
    ('Thunderbird', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0',
     False),
    ('iPhone Mail', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 '
     '(KHTML, like Gecko) Mobile/15E148', False),
    ('Android phone named CUBOT', 'Mozilla/5.0 (Linux; Android 11; CUBOT X50 Build/RP1A.200720.011) '
     'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36', False),
    ('Android app loading through okhttp', 'okhttp/4.12.0', False),
    ('Yandex Browser', CHROME + ' YaBrowser/23.11.0.0 Yowser/2.5', False),
]


@pytest.mark.parametrize('case, user_agent, machine', USER_AGENTS, ids=ids(USER_AGENTS))
def test_user_agent(case, user_agent, machine):
    # An hour after sending: the user agent decides alone.
    assert is_machine(user_agent, 3600) is machine
    assert is_machine(user_agent, None) is machine


TIMING = [
    # (what happened, seconds since sent, machine)
    ('at sending', 0, True),
    ('one second after', 1, True),
    ('9.9 s after', 9.9, True),
    ('exactly 10 s after', 10, False),
    ('10.1 s after', 10.1, False),
    ('a day after', 86400, False),
    ('sending time unknown', None, False),
    ('before sending (clock step)', -3, True),
]


@pytest.mark.parametrize('case, seconds, machine', TIMING, ids=ids(TIMING))
def test_timing_with_a_browser(case, seconds, machine):
    assert is_machine(CHROME, seconds) is machine


@pytest.mark.parametrize('seconds', [0, 9.9, 10, 10.1, 3600, None])
def test_a_machine_user_agent_is_a_machine_at_any_time(seconds):
    assert is_machine(GMAIL, seconds) is True


REPEATS = [
    # (what happened, seconds since the last open, repeat)
    ('no earlier open', None, False),
    ('same second', 0, True),
    ('9.9 s later', 9.9, True),
    ('exactly 10 s later', 10, False),
    ('10.1 s later', 10.1, False),
    ('an hour later', 3600, False),
    ('stored out of order, 5 s apart', -5, True),
    ('stored out of order, a minute apart', -60, False),
]


@pytest.mark.parametrize('case, seconds, repeat', REPEATS, ids=ids(REPEATS))
def test_repeat(case, seconds, repeat):
    assert is_repeat(seconds) is repeat


def test_the_windows_are_ten_seconds():
    assert MACHINE_OPEN_SECONDS == 10 and REPEAT_SECONDS == 10


SENT = datetime(2026, 11, 25, 9, 0, 0)


def at(minutes):
    return SENT + timedelta(minutes=minutes)


PROMOTIONS = [
    # (what happened, events (id, kind, machine, when), promoted ids)
    ('no events', [], []),
    ('opens, no click', [(1, 'open', True, at(0)), (2, 'open', False, at(5))], []),
    ('machine open, then a click', [(1, 'open', True, at(0)), (2, 'click', False, at(60))], [1]),
    ('several machine opens before the click',
     [(1, 'open', True, at(0)), (2, 'open', True, at(30)), (3, 'click', False, at(60))], [1, 2]),
    ('human opens are not promoted (already human)',
     [(1, 'open', False, at(10)), (2, 'open', True, at(20)), (3, 'click', False, at(60))], [2]),
    ('machine open after the first click is not promoted',
     [(1, 'open', True, at(0)), (2, 'click', False, at(60)), (3, 'open', True, at(61)),
      (4, 'click', False, at(90))], [1]),
    ('open in the same second as the click',
     [(1, 'click', False, at(60)), (2, 'open', True, at(60))], [2]),
    ("a scanner's click proves nothing",
     [(1, 'open', True, at(0)), (2, 'click', True, at(0))], []),
    ("scanner's click, then a person's click",
     [(1, 'open', True, at(0)), (2, 'click', True, at(0)), (3, 'open', True, at(30)),
      (4, 'click', False, at(60))], [1, 3]),
    ('click only', [(1, 'click', False, at(60))], []),
    ('short kinds o and c', [(1, 'o', True, at(0)), (2, 'c', False, at(60))], [1]),
    ('events not in time order',
     [(3, 'click', False, at(60)), (1, 'open', True, at(0)), (4, 'open', True, at(70))], [1]),
]


@pytest.mark.parametrize('case, events, promoted', PROMOTIONS, ids=ids(PROMOTIONS))
def test_promote_on_click(case, events, promoted):
    assert promote_on_click(events) == promoted


def test_promote_on_click_takes_any_iterable():
    events = iter([(1, 'open', True, at(0)), (2, 'click', False, at(60))])
    assert promote_on_click(events) == [1]
