"""Encrypt mailbox passwords at rest.

Passwords are stored encrypted (Fernet: AES-128-CBC with an HMAC-SHA256
tag) with a key that lives outside the database: a database dump or a
colleague with SQL access does not reveal them. The key is a file of its
own, created once with owner-only permissions, next to Odoo's filestore
(or given by the administrator in the Odoo configuration).
"""
import os

from cryptography.fernet import Fernet, InvalidToken


class SecretError(Exception):
    """A stored secret cannot be decrypted (wrong or missing key)."""


def load_or_create_key(path):
    """The key in ``path``; a new one is written there (mode 0600) if missing."""
    try:
        with open(path, 'rb') as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: if two workers race, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, 'rb') as handle:
            return handle.read().strip()
    with os.fdopen(fd, 'wb') as handle:
        handle.write(key)
    return key


class SecretBox:
    def __init__(self, key):
        self._fernet = Fernet(key)

    def encrypt(self, plaintext):
        return self._fernet.encrypt(plaintext.encode('utf-8')).decode('ascii')

    def decrypt(self, token):
        try:
            return self._fernet.decrypt(token.encode('ascii')).decode('utf-8')
        except (InvalidToken, ValueError):
            raise SecretError('The stored password cannot be decrypted: the encryption key '
                              'has changed. Enter the password again.') from None
