"""Which conversation a new message joins.

1. RFC 5322: a thread is known by every Message-ID it has seen, its
   messages' own and the ones they refer to (In-Reply-To, References). A
   message joins the thread holding any of its ids. Because a child's
   references are keys of its thread, a parent that arrives later finds the
   children's thread by its own Message-ID.
2. Otherwise the subject: same subject key, not generic, and two or more
   common participants with the sender among them.
3. Otherwise a new thread.

A message never moves once placed; when its ids touch two threads it joins
the oldest and the threads stay apart.
"""
import dataclasses

from . import subject_key as subjects


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A stored thread found by key or by subject."""
    thread_id: int
    participants: frozenset = frozenset()


def message_keys(message_id, in_reply_to=(), references=()):
    """The ids that tie a message to its thread, in a stable order."""
    keys = [message_id] + list(in_reply_to) + list(references)
    return tuple(dict.fromkeys(k.strip() for k in keys if k and k.strip()))


def shares_conversation(thread_participants, message_participants, sender) -> bool:
    """The product rule for threading by subject: two or more participants in
    common, the sender among them."""
    common = set(thread_participants) & set(message_participants)
    return bool(sender) and sender in common and len(common) >= 2


def choose_thread(by_key, by_subject, subject, participants, sender):
    """The thread id a message joins, or None for a new thread.

    ``by_key``: threads holding one of the message's ids (any order);
    ``by_subject``: threads with the same subject key, most recent first.
    """
    if by_key:
        return min(c.thread_id for c in by_key)
    key = subjects.subject_key(subject)
    if subjects.is_generic(key):
        return None
    for candidate in by_subject:
        if shares_conversation(candidate.participants, participants, sender):
            return candidate.thread_id
    return None
