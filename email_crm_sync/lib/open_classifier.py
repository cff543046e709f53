"""Tell opens by people from opens by machines, and count an open once.

The pixel of a sent email is fetched by more than the person reading it:
mail providers' image proxies, companies' security gateways that scan
incoming mail, link-preview services, scripts. Such an open is recorded but
flagged "machine", so the CRM does not say "opened" when nobody looked.

An open is a machine's when

- its user agent names a proxy, scanner, crawler or HTTP library
  (``MACHINE_USER_AGENTS``), is empty, or is only "Mozilla/5.0"; or
- it comes less than ``MACHINE_OPEN_SECONDS`` after sending: no person reads
  that fast, a gateway scanning the mail on delivery does.

Apple Mail Privacy Protection fetches every image on delivery, whether or
not the mail is ever read. Gmail's and Yahoo's proxies usually fetch when
the reader opens the email, but only the first time (later opens come from
their cache) and with nothing that tells who opened it, nor from where. All
three are machines here; a click turns such an open into a person's.

Opens of one email less than ``REPEAT_SECONDS`` apart are one open (a mail
client loading the image twice, a reader flicking between emails).

A click by a person proves the email was opened, images loaded or not:
``promote_on_click`` finds the machine-flagged opens that the click shows to
have been a person's.
"""

# Lower-case substrings of the User-Agent header.
MACHINE_USER_AGENTS = (
    # Mail providers' image proxies: they fetch for the reader, or prefetch
    # everything on delivery. (Apple's sends only "Mozilla/5.0", see below.)
    'googleimageproxy', 'ggpht.com', 'yahoomailproxy',
    # Security gateways that open every link and image of incoming mail.
    'barracuda', 'mimecast', 'proofpoint', 'symantec', 'messagelabs', 'forcepoint',
    'trend micro', 'trendmicro', 'sophos', 'fortinet', 'fortiguard', 'zscaler', 'ironport',
    # Office's check that a link exists before it opens the browser (the
    # person's own click follows from the browser). Outlook itself ("Microsoft
    # Outlook", "ms-office", "MSOffice") is a person reading: not listed.
    'existence discovery', 'protocol discovery',
    # HTTP libraries and headless browsers: scripts, not people. okhttp is
    # left out: Android apps, mail apps among them, load images through it.
    'python-requests', 'python-urllib', 'aiohttp', 'curl/', 'wget/', 'go-http-client',
    'java/', 'apache-httpclient', 'libwww-perl', 'node-fetch', 'axios/', 'guzzlehttp',
    'headlesschrome', 'phantomjs',
    # Link previews in chat and social apps, pasted or forwarded links.
    'slackbot', 'facebookexternalhit', 'linkedinbot', 'twitterbot', 'whatsapp', 'telegrambot',
    'discordbot', 'skypeuripreview', 'bingpreview', 'preview',
    # Search engines' and others' crawlers. "bot" alone would take the
    # CUBOT phone brand for a robot, hence "bot/", "bot;" and "robot".
    'googlebot', 'bingbot', 'yandex', 'bot/', 'bot;', 'robot', 'spider', 'crawler', 'scanner',
    # A URL in the user agent is how crawlers and proxies say who they are;
    # browsers never carry one.
    'http://', 'https://',
)

# Whole user agents that are a machine's: Apple Mail Privacy Protection's
# proxy sends a bare "Mozilla/5.0", which no browser does.
MACHINE_USER_AGENTS_EXACT = frozenset({'mozilla/5.0', 'mozilla/4.0'})

# An open sooner than this after sending is a proxy or scanner prefetch.
MACHINE_OPEN_SECONDS = 10
# Opens of one email closer together than this count once.
REPEAT_SECONDS = 10
# Clicks of one link of one email within one slot of this length count once:
# whoever holds a link cannot flood its sender by replaying it.
CLICK_REPEAT_SECONDS = 3600

OPEN_KINDS = frozenset({'open', 'o'})
CLICK_KINDS = frozenset({'click', 'c'})


def is_machine(user_agent: str | None, seconds_since_sent: float | None) -> bool:
    """Whether an open (or click) was a machine's, by its user agent and timing.
    ``seconds_since_sent`` None means the sending time is unknown: the user
    agent decides alone."""
    agent = (user_agent or '').strip().lower()
    if not agent or agent in MACHINE_USER_AGENTS_EXACT:
        return True
    if any(marker in agent for marker in MACHINE_USER_AGENTS):
        return True
    # Negative (an open "before" sending) is a clock step during an immediate
    # fetch: a machine's too.
    return seconds_since_sent is not None and seconds_since_sent < MACHINE_OPEN_SECONDS


def is_repeat(seconds_since_last_open: float | None) -> bool:
    """Whether an open repeats the previous open of the same email.
    None: there was no earlier open."""
    if seconds_since_last_open is None:
        return False
    # abs: events stored out of order are just as close together.
    return abs(seconds_since_last_open) < REPEAT_SECONDS


def promote_on_click(events) -> list:
    """The ids of machine-flagged opens that a person's click shows to be
    theirs. ``events`` are one email's (event_id, kind, machine, when), kind
    'open'/'o' or 'click'/'c'.

    Only a click that is not itself a machine's counts: scanners click every
    link. Opens up to and including the click's time are promoted (times are
    often to the second, and a proxy fetch can share the click's second).
    No such click: nothing is promoted."""
    events = list(events)
    clicks = [when for _id, kind, machine, when in events if kind in CLICK_KINDS and not machine]
    if not clicks:
        return []
    first_click = min(clicks)  # in case the events are not in time order after all
    return [event_id for event_id, kind, machine, when in events
            if kind in OPEN_KINDS and machine and when <= first_click]
