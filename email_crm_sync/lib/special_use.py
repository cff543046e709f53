"""Which role a mailbox folder plays (RFC 6154 special-use), and whether to sync it.

Servers that support RFC 6154 flag their folders (\\Sent, \\Trash ...); older
ones don't, so well-known names in the languages users write in are
recognised too. Junk, Trash and Drafts are never synced: nobody wants spam
or half-written mail in the CRM.
"""

INBOX = 'inbox'
SENT = 'sent'
DRAFTS = 'drafts'
TRASH = 'trash'
JUNK = 'junk'
ARCHIVE = 'archive'
ALL = 'all'
FLAGGED = 'flagged'
IMPORTANT = 'important'
NONE = 'none'

LABELS = [
    (INBOX, 'Inbox'),
    (SENT, 'Sent'),
    (DRAFTS, 'Drafts'),
    (TRASH, 'Trash'),
    (JUNK, 'Junk / Spam'),
    (ARCHIVE, 'Archive'),
    (ALL, 'All mail'),
    (FLAGGED, 'Starred / Flagged'),
    (IMPORTANT, 'Important'),
    (NONE, 'Regular folder'),
]

NEVER_SYNCED = frozenset([DRAFTS, TRASH, JUNK])

_FLAGS = {
    '\\sent': SENT,
    '\\drafts': DRAFTS,
    '\\trash': TRASH,
    '\\junk': JUNK,
    '\\archive': ARCHIVE,
    '\\all': ALL,
    '\\allmail': ALL,        # Gmail's XLIST spelling
    '\\flagged': FLAGGED,
    '\\starred': FLAGGED,    # Gmail's XLIST spelling
    '\\important': IMPORTANT,
    '\\spam': JUNK,          # Gmail's XLIST spelling
    '\\inbox': INBOX,        # Gmail's XLIST spelling
}

# Last path component, lower-cased -> role. For servers without RFC 6154.
_NAMES = {
    SENT: ['sent', 'sent items', 'sent mail', 'sent messages', 'sent-mail',
           'gesendet', 'gesendete objekte', 'gesendete elemente', 'envoyés',
           'éléments envoyés', 'messages envoyés', 'enviados', 'elementos enviados',
           'inviata', 'posta inviata', 'verzonden', 'verzonden items', 'skickat',
           'skickade objekt', 'sendt', 'sendte elementer', 'wysłane', 'отправленные',
           '已发送', '已发送邮件', '送信済み', '送信済みアイテム'],
    DRAFTS: ['drafts', 'draft', 'entwürfe', 'brouillons', 'borradores', 'bozze',
             'concepten', 'utkast', 'kladder', 'kopie robocze', 'черновики',
             '草稿', '草稿箱', '下書き'],
    TRASH: ['trash', 'deleted', 'deleted items', 'deleted messages', 'bin',
            'papierkorb', 'gelöschte objekte', 'gelöschte elemente', 'corbeille',
            'éléments supprimés', 'papelera', 'elementos eliminados', 'cestino',
            'prullenbak', 'verwijderde items', 'papperskorgen', 'kosz',
            'корзина', '已删除', '已删除邮件', 'ゴミ箱'],
    JUNK: ['junk', 'spam', 'junk e-mail', 'junk email', 'junk mail', 'bulk mail',
           'spamverdacht', 'courrier indésirable', 'indésirables', 'correo no deseado',
           'posta indesiderata', 'ongewenste e-mail', 'skräppost', 'спам',
           '垃圾邮件', '迷惑メール'],
    ARCHIVE: ['archive', 'archives', 'archiv', 'archivo', 'archivio', 'archief', 'arkiv',
              'архив', '归档', 'アーカイブ'],
    ALL: ['all mail', 'alle nachrichten', 'tous les messages', 'todos'],
}
_NAME_TO_ROLE = {name: role for role, names in _NAMES.items() for name in names}


def detect(name, flags=(), delimiter='/'):
    """Role of a folder from its LIST flags, else from its name.

    >>> detect('INBOX')
    'inbox'
    >>> detect('[Gmail]/Sent Mail', [b'\\\\HasNoChildren', b'\\\\Sent'])
    'sent'
    >>> detect('Gelöschte Objekte')
    'trash'
    """
    for flag in flags:
        if isinstance(flag, bytes):
            flag = flag.decode('ascii', 'replace')
        role = _FLAGS.get(flag.lower())
        if role:
            return role
    if name.upper() == 'INBOX':
        return INBOX
    leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
    return _NAME_TO_ROLE.get(leaf.strip().lower(), NONE)


def is_selectable(flags):
    """A \\Noselect / \\NonExistent folder is only a node in the hierarchy."""
    lowered = {(f.decode('ascii', 'replace') if isinstance(f, bytes) else f).lower() for f in flags}
    return not lowered & {'\\noselect', '\\nonexistent'}


def synced_by_default(role):
    return role not in NEVER_SYNCED
