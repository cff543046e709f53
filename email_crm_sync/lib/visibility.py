"""Who sees what of a conversation.

A conversation is private (its owner only: not colleagues, not Settings
administrators, not email-sync managers) or shared with the company at a
level. A colleague who may see a shared conversation sees its fields up to
that level:

- metadata: participants, dates, direction, counts, linked contacts and deal;
- subject: the above and the subject;
- full: the above and bodies and attachments.

Some fields (Bcc, folders, raw headers) stay the owner's whatever the level.
"""
PRIVATE, SHARED = 'private', 'shared'
METADATA, SUBJECT, FULL = 'metadata', 'subject', 'full'
OWNER = 'owner'    # a field only the owner ever sees

LEVELS = (METADATA, SUBJECT, FULL)
_RANK = {METADATA: 0, SUBJECT: 1, FULL: 2, OWNER: 3}

PLACEHOLDER = 'Private content'


def field_visible(field_level, visibility, share_level, is_owner):
    """Whether a reader sees a field classed ``field_level`` (one of LEVELS or
    OWNER) of a conversation with this ``visibility`` and ``share_level``."""
    if is_owner:
        return True
    if visibility != SHARED or share_level not in _RANK:
        return False
    return _RANK[field_level] <= _RANK[share_level]


def levels_showing(field_level):
    """The share levels at which a colleague sees a field of ``field_level``."""
    return tuple(level for level in LEVELS if _RANK[field_level] <= _RANK[level])
