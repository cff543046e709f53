"""Move messages between folders of a mailbox (archive, trash) over IMAP.

Uses MOVE (RFC 6851) where the server offers it, else COPY + \\Deleted +
UID EXPUNGE (RFC 4315) so that only the given messages are expunged. This is
the only place that writes to a user's mailbox.
"""
import imapclient.exceptions

from . import connection_errors


def move_messages(session, source_folder, uids, target_folder):
    """Move ``uids`` of ``source_folder`` into ``target_folder``."""
    if not uids:
        return
    client = session.client
    host, port = getattr(client, 'host', '?'), getattr(client, 'port', '?')
    try:
        client.select_folder(source_folder)
        if client.has_capability('MOVE'):
            client.move(list(uids), target_folder)
        else:
            client.copy(list(uids), target_folder)
            client.delete_messages(list(uids))
            if client.has_capability('UIDPLUS'):
                client.uid_expunge(list(uids))
            else:
                client.expunge()
        client.unselect_folder() if client.has_capability('UNSELECT') else client.close_folder()
    except imapclient.exceptions.IMAPClientError as error:
        if 'TRYCREATE' in str(error) or 'NONEXISTENT' in str(error):
            raise connection_errors.ConnectionProblem(
                connection_errors.PROTOCOL,
                'The folder "%s" does not exist in the mailbox any more.' % target_folder) from None
        raise connection_errors.explain(error, host, port) from None
    except OSError as error:
        raise connection_errors.explain(error, host, port) from None
