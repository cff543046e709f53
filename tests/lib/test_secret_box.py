import os
import stat

import pytest

from email_crm_sync.lib import secret_box


def test_round_trip_and_ciphertext_hides_the_password(tmp_path):
    box = secret_box.SecretBox(secret_box.load_or_create_key(str(tmp_path / 'k' / 'secret.key')))
    token = box.encrypt('pässword 123')
    assert 'pässword' not in token and 'word' not in token
    assert box.decrypt(token) == 'pässword 123'
    assert box.encrypt('same') != box.encrypt('same')  # random IV: equal passwords don't show


def test_key_file_is_created_once_owner_only(tmp_path):
    path = str(tmp_path / 'secret.key')
    first = secret_box.load_or_create_key(path)
    assert secret_box.load_or_create_key(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_another_key_cannot_decrypt_and_says_what_to_do(tmp_path):
    token = secret_box.SecretBox(secret_box.load_or_create_key(str(tmp_path / 'a'))).encrypt('x')
    other = secret_box.SecretBox(secret_box.load_or_create_key(str(tmp_path / 'b')))
    with pytest.raises(secret_box.SecretError, match='Enter the password again'):
        other.decrypt(token)
