"""The key under which a subject threads: reply and forward prefixes in the
languages people write in, mailing-list tags, spacing and case removed.

"RE: Fwd: [sales] Quote  2026" and "quote 2026" have the same key. Generic
subjects ("hello", "(no subject)") have a key too, but ``is_generic`` says
that it must never join two messages on its own.
"""
import re
import unicodedata

from .safe_text import SUBJECT_KEY_LIMIT

# Reply/forward markers, lower-case, as they appear before the colon.
# English, German, Dutch, Scandinavian, Finnish, French, Spanish, Portuguese,
# Italian, Polish, Czech, Turkish, Greek, Hebrew, Russian, Chinese, Japanese, Korean.
PREFIXES = (
    're', 'fw', 'fwd', 'aw', 'wg', 'sv', 'vs', 'vl', 'antw', 'doorst', 'tr', 'rv', 'rif', 'r',
    'odp', 'pd', 'ynt', 'ilt', 'fs', 'enc', 'res', 'rép', 'rep', 'vb', 'vá', 'trs', 'odg',
    'přep', 'πρθ', 'απ', 'σχετ', 'השב', 'הועבר', 'ответ', 'отв', 'пер', 'переслать',
    '回复', '回覆', '答复', '答覆', '转发', '轉寄', '转寄', '返信', '転送', '회신', '전달',
)
# Longest first, so that "fwd" is tried before "fw".
_PREFIX_ALTERNATIVES = '|'.join(re.escape(p) for p in sorted(set(PREFIXES), key=len, reverse=True))
# A prefix, an optional counter ("Re[2]", "Re(3)", "Re^2"), and a colon (ASCII or full-width).
_PREFIX = re.compile(
    r'^\s*(?:%s)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]' % _PREFIX_ALTERNATIVES, re.IGNORECASE)
# A mailing-list tag at the start: "[sales-team]", "[EXT]" (not a counter "[2]",
# told apart in _strip_list_tag: a pattern saying "not only digits" would
# backtrack in quadratic time on a long "[aaaa...").
_LIST_TAG = re.compile(r'^\s*\[([^\[\]]*)\]')
# A trailing "(fwd)" as some old clients write it.
_TRAILING_FWD = re.compile(r'\s*\((?:fwd|fw)\)\s*$', re.IGNORECASE)
_SPACES = re.compile(r'\s+')

GENERIC = frozenset({
    '', 'no subject', '(no subject)', 'none', '(none)', 'untitled', 'hello', 'hi', 'hey',
    'hello!', 'hi!', 'hi there', 'hallo', 'bonjour', 'hola', 'ciao', 'question', 'questions',
    'quick question', 'test', 'testing', 'thanks', 'thank you', 'thanks!', 'fyi', 'info',
    'update', 'follow up', 'follow-up', 'followup', 'meeting', 'call', 'kein betreff',
    'ohne betreff', 'sans objet', 'sin asunto', 'senza oggetto', 'geen onderwerp', 'sem assunto',
    'bez tematu', '无主题', '無題', '件名なし',
})


MAX_PREFIXES = 50   # "Re: " stripped at most this often: each pass reads the whole subject


def subject_key(subject: str | None) -> str:
    """The normalised subject: prefixes and list tags gone, spaces folded,
    case-folded; at most SUBJECT_KEY_LIMIT characters (it is indexed: a
    subject of 100 KB is keyed by its start)."""
    return strip_prefixes(subject).casefold()[:SUBJECT_KEY_LIMIT]


def _strip_list_tag(text):
    match = _LIST_TAG.match(text)
    if match and not match.group(1).strip().isdigit():
        return text[match.end():]
    return text


def strip_prefixes(subject: str | None) -> str:
    """The subject without reply/forward prefixes and list tags, case kept
    (what a reply puts after its own "Re: ")."""
    text = unicodedata.normalize('NFKC', subject or '')
    text = _SPACES.sub(' ', text).strip()
    for _round in range(MAX_PREFIXES):
        stripped = _strip_list_tag(text)
        stripped = _PREFIX.sub('', stripped, count=1)
        stripped = _TRAILING_FWD.sub('', stripped).strip()
        if stripped == text:
            break
        text = stripped
    return text


def is_generic(key: str) -> bool:
    """A key too common to thread on: messages never join by it alone."""
    core = key.strip(' .!?-_')
    # Two letters say nothing in Latin script; two CJK characters can be a real topic.
    too_short = len(core) < 2 or (core.isascii() and len(core) < 3)
    return key in GENERIC or core in GENERIC or too_short
