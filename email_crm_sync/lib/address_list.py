"""Split an address header (From, To, Cc ...) into (display name, address)
pairs, as RFC 5322 reads it, in one pass over the text.

Why not a regular expression or ``email.utils.getaddresses``: both take
time that grows with the square of some inputs (a From of "a", 200,000
spaces and "b" took 100 s), and the standard library recurses into nested
comments. A mail server accepts headers of megabytes; this scanner reads
each character once and keeps no stack.

What it promises:

- The address inside angle brackets is the address, whatever the display
  name looks like: ``support@bank.example <evil@attacker.example>`` is the
  address evil@attacker.example with the name "support@bank.example".
- A quoted local part is part of the address (``"jane doe"@x.example``);
  a quoted string on its own is a name, even with an ``@`` in it.
- Comments are skipped (nested ones too); a bare address's comment serves
  as its name (``jo@x.example (Jo)``).
- Groups (``team: a@x, b@y;``) are flattened; ``undisclosed-recipients:;``
  gives nothing.
- Entries without an ``@`` are returned with an empty name, so that callers
  can mend "Doe, John <jd@x.example>" written without quotes.
- At most ``MAX_ENTRIES`` entries are read from one header, and of each
  entry at most ``MAX_TOKENS`` words and ``MAX_ENTRY_CHARS`` characters (the
  rest is still scanned, not kept: no address is that long, and keeping
  100,000 tokens costs more than reading them).

Names and addresses are returned as written (encoded words still encoded).
"""

MAX_ENTRIES = 1000
MAX_TOKENS = 200
MAX_ENTRY_CHARS = 10000
MAX_COMMENT_CHARS = 200
_SPACE = ' \t\r\n'
_WORD_END = frozenset(' \t\r\n"(<,;:')


def split_addresses(value):
    """[(name, address)] of an address list, in order."""
    if not value:
        return []
    pairs = []
    tokens = []          # [kind, pieces, glued]: kind is 'word', 'quoted' or 'comment'
    angle = None
    word_with_at = False
    kept = 0             # characters kept for the current entry
    glued = False        # no blank between this token and the previous one
    i, n = 0, len(value)

    def keep(kind, text):
        """Whether a token is kept (bounded per entry) and counted."""
        nonlocal kept
        if kept + len(text) > MAX_ENTRY_CHARS or (len(tokens) >= MAX_TOKENS and not (
                kind == 'word' and glued and tokens and tokens[-1][0] == 'word')):
            return False
        kept += len(text)
        return True

    def flush():
        nonlocal tokens, angle, word_with_at, kept
        if tokens or angle is not None:
            pair = _entry([(kind, ''.join(pieces), glued) for kind, pieces, glued in tokens], angle)
            if pair is not None and len(pairs) < MAX_ENTRIES:
                pairs.append(pair)
        tokens, angle, word_with_at, kept = [], None, False, 0

    def add_word(word):
        nonlocal word_with_at
        if not keep('word', word):
            return
        word_with_at = word_with_at or '@' in word
        if glued and tokens and tokens[-1][0] == 'word':
            tokens[-1][1].append(word)
        else:
            tokens.append(['word', [word], glued])

    while i < n and len(pairs) < MAX_ENTRIES:
        c = value[i]
        if c in _SPACE:
            glued = False
            i += 1
        elif c == '"':
            j, chunks, start = i + 1, [], i + 1
            while j < n and value[j] != '"':
                if value[j] == '\\' and j + 1 < n:
                    chunks.append(value[start:j])
                    start = j + 1
                    j += 2
                else:
                    j += 1
            chunks.append(value[start:j])
            if keep('quoted', chunks[-1]):
                tokens.append(['quoted', chunks, glued])
            glued = True
            i = j + 1
        elif c == '(':
            depth, j = 1, i + 1
            while j < n and depth:
                ch = value[j]
                if ch == '\\':
                    j += 2
                    continue
                if ch == '(':
                    depth += 1
                elif ch == ')':
                    depth -= 1
                j += 1
            end = j - 1 if depth == 0 else n
            # Only ever a fallback name: its start is enough.
            comment = value[i + 1:min(end, n, i + 1 + MAX_COMMENT_CHARS)]
            if keep('comment', comment):
                tokens.append(['comment', [comment], glued])
            glued = False
            i = j
        elif c == '<':
            j = value.find('>', i + 1)
            if j < 0:
                j = n
            if angle is None:
                angle = value[i + 1:j]
            glued = False
            i = j + 1
        elif c == ',' or c == ';':
            flush()
            glued = False
            i += 1
        elif c == ':':
            if angle is None and tokens and not word_with_at:
                tokens = []          # a group's name: its members follow
            else:
                add_word(':')
            glued = True
            i += 1
        else:
            j = i + 1
            while j < n and value[j] not in _WORD_END:
                j += 1
            add_word(value[i:j])
            glued = True
            i = j
    flush()
    return pairs


def _runs(tokens):
    """Words and quoted strings written without blanks between them, joined:
    [(text, has an @ outside quotes)]."""
    runs = []                # [pieces, has an @]
    after_comment = False
    for kind, text, glued in tokens:
        if kind == 'comment':
            after_comment = True
            continue
        piece = text if kind == 'word' else '"%s"' % text
        at = kind == 'word' and '@' in text
        if glued and runs and not after_comment:
            runs[-1][0].append(piece)
            runs[-1][1] = runs[-1][1] or at
        else:
            runs.append([[piece], at])
        after_comment = False
    return [(''.join(pieces), at) for pieces, at in runs]


def _phrase(tokens):
    words = [text for kind, text, _glued in tokens if kind != 'comment']
    return ' '.join(w for w in words if w)


def _comments(tokens):
    return ' '.join(text.strip() for kind, text, _glued in tokens
                    if kind == 'comment' and text.strip())


def _entry(tokens, angle):
    if angle is not None:
        address = angle
        if ':' in address and address.startswith('@'):
            address = address.rpartition(':')[2]      # an obsolete source route
        if '"' not in address:
            address = ''.join(address.split())
        return _phrase(tokens) or _comments(tokens), address.strip()
    runs = _runs(tokens)
    with_at = [index for index, run in enumerate(runs) if run[1]]
    if not with_at:
        text = ' '.join(run[0] for run in runs)
        if '@' in text:          # only inside quotes: a name without an address
            return text, ''
        return ('', text) if text else None
    chosen = with_at[-1]
    name = ' '.join(run[0].strip('"') for index, run in enumerate(runs) if index != chosen)
    return name or _comments(tokens), runs[chosen][0]
