"""Which mail is kept, and which addresses may become contacts.

Addresses here are already normalised by ``mime_parser`` (lower-case, no
angle brackets); ``normalize`` does the same for what people type into
settings and contact forms.

Rule entries ("lists") are addresses or domains: ``bob@acme.com`` matches
that address, ``acme.com`` or ``@acme.com`` matches the domain and its
subdomains (``eu.acme.com``).
"""
import re

from .safe_text import NAME_LIMIT, without_bidi_controls

# Free mail providers: never a company's own domain, even when a user's
# company address is on one of them.
PERSONAL_DOMAINS = frozenset({
    'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr',
    'live.com', 'msn.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'ymail.com',
    'aol.com', 'icloud.com', 'me.com', 'mac.com', 'gmx.de', 'gmx.net', 'gmx.com', 'web.de',
    'mail.com', 'protonmail.com', 'proton.me', 'pm.me', 'zoho.com', 'yandex.ru', 'yandex.com',
    'mail.ru', 'qq.com', '163.com', '126.com', 'naver.com', 'fastmail.com', 'tutanota.com',
    'orange.fr', 'free.fr', 'laposte.net', 't-online.de', 'libero.it', 'seznam.cz', 'wp.pl',
    'onet.pl',
})

# Impersonal senders: (kind, text). "contains" looks anywhere in the local
# part, "equals" compares the local part without its +tag.
DEFAULT_IMPERSONAL = (
    ('contains', 'noreply'), ('contains', 'no-reply'), ('contains', 'donotreply'),
    ('contains', 'do-not-reply'), ('contains', 'do_not_reply'), ('contains', 'no.reply'),
    ('contains', 'no_reply'),
) + tuple(('equals', local) for local in (
    'info', 'contact', 'hello', 'support', 'feedback', 'service', 'help', 'invite', 'invites',
    'welcome', 'alerts', 'team', 'notification', 'notifications', 'news', 'mailer-daemon',
    'postmaster',
))

_SEPARATORS = re.compile(r'[\s,;]+')

INTERNAL, BLOCKED, NEVER_LOG = 'internal', 'blocked', 'never_log'

# RFC 5321: no mail server delivers to a longer address; such an address is
# kept on its email but never becomes a contact.
MAX_ADDRESS_LENGTH = 254
_QUOTED_LOCAL = re.compile(r'^"(?:[^"\\]|\\.)*"@[^\s@"]+$')


def normalize(text: str | None) -> str:
    """An address as typed ("  Bob <BOB@Acme.COM> ") in the form mail is stored in."""
    text = (text or '').strip()
    match = re.search(r'<([^<>]*)>', text)
    if match:
        text = match.group(1)
    text = text.strip()
    # A quoted local part may hold blanks ("jane doe"@x.example): it is the address.
    if ' ' in text and not _QUOTED_LOCAL.match(text):
        return ''
    return addr_spec(text)


def addr_spec(text: str) -> str:
    """A bare address lower-cased, without <>, "mailto:" or a trailing dot, its
    domain in Unicode; '' when it is no address."""
    text = text.strip().strip('<>').strip().lower()
    if text.startswith('mailto:'):
        text = text[7:]
    local, at, domain = text.rpartition('@')
    if not at or not local or not domain:
        return ''
    domain = domain.rstrip('.')
    if 'xn--' in domain:
        try:
            domain = domain.encode('ascii').decode('idna')
        except (UnicodeError, ValueError):
            pass
    return '%s@%s' % (local, domain)


def domain_of(address: str) -> str:
    return address.rpartition('@')[2]


def local_part(address: str) -> str:
    return address.rpartition('@')[0]


def parse_entries(text: str | None) -> frozenset:
    """A settings list (commas, spaces or lines) as entries: addresses, or domains
    without their leading "@"."""
    entries = set()
    text = re.sub(r'[^<>,;\n]*<([^<>]*)>', r' \1 ', text or '')  # "Bob <bob@x.com>" -> the address
    for word in _SEPARATORS.split(text.lower()):
        word = word.strip().strip('<>')
        if not word:
            continue
        if word.startswith('@'):
            word = word[1:]
        entries.add(normalize(word) if '@' in word else word.rstrip('.'))
    entries.discard('')
    return frozenset(entries)


def in_domains(address: str, domains) -> bool:
    """Whether the address is in one of ``domains`` or a subdomain of one."""
    domain = domain_of(address)
    while domain:
        if domain in domains:
            return True
        domain = domain.partition('.')[2]
    return False


def matches(address: str, entries) -> bool:
    """Whether an address is on a list of addresses and domains."""
    return bool(address) and (address in entries or in_domains(address, entries))


def company_domains(entries) -> frozenset:
    """The company's own domains, without the personal-provider ones."""
    return frozenset(d for d in entries if '@' not in d and d not in PERSONAL_DOMAINS)


def is_internal(address: str, own_domains) -> bool:
    return in_domains(address, company_domains(own_domains))


def is_impersonal(address: str, patterns=DEFAULT_IMPERSONAL) -> bool:
    local = local_part(address)
    base = local.partition('+')[0]
    for kind, text in patterns:
        text = (text or '').strip().lower()
        if not text:
            continue
        if kind == 'contains' and text in local:
            return True
        if kind == 'equals' and text in (local, base):
            return True
    return False


def drop_reason(senders, recipients, own=(), own_domains=(), blocked=(), never_log=()):
    """Why a message must not be synced at all, or None to keep it.

    - never_log: any participant is on the company's never-log list;
    - internal: every participant is in the company's own domains (personal
      providers never count as such);
    - blocked: every sender is on the user's block list and every recipient
      is on it too or is the user's own address: mail that also involves
      anyone else is kept.
    """
    senders = [a for a in senders if a]
    recipients = [a for a in recipients if a]
    everyone = senders + recipients
    if not everyone:
        return None
    if any(matches(a, never_log) for a in everyone):
        return NEVER_LOG
    domains = company_domains(own_domains)
    if domains and all(in_domains(a, domains) for a in everyone):
        return INTERNAL
    if senders and blocked and all(matches(a, blocked) for a in senders) and all(
            a in own or matches(a, blocked) for a in recipients):
        return BLOCKED
    return None


def may_create_contact(address, own=(), own_domains=(), impersonal=DEFAULT_IMPERSONAL,
                       forgotten=()):
    """Whether an unknown participant may become a new contact: not the user,
    not a colleague, not an impersonal sender, not a contact someone deleted."""
    if not address or address in own or len(address) > MAX_ADDRESS_LENGTH:
        return False
    if is_internal(address, own_domains):
        return False
    if address in forgotten:
        return False
    return not is_impersonal(address, impersonal)


def contact_name(display_name: str | None, address: str) -> str:
    """A new contact's name: the display name, else one made from the address
    ("mary.o-neil@x.com" -> "Mary O-Neil"); at most NAME_LIMIT characters,
    without the invisible characters that reorder text."""
    name = without_bidi_controls(display_name or '').strip().strip('"\'').strip()
    if name and normalize(name) != address and '@' not in name:
        return _shortened(name)
    words = re.split(r'[._]+', local_part(address).partition('+')[0])
    words = [w for w in words if w]
    # Each hyphenated part capitalised too: "o-neil" -> "O-Neil".
    return _shortened(
        ' '.join('-'.join(p[:1].upper() + p[1:] for p in w.split('-')) for w in words) or address)


def _shortened(name):
    if len(name) <= NAME_LIMIT:
        return name
    return name[:NAME_LIMIT - 1].rstrip() + '\u2026'


def looks_like_another_address(display_name, address) -> bool:
    """Whether a display name reads as an address other than the sender's own
    ("support@bank.example" on mail from evil@attacker.example)."""
    name = (display_name or '').strip().strip('"\' <>').lower()
    return '@' in name and name != address


def shown_name(display_name, address) -> str:
    """How a participant is shown in a list: the name, or for a name that
    reads as another address, both ("support@bank.example" via evil@x.example)."""
    if looks_like_another_address(display_name, address):
        return '"%s" via %s' % (display_name.replace('"', "'"), address)
    return display_name or address


def impersonal_text(patterns=DEFAULT_IMPERSONAL) -> str:
    """The editable form of a pattern list: "*noreply*" (anywhere) or "info" (the local part)."""
    return '\n'.join('*%s*' % text if kind == 'contains' else text for kind, text in patterns)


def parse_impersonal(text: str | None):
    """Patterns from their editable form (see ``impersonal_text``)."""
    patterns = []
    for word in _SEPARATORS.split((text or '').lower()):
        word = word.strip().rstrip('@')
        if word.startswith('*') or word.endswith('*'):
            word = word.strip('*')
            if word:
                patterns.append(('contains', word))
        elif word:
            patterns.append(('equals', word))
    return tuple(patterns)
